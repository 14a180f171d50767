"""Facebook Messenger: ``/messenger/webhook`` in (Meta Webhooks), the Send API out.

Facts this module relies on, from Meta's pages (read December 2026):

* Webhooks: a ``GET`` with ``hub.mode=subscribe``, ``hub.verify_token`` and ``hub.challenge`` when the
  callback URL is saved (answer the challenge when the token matches); every ``POST`` carries
  ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the app secret>``; the body is
  ``{"object": "page", "entry": [{"messaging": [...]}]}``.
  https://developers.facebook.com/docs/messenger-platform/webhook-reference ,
  https://developers.facebook.com/docs/graph-api/webhooks/getting-started
* Send API: ``POST https://graph.facebook.com/{version}/me/messages?access_token={PAGE_ACCESS_TOKEN}``
  with ``recipient.id`` (the PSID), ``messaging_type`` and ``message``.
  https://developers.facebook.com/docs/messenger-platform/reference/send-api/
* Quick replies: at most 13 on a text message; a tap comes back as a message with
  ``message.quick_reply.payload``. https://developers.facebook.com/docs/messenger-platform/send-messages/quick-replies/
  A title "allows up to 20 characters before being truncated" (Meta's page for the same quick replies on
  Instagram: https://developers.facebook.com/docs/messenger-platform/instagram/features/quick-replies/).
  A truncated label could be misread, so longer labels make us fall back to numbered text.
* Standard messaging: "your app has up to 24 hours to respond" to a person's message; outside it only
  tagged messages. https://developers.facebook.com/docs/messenger-platform/send-messages ,
  https://developers.facebook.com/documentation/business-messaging/messenger-platform/policy/
  The ``HUMAN_AGENT`` tag lets a human agent answer up to 7 days after the person's last message, for
  apps Meta approved for it, and never for automated messages (Meta's message-tags page,
  https://developers.facebook.com/docs/messenger-platform/send-messages/message-tags , as quoted by
  several integrations; the page itself was not in the stored copies we could read).
* Errors: ``{"error": {"code", "error_subcode", "message"}}``; 190 an invalid token, 10 / 2018278 "sent
  outside of allowed window". https://developers.facebook.com/docs/messenger-platform/error-codes

Not sourced from a Meta page we could read, so chosen conservatively: the text limit (2,000 characters,
as a Meta partner's Messenger API documents; we count UTF-16 units, so an emoji counts twice and a part is
never longer than Meta's count) and 551 "this person isn't available right now" (widely reported; given up).

What the webhook does: 401 (and nothing read further) for a missing or wrong signature; 413 past the size
limit; 400 for a body that is not JSON; 200 for everything else, so that Meta does not retry what we
deliberately ignore (other objects, echoes of our own messages, delivery and read receipts, reactions,
shapes we do not know; each with a log line saying why, never an id or a text). Text messages, quick-reply
taps and postbacks (Get Started) go to the engine, de-duplicated by Meta's ``mid``; attachments without
text get the engine's "I can only read text" answer.

What sending does: the person's replies go out through the outbox (:meth:`Messenger.send`). Within 24
hours of the person's last message they go as ``RESPONSE``; later, a counsellor's own words go with the
``HUMAN_AGENT`` tag when ``HOTLINE_MESSENGER_HUMAN_AGENT_TAG`` allows it and the 7 days are not over;
anything else (an automated "nobody answered", or past 7 days) is *held*, not lost: the counsellor is
told why, and it goes when the person writes again, as Zalo OA's window does (:mod:`bot.outbox.dispatcher`,
``Hold``).

Everything this module takes from the running service is wired in :func:`build`; the channel itself
gets plain callables (hand a message to the engine, wake the dispatcher, read the person's last message
time, release held messages) and its settings.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import SecretStr

from bot.channels import kit
from bot.channels.kit import accepted
from bot.errors import BadInput, ConfigError, HotlineError
from bot.http.jsonbody import BadJson, parse_json
from bot.http.limits import read_body
from bot.messages import BY_COUNSELLOR, InboundMessage, Outcome, Reply
from bot.metrics import webhook_refused
from bot.outbox.dispatcher import GiveUp, Hold, Retry

if TYPE_CHECKING:
    from bot.channels.door import ChannelStore, Door

log = logging.getLogger(__name__)

NAME = "messenger"
PATH = "/messenger/webhook"
SIGNATURE_HEADER = "X-Hub-Signature-256"
GET_STARTED = "GET_STARTED"  # the Get Started button's payload (deploy/messenger.md sets it)
MAX_BODY = 512_000  # a batch of events with texts of 2,000 characters; anything bigger is not from Meta

TEXT_LIMIT = 2000
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE = 20
# The quick reply's payload; the reference says 1,000 characters (not in the copies we read). Our choice
# ids are a few dozen characters; a longer one falls back to numbered text rather than being refused.
PAYLOAD_LIMIT = 1000
WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
REASON = "messenger_window"  # the staff notice's code (flows/strings.yaml: staff_notice_messenger_window)

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
INVALID_TOKEN = 190
OUTSIDE_WINDOW = (10, 2018278)
# Temporary failures Meta asks to retry (the error-codes page): 1200 "temporary send message failure",
# 2 "unexpected error, please retry", 1 "an unknown error"; rate limits: 4 (application), 613 (calls to
# this API), and 17 / 32, the Graph API's user and Page request limits (from Graph API's own error
# handling, not the Messenger page): all tried again, never given up.
TEMPORARY_CODES = frozenset({1, 2, 1200})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
UNAVAILABLE = 551
NO_MATCHING_USER = (100, 2018001)

_LONG_NUMBER = re.compile(r"\d{6,}")

Handle = Callable[[InboundMessage], Awaitable[Outcome]]
LastSeen = Callable[[str], Awaitable[datetime | None]]
Release = Callable[[str], Awaitable[int]]


def scrub(text: object, limit: int = 160) -> str:
    """Meta's error text made safe to log and store: long numbers (ids) removed, kept short."""
    return _LONG_NUMBER.sub("[id]", str(text))[:limit]


