"""The Zalo Official Account channel (OA API v3): ``POST /zalo-oa/webhook`` in, customer-service messages out.

Every webhook call is signed: ``X-ZEvent-Signature: mac=<sha256 hex of app_id + raw body + timestamp +
OA secret key>``, with the ``timestamp`` (milliseconds) from the body. A wrong or missing signature gets
401, a timestamp further than ``HOTLINE_ZALO_OA_MAX_TIMESTAMP_SKEW_SECONDS`` from now gets 403 (a
replay), and nothing is processed. ``user_send_text`` goes to the engine (de-duplicated by
``message.msg_id``); photos, stickers and the like get the engine's "I can only read text";
``user_withdraw`` (the person asks the OA's partners to delete their data) deletes everything kept about
them, as "delete my data" does; other events (follows, read receipts, the echoes of our own messages)
are acknowledged and ignored.

A body without an ``event_name`` is not an event: Zalo checks a webhook URL with such a call (an unsigned
``{}``) and expects 200, else the URL cannot be saved (public integrations: "Webhook luôn phải trả về
HTTP Code 200 OK", https://hainh.me/zalo-api-php-webhook-callback-official-account.html; a partner's
portal refuses a webhook whose test POST is not answered 200,
https://developers-zns.goby.vn/dang-ky-nhan-thong-bao-qua-webhook). It gets 200 and a log line, and
nothing is read from it or written; anything carrying an event is signature-checked as above.

Replies leave through :meth:`ZaloOa.send`: packed into as few messages as fit (each counts against the
free-reply window, :mod:`.oa_window`), sent with the current access token, refreshed once on -216
(:mod:`.oa_tokens`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from bot.channels.door import ChannelStore, Door
from bot.channels.zalo import render
from bot.channels.zalo.errors import ZaloApiError, ZaloAuthError
from bot.channels.zalo.oa_api import EXPIRED_TOKEN, SENT, OaApi
from bot.channels.zalo.oa_tokens import OaTokens
from bot.channels.zalo.oa_window import REASON, ReplyWindow
from bot.channels.zalo.webhook import Refused, accepted, as_id, read_json, refuse
from bot.errors import BadInput
from bot.messages import InboundMessage, Reply
from bot.outbox.dispatcher import Hold, Retry
from bot.store.outbox import release_held

log = logging.getLogger(__name__)

NAME = "zalo_oa"
SIGNATURE_HEADER = "X-ZEvent-Signature"
TEXT_EVENT = "user_send_text"
# The person asks the OA's partners to delete their data. Its body is not in Zalo's pages we could read;
# the person is taken from ``sender.id`` as in every user event (or ``follower.id``, ``user_id``).
WITHDRAW_EVENT = "user_withdraw"
# What else a person can send; the engine answers that it reads text only.
OTHER_USER_EVENTS = frozenset(
    {
        "user_send_image", "user_send_gif", "user_send_sticker", "user_send_audio", "user_send_video",
        "user_send_file", "user_send_link", "user_send_location", "user_send_business_card",
    }
)  # fmt: skip
# Zalo's "the person has not written recently" answers, seen in public integrations (not in Zalo's own
# pages): if our count ever disagrees with Zalo's, the message waits instead of being lost.
WINDOW_CLOSED_CODES = frozenset({-213, -230})


def signature(app_id: str, body: bytes, timestamp: str, secret_key: str) -> str:
    """The ``X-ZEvent-Signature`` Zalo computes for a webhook call."""
    digest = hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret_key.encode())
    return "mac=" + digest.hexdigest()


def event_time(timestamp: str) -> datetime | None:
    """Zalo's timestamp (milliseconds since 1970; seconds accepted too) as a UTC time."""
    if not timestamp.isdigit() or len(timestamp) > 16:
        return None
    value = int(timestamp)
    return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, UTC)


def parse_event(event: dict[str, Any], *, max_chars: int) -> tuple[InboundMessage | None, str]:
    """The engine's message for one event, or None and why it is ignored (never an id or a text)."""
    name = event.get("event_name")
    if not isinstance(name, str):
        return None, "not an event"
    if name != TEXT_EVENT and name not in OTHER_USER_EVENTS:
        return None, "event not handled"
    sender, message = event.get("sender"), event.get("message")
    user_id = as_id(sender.get("id")) if isinstance(sender, dict) else None
    if user_id is None or not isinstance(message, dict):
        return None, "no sender or message"
    transport_id = as_id(message.get("msg_id"))
    if name != TEXT_EVENT:
        return InboundMessage(
            NAME, user_id, transport_id=transport_id, address=user_id, kind="unsupported"
        ), ""  # fmt: skip
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        return None, "empty text"
    return InboundMessage(
        NAME, user_id, text=text[:max_chars], transport_id=transport_id, address=user_id, kind="text"
    ), ""  # fmt: skip


def withdrawn_person(event: dict[str, Any]) -> str | None:
    """The OA-scoped id of the person in a ``user_withdraw`` event, or None."""
    for holder in ("sender", "follower"):
        value = event.get(holder)
        if isinstance(value, dict) and as_id(value.get("id")) is not None:
            return as_id(value.get("id"))
    return as_id(event.get("user_id"))


