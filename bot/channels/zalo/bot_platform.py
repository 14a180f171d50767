"""The Zalo Bot Platform channel: ``POST /zalo/webhook`` in, ``sendMessage`` out.

Zalo calls the webhook with the secret given to ``setWebhook`` in ``X-Bot-Api-Secret-Token`` (checked
in constant time; anything else gets 401 and nothing is read). The event comes as
``{"ok": true, "result": {"event_name": ..., "message": {...}}}`` or without the envelope.
Text messages go to the engine; photos, stickers and the rest get the engine's short "I can only read
text" answer; group chats are ignored (answering there could expose the person). Replies are queued by
the engine and sent by the outbox dispatcher through :meth:`ZaloBot.send`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from bot.channels.door import Door
from bot.channels.zalo import render
from bot.channels.zalo.bot_api import BotApi
from bot.channels.zalo.errors import ZaloApiError, ZaloAuthError
from bot.channels.zalo.webhook import Refused, accepted, as_id, read_json, refuse
from bot.errors import BadInput, ConfigError
from bot.messages import InboundMessage, Reply
from bot.outbox.dispatcher import GiveUp, Retry

log = logging.getLogger(__name__)

NAME = "zalo"
AUTH_HEADER = "X-Bot-Api-Secret-Token"
TEXT_EVENT = "message.text.received"


def unwrap(data: Any) -> dict[str, Any] | None:
    """The event inside ``{"ok": true, "result": ...}``, or the event itself; None if it is neither."""
    if not isinstance(data, dict):
        return None
    if ("ok" in data or "result" in data) and "event_name" not in data:
        result = data["result"] if data.get("ok") is True else None
        return result if isinstance(result, dict) else None
    return data


def parse_event(event: dict[str, Any], *, max_chars: int) -> tuple[InboundMessage | None, str]:
    """The engine's message for one event, or None and why it is ignored (never an id or a text)."""
    name = event.get("event_name")
    message = event.get("message")
    if not isinstance(name, str) or not isinstance(message, dict):
        return None, "not a message event"
    if not (name.startswith("message.") and name.endswith(".received")):
        return None, "event not handled"
    sender, chat = message.get("from"), message.get("chat")
    if not isinstance(sender, dict) or not isinstance(chat, dict):
        return None, "no sender or chat"
    user_id, chat_id = as_id(sender.get("id")), as_id(chat.get("id"))
    if user_id is None or chat_id is None:
        return None, "no sender or chat id"
    if sender.get("is_bot") is True:
        return None, "sent by a bot"
    chat_type = chat.get("chat_type")
    private = chat_type.upper() == "PRIVATE" if isinstance(chat_type, str) else chat_id == user_id
    if not private:
        return None, "group chats are not answered"
    transport_id = as_id(message.get("message_id"))
    if name != TEXT_EVENT:
        return InboundMessage(
            NAME, user_id, transport_id=transport_id, address=chat_id, kind="unsupported"
        ), ""  # fmt: skip
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        return None, "empty text"
    return InboundMessage(
        NAME, user_id, text=text[:max_chars], transport_id=transport_id, address=chat_id, kind="text"
    ), ""  # fmt: skip


class ZaloBot:
    """The Zalo Bot Platform channel (a push channel: replies go out through the outbox)."""

    name = NAME
    push = True

    def __init__(self, door: Door, token: SecretStr, webhook_secret: SecretStr) -> None:
        self.door = door
        self._secret = webhook_secret.get_secret_value().encode()
        self._http = httpx.AsyncClient()
        self.api = BotApi(door.settings.zalo_bot_api_url, token, self._http)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self._http.aclose()

    async def send(self, address: str, replies: Sequence[Reply]) -> None:
        """Send replies to a chat; ``Retry`` on rate limits and a refused token, ``GiveUp`` on a bad chat."""
        for text in render.messages(replies):
            try:
                await self.api.send_message(address, text)
            except ZaloAuthError as exc:
                log.error("%s", exc)
                raise Retry(300, "the Zalo bot token was refused") from None
            except ZaloApiError as exc:
                if exc.retry_after is not None:
                    raise Retry(exc.retry_after, "Zalo rate limit") from None
                if exc.code is not None and 400 <= exc.code < 500:
                    raise GiveUp(str(exc)) from None
                raise

    def authorised(self, request: Request) -> bool:
        given = request.headers.get(AUTH_HEADER, "").encode("utf-8", "surrogateescape")
        return secrets.compare_digest(given, self._secret)

    async def receive(self, request: Request) -> JSONResponse:
        """One webhook call: check the secret, read the event, hand it to the engine."""
        if not self.authorised(request):
            return refuse(401, f"missing or wrong {AUTH_HEADER}")
        settings = self.door.settings
        try:
            _, data = await read_json(request, settings.max_body_bytes)
        except Refused as exc:
            return refuse(exc.status, exc.reason)
        event = unwrap(data)
        if event is None:
            return accepted(ignored="not an event")
        message, reason = parse_event(event, max_chars=settings.max_text_chars)
        if message is None:
            log.info("zalo: event ignored (%s)", reason)
            return accepted(ignored=reason)
        try:
            await self.door.handle(message)
        except BadInput as exc:
            log.info("zalo: message refused (%s)", exc)
            return accepted(ignored=str(exc))
        self.door.wake()
        return accepted()

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/zalo/webhook", self.receive, methods=["POST"], include_in_schema=False)
        return router


def build(door: Door) -> ZaloBot | None:
    """The channel when ``HOTLINE_ZALO_BOT_TOKEN`` and ``HOTLINE_ZALO_BOT_WEBHOOK_SECRET`` are set."""
    settings = door.settings
    if settings.zalo_bot_token is None or settings.zalo_bot_webhook_secret is None:
        return None
    if not 8 <= len(settings.zalo_bot_webhook_secret.get_secret_value()) <= 256:
        raise ConfigError(
            "HOTLINE_ZALO_BOT_WEBHOOK_SECRET must be 8 to 256 characters (Zalo's setWebhook rule)."
        )
    return ZaloBot(door, settings.zalo_bot_token, settings.zalo_bot_webhook_secret)