def signature(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` Meta sends with a webhook call."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


# -- the webhook: Meta's events as the engine's messages -------------------------------------------------


def _id(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and value.strip() and len(value) <= 128:
        return value.strip()
    return None


def parse_event(event: object, *, max_chars: int) -> tuple[InboundMessage | None, str]:
    """The engine's message for one ``messaging`` item, or None and why it is ignored (never an id or a
    text)."""
    if not isinstance(event, dict):
        return None, "not an event"
    psid = _id(event.get("sender"))
    message, postback = event.get("message"), event.get("postback")
    if isinstance(message, dict) and message.get("is_echo"):
        return None, "the echo of the page's own message"
    if "delivery" in event:
        return None, "a delivery receipt"
    if "read" in event:
        return None, "a read receipt"
    if "reaction" in event:
        return None, "a reaction"
    if psid is None:
        return None, "no sender"
    if isinstance(postback, dict):
        payload = postback.get("payload")
        if not isinstance(payload, str) or not payload.strip():
            return None, "a postback without a payload"
        ref = _id(postback.get("mid")) or f"pb:{psid}:{event.get('timestamp')}"  # hashed, never stored
        if payload == GET_STARTED:
            return InboundMessage(NAME, psid, transport_id=ref, address=psid, kind="start"), ""
        return InboundMessage(NAME, psid, choice=payload, transport_id=ref, address=psid, kind="choice"), ""
    if not isinstance(message, dict):
        return None, "event not handled"
    mid = _id(message.get("mid"))
    quick = message.get("quick_reply")
    if isinstance(quick, dict) and isinstance(quick.get("payload"), str) and quick["payload"]:
        return InboundMessage(
            NAME, psid, choice=quick["payload"], transport_id=mid, address=psid, kind="choice"
        ), ""  # fmt: skip
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        return InboundMessage(
            NAME, psid, text=text[:max_chars], transport_id=mid, address=psid, kind="text"
        ), ""  # fmt: skip
    if message.get("attachments") or message.get("sticker_id"):
        return InboundMessage(NAME, psid, transport_id=mid, address=psid, kind="unsupported"), ""
    return None, "empty message"


def events(data: dict[str, Any]) -> list[object]:
    """Every ``messaging`` item of every entry (``standby`` items belong to another app: not ours)."""
    found: list[object] = []
    entries = data.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("messaging"), list):
            found.extend(entry["messaging"])
    return found


# -- rendering: replies as Send API messages -------------------------------------------------------------


def units(text: str) -> int:
    """Length in UTF-16 code units (an emoji counts twice): never more than Meta's own count."""
    return len(text.encode("utf-16-le")) // 2


def split(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut a text into parts of at most ``limit`` UTF-16 units (:func:`bot.channels.kit.split`)."""
    return kit.split(text, limit, units)


def fits_quick_replies(reply: Reply) -> bool:
    """Whether Meta can show these choices as quick replies without cutting a label."""
    return 0 < len(reply.choices) <= MAX_QUICK_REPLIES and all(
        0 < len(c.label) <= QUICK_REPLY_TITLE and 0 < len(c.id) <= PAYLOAD_LIMIT for c in reply.choices
    )


def messages(replies: Sequence[Reply], *, quick_replies: bool = True) -> list[dict[str, Any]]:
    """The Send API ``message`` objects for one batch of replies.

    The last list of choices in the batch (the node the conversation now waits on) becomes quick replies
    on the batch's last message when they fit; else it is a numbered list, answered with the number or the
    label (the engine accepts both). Earlier lists (related articles) are bullets, so a number is never
    ambiguous.
    """
    last = max((i for i, reply in enumerate(replies) if reply.choices), default=-1)
    quick = quick_replies and last >= 0 and fits_quick_replies(replies[last])
    texts: list[str] = []
    for i, reply in enumerate(replies):
        shown_as_quick = i == last and quick  # the choices go out as quick replies, not as text
        texts.extend(split(reply.text if shown_as_quick else kit.block(reply, numbered=i == last)))
    out: list[dict[str, Any]] = [{"text": text} for text in texts]
    if quick:
        if not out:  # Meta needs a text (or an attachment) to carry quick replies
            out.append({"text": "…"})
        out[-1]["quick_replies"] = [
            {"content_type": "text", "title": c.label, "payload": c.id} for c in replies[last].choices
        ]
    return out


# -- the Send API ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendApi:
    """``POST {base}/{version}/me/messages``; the token goes as ``access_token`` (Meta's documented way)
    and is never put into an error or a log line (nor is the URL that carries it)."""

    base_url: str
    version: str
    token: SecretStr
    http: httpx.AsyncClient

    async def send(self, psid: str, message: dict[str, Any], *, tag: str | None = None) -> None:
        """Send one message; ``Retry``, ``Hold`` or ``GiveUp`` when Meta does not take it."""
        body: dict[str, Any] = {"recipient": {"id": psid}, "message": message}
        body |= {"messaging_type": "MESSAGE_TAG", "tag": tag} if tag else {"messaging_type": "RESPONSE"}
        url = f"{self.base_url.rstrip('/')}/{self.version}/me/messages"
        try:
            response = await self.http.post(
                url, params={"access_token": self.token.get_secret_value()}, json=body, timeout=TIMEOUT
            )
        except httpx.HTTPError as exc:
            raise Retry(10, f"the Send API is unreachable ({type(exc).__name__})") from None
        if response.status_code < 300:
            return
        raise failure(response)

    async def page_name(self) -> str:
        """The Page's name: a cheap call that proves the token works (``hotline doctor``);
        :class:`MessengerError` when it does not."""
        url = f"{self.base_url.rstrip('/')}/{self.version}/me"
        query = {"fields": "name", "access_token": self.token.get_secret_value()}
        try:
            response = await self.http.get(url, params=query, timeout=TIMEOUT)
            data = response.json()
        except httpx.HTTPError as exc:
            raise MessengerError(None, f"the Graph API is unreachable ({type(exc).__name__})") from None
        except ValueError:
            raise MessengerError(response.status_code, "the answer is not JSON") from None
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) or response.status_code >= 300 or not isinstance(data, dict):
            code = error.get("code") if isinstance(error, dict) else response.status_code
            message = error.get("message") if isinstance(error, dict) else "no description"
            raise MessengerError(code if isinstance(code, int) else None, scrub(message))
        return str(data.get("name") or "the Page")


class MessengerError(HotlineError):
    """The Graph API refused a call (``code`` is Meta's error code; None when unreachable)."""

    def __init__(self, code: int | None, description: str) -> None:
        super().__init__(f"Messenger error {code}: {description}" if code is not None else description)
        self.code = code


def failure(response: httpx.Response) -> Exception:
    """What to do about a refused send: the dispatcher's ``Retry``, ``Hold`` or ``GiveUp``."""
    status = response.status_code
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        error = {}
    code, subcode = error.get("code"), error.get("error_subcode")
    what = f"Messenger error {code if code is not None else status}" + (f"/{subcode}" if subcode else "")
    detail = f"{what}: {scrub(error.get('message') or 'no description')}"
    if status >= 500 or code in TEMPORARY_CODES:
        return Retry(10, detail)
    if status == 429 or code in RATE_LIMIT_CODES:
        return Retry(60, detail)
    if code == INVALID_TOKEN:
        # Nothing can go out until someone fixes the token: keep the message (it may be an emergency
        # answer) and say loudly what to do; the dispatcher gives up after its maximum of attempts.
        log.error(
            "messenger: Meta refused the page token: check HOTLINE_MESSENGER_PAGE_TOKEN (hotline doctor)"
        )
        return Retry(300, detail)
    if (code, subcode) == OUTSIDE_WINDOW:
        return Hold(REASON)  # Meta counts the window differently from us: wait for the person
    if code == UNAVAILABLE or (code, subcode) == NO_MATCHING_USER:
        return GiveUp(f"the person cannot be reached on Messenger ({detail})")
    return GiveUp(detail)


# -- the channel -----------------------------------------------------------------------------------------


class Messenger:
    """The Messenger channel (a push channel: replies go out through the outbox)."""

    name = NAME
    push = True

    def __init__(
        self,
        *,
        handle: Handle,
        wake: Callable[[], None],
        last_seen: LastSeen,
        release: Release,
        now: Callable[[], datetime],
        page_token: SecretStr,
        app_secret: SecretStr,
        verify_token: SecretStr,
        api_url: str,
        api_version: str,
        human_agent_tag: bool,
        max_body_bytes: int,
        max_text_chars: int,
    ) -> None:
        self._handle = handle
        self._wake = wake
        self._last_seen = last_seen
        self._release = release
        self._now = now
        self._app_secret = app_secret.get_secret_value()
        self._verify_token = verify_token.get_secret_value().encode()
        self._human_agent_tag = human_agent_tag
        self._max_body = min(MAX_BODY, max_body_bytes)
        self._max_chars = max_text_chars
        self._http = httpx.AsyncClient()
        self.api = SendApi(api_url, api_version, page_token, self._http)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self._http.aclose()

    # -- out ---------------------------------------------------------------------------------------

    async def send(self, address: str, replies: Sequence[Reply]) -> None:
        """Send a batch to a PSID, as ``RESPONSE`` inside the 24 hours, tagged or held outside them."""
        tag = await self._window(address, by_counsellor=all(BY_COUNSELLOR in r.tags for r in replies))
        for message in messages(replies, quick_replies=tag is None):
            await self.api.send(address, message, tag=tag)

    async def _window(self, address: str, *, by_counsellor: bool) -> str | None:
        """None inside the 24 hours, ``HUMAN_AGENT`` when that tag may be used (a counsellor's own words,
        within 7 days, and the setting allows it); else ``Hold``.

        Messages held earlier go first: when the window is open again and some wait, they are put back in
        the queue and this one is tried again after them (``Retry``).
        """
        last_seen = await self._last_seen(address)
        if last_seen is None:
            # No conversation: the person has just deleted theirs and this is the confirmation, an answer
            # to their own message (nobody can write to a deleted conversation). Should Meta find the
            # window closed after all, it is held, and erased as every such message is.
            return None
        age = self._now() - last_seen
        if age < WINDOW:
            tag = None
        elif self._human_agent_tag and by_counsellor and age < HUMAN_AGENT_WINDOW:
            tag = "HUMAN_AGENT"
        else:
            raise Hold(REASON)
        if await self._release(address):
            raise Retry(0, "messages held earlier go first")
        return tag

    # -- in ----------------------------------------------------------------------------------------

    async def verify(self, request: Request) -> Response:
        """Meta's handshake when the callback URL is saved: the challenge back if the token matches."""
        query = request.query_params
        given = query.get("hub.verify_token", "").encode("utf-8", "surrogateescape")
        challenge = query.get("hub.challenge", "")
        if query.get("hub.mode") != "subscribe" or not secrets.compare_digest(given, self._verify_token):
            webhook_refused(NAME, 403)
            return PlainTextResponse("wrong hub.mode or hub.verify_token", status_code=403)
        return PlainTextResponse(challenge[:256])

    def signed(self, request: Request, body: bytes) -> bool:
        given = request.headers.get(SIGNATURE_HEADER, "").strip().lower()
        expected = signature(body, self._app_secret)
        return secrets.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())

    async def receive(self, request: Request) -> JSONResponse:
        """One webhook call: check the signature, then hand each person's message to the engine."""
        if not request.headers.get(SIGNATURE_HEADER):
            return refuse(401, f"missing {SIGNATURE_HEADER}")
        body = await read_body(request, self._max_body)  # 413 past the limit
        if not self.signed(request, body):
            return refuse(401, f"wrong {SIGNATURE_HEADER}")
        try:
            data = parse_json(body)
        except BadJson as exc:
            return refuse(400, str(exc))
        if not isinstance(data, dict) or data.get("object") != "page":
            log.info("messenger: call ignored (not a page event)")
            return accepted(ignored="not a page event")
        ignored: list[str] = []
        for event in events(data):
            message, reason = parse_event(event, max_chars=self._max_chars)
            if message is None:
                log.info("messenger: event ignored (%s)", reason)
                ignored.append(reason)
                continue
            try:
                outcome = await self._handle(message)
            except BadInput as exc:
                log.info("messenger: message refused (%s)", exc)
                ignored.append(str(exc))
                continue
            if not outcome.duplicate and message.address is not None:
                # The person wrote: the window is open again, so what waited may go (in its order).
                await self._release(message.address)
        self._wake()
        return accepted(ignored="; ".join(sorted(set(ignored))) or None)

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route(PATH, self.verify, methods=["GET"], include_in_schema=False)
        router.add_api_route(PATH, self.receive, methods=["POST"], include_in_schema=False)
        return router


def refuse(status: int, reason: str) -> JSONResponse:
    return kit.refuse(NAME, status, reason)


def build(door: Door, *, store: ChannelStore) -> Messenger | None:
    """The channel when the page token, app secret and verify token are all set (``HOTLINE_MESSENGER_*``).

    What it is given: the engine and the dispatcher's wake-up through the door, and, through its store,
    the conversation's last message time (the window) and the messages held for it.
    """
    from bot.store import conversations
    from bot.store.outbox import release_held

    settings = door.settings
    given = (settings.messenger_page_token, settings.messenger_app_secret, settings.messenger_verify_token)
    if all(value is None for value in given):
        return None
    page_token, app_secret, verify_token = given
    if page_token is None or app_secret is None or verify_token is None:
        raise ConfigError(
            "Messenger needs HOTLINE_MESSENGER_PAGE_TOKEN, HOTLINE_MESSENGER_APP_SECRET and "
            "HOTLINE_MESSENGER_VERIFY_TOKEN together (deploy/messenger.md)."
        )
    sessionmaker, crypto, clock = store.sessionmaker, store.crypto, store.clock

    async def last_seen(psid: str) -> datetime | None:
        key = crypto.user_key(NAME, psid)
        async with sessionmaker() as session:
            conversation = await conversations.find(session, channel=NAME, user_key=key)
            return None if conversation is None else conversation.last_seen_at

    async def release(psid: str) -> int:
        key = crypto.user_key(NAME, psid)
        async with sessionmaker() as session, session.begin():
            conversation = await conversations.find(session, channel=NAME, user_key=key)
            if conversation is None:
                return 0
            return await release_held(session, conversation_id=conversation.id, now=clock.now())

    return Messenger(
        handle=door.handle,
        wake=door.wake,
        last_seen=last_seen,
        release=release,
        now=clock.now,
        page_token=page_token,
        app_secret=app_secret,
        verify_token=verify_token,
        api_url=settings.messenger_api_url,
        api_version=settings.messenger_api_version,
        human_agent_tag=settings.messenger_human_agent_tag,
        max_body_bytes=settings.max_body_bytes,
        max_text_chars=settings.max_text_chars,
    )