class ZaloOa:
    """The Official Account channel (a push channel: replies go out through the outbox)."""

    name = NAME
    push = True

    def __init__(self, door: Door, store: ChannelStore, app_id: str, secret_key: SecretStr) -> None:
        self.door = door
        self.store = store  # the OA's tokens, its reply window, and its held replies
        self._app_id = app_id
        self._secret_key = secret_key
        settings = door.settings
        self._skew = timedelta(seconds=settings.zalo_oa_max_timestamp_skew_seconds)
        self._http = httpx.AsyncClient()
        self.api = OaApi(settings.zalo_oa_api_url, settings.zalo_oa_oauth_url, self._http)
        self.tokens = OaTokens(
            sessionmaker=store.sessionmaker,
            crypto=store.crypto,
            clock=store.clock,
            settings=settings,
            api=self.api,
        )
        self.window = ReplyWindow(
            channel=NAME,
            sessionmaker=store.sessionmaker,
            crypto=store.crypto,
            clock=store.clock,
            count_parts=lambda replies: len(render.messages(replies, pack=True)),
        )

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self._http.aclose()

    async def send(self, address: str, replies: Sequence[Reply]) -> None:
        """Send a batch if the free-reply window allows it; else it is held (see :mod:`.oa_window`)."""
        parts = render.messages(replies, pack=True)
        if not parts:
            return
        await self.window.admit(address, len(parts))
        for text in parts:
            await self._send_one(address, text)

    async def _send_one(self, user_id: str, text: str) -> None:
        try:
            pair = await self.tokens.current()
            code, message = await self.api.send_text(pair.access_token, user_id, text)
            if code == EXPIRED_TOKEN:
                pair = await self.tokens.refresh(pair.access_token)
                code, message = await self.api.send_text(pair.access_token, user_id, text)
        except ZaloAuthError as exc:
            log.error("zalo-oa: %s", exc)
            raise Retry(600, "no working OA access token") from None
        if code == SENT:
            return
        if code in WINDOW_CLOSED_CODES:
            raise Hold(REASON)
        if code == EXPIRED_TOKEN:
            raise Retry(300, "the OA access token was refused right after a refresh")
        raise ZaloApiError(code, message)

    def verify(self, request: Request, body: bytes, data: dict[str, Any]) -> Refused | None:
        """Why this call must be refused (bad signature 401, stale or foreign 403), or None."""
        given = request.headers.get(SIGNATURE_HEADER, "").strip().lower()
        timestamp = data.get("timestamp")
        if isinstance(timestamp, int) and not isinstance(timestamp, bool):
            timestamp = str(timestamp)
        if not given or not isinstance(timestamp, str):
            return Refused(401, f"missing {SIGNATURE_HEADER} or timestamp")
        expected = signature(self._app_id, body, timestamp, self._secret_key.get_secret_value())
        if not secrets.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode()):
            return Refused(401, f"wrong {SIGNATURE_HEADER}")
        when = event_time(timestamp)
        if when is None or abs(self.door.clock.now() - when) > self._skew:
            return Refused(403, "the timestamp is too old or in the future")
        if as_id(data.get("app_id")) not in (None, self._app_id):
            return Refused(403, "the event is for another app")
        return None

    async def receive(self, request: Request) -> JSONResponse:
        """One webhook call: verify it, hand the person's message to the engine, release held replies."""
        door = self.door
        try:
            body, data = await read_json(request, door.settings.max_body_bytes)
        except Refused as exc:
            return refuse(exc.status, exc.reason)
        if not isinstance(data, dict):
            return refuse(400, "the body must be a JSON object")
        if "event_name" not in data:
            # Zalo's check of the webhook URL (see the module's docstring): nothing in it is read.
            log.info("zalo-oa: a call without an event (Zalo checking the webhook URL) answered 200")
            return accepted(ignored="not an event")
        refused = self.verify(request, body, data)
        if refused is not None:
            return refuse(refused.status, refused.reason)
        if data["event_name"] == WITHDRAW_EVENT:
            return await self._withdraw(data)
        message, reason = parse_event(data, max_chars=door.settings.max_text_chars)
        if message is None:
            log.info("zalo-oa: event ignored (%s)", reason)
            return accepted(ignored=reason)
        try:
            outcome = await door.handle(message)
        except BadInput as exc:
            log.info("zalo-oa: message refused (%s)", exc)
            return accepted(ignored=str(exc))
        if outcome.conversation_id is not None:
            # The person wrote: the window is open again, so what waited may go (in its order).
            async with self.store.sessionmaker() as session, session.begin():
                await release_held(session, conversation_id=outcome.conversation_id, now=door.clock.now())
        door.wake()
        return accepted()

    async def _withdraw(self, event: dict[str, Any]) -> JSONResponse:
        """``user_withdraw``: delete everything kept about the person (no reply: they asked us to forget)."""
        user_id = withdrawn_person(event)
        if user_id is None:
            log.info("zalo-oa: user_withdraw without a person ignored")
            return accepted(ignored="no sender")
        erased = await self.door.forget(NAME, user_id)
        log.info("zalo-oa: user_withdraw: %s", "the person's data deleted" if erased else "nothing was kept")
        self.door.wake()
        return accepted()

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/zalo-oa/webhook", self.receive, methods=["POST"], include_in_schema=False)
        return router


def build(door: Door, *, store: ChannelStore) -> ZaloOa | None:
    """The channel when ``HOTLINE_ZALO_OA_APP_ID`` and ``HOTLINE_ZALO_OA_SECRET_KEY`` are set."""
    settings = door.settings
    if not settings.zalo_oa_app_id or settings.zalo_oa_secret_key is None:
        return None
    return ZaloOa(door, store, settings.zalo_oa_app_id, settings.zalo_oa_secret_key)
