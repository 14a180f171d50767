"""The web chat: a page at ``/`` and a small JSON API, no account, no cookies.

``POST /api/webchat`` takes ``{"session": "...", "text": "..."}``, ``{"session": "...", "choice": "<id>"}``
or ``{"session": "...", "event": "start"}`` (optionally ``"id"``, the client's message id, so a retried
request is answered once) and answers ``{"replies": [{"text": ..., "choices": [{"id", "label"}]}]}``.
The session is an opaque random id the page keeps in ``sessionStorage``. Messages a counsellor writes
later wait in the outbox (kind ``inbox``) until the page asks for them: ``POST /api/webchat/poll``, at
once when its event stream rings (``POST /api/webchat/stream``, then ``GET /api/webchat/events``;
:mod:`bot.channels.webchat_push`), every 5 s otherwise. A new session from an address over its cap
(``HOTLINE_FLOOD_SESSIONS_*``) gets 429, with the emergency numbers as replies, and nothing is written.
The POSTs take only ``application/json`` from the service's own origin or a listed one (415, 403:
:mod:`bot.http.cross_site`), and JSON read by :mod:`bot.http.jsonbody` (400 when bad or too deep).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from bot.channels.door import Door
from bot.channels.kit import Refused, read_json
from bot.channels.webchat_push import InboxBell, TooManyStreams
from bot.engine.floods import address_key
from bot.engine.inbox import Inbox
from bot.errors import BadInput
from bot.http.clients import client_address
from bot.http.cross_site import allowed_origins, refuse_cross_site
from bot.http.direct import Endpoint
from bot.messages import InboundMessage, Reply

NAME = "webchat"
# Matched whole (fullmatch): with match() and "$", "<id>\n" passed, as "$" also matches before a final newline.
SESSION = re.compile(r"[A-Za-z0-9_-]{16,128}")
MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
MAX_BODY = 64_000


async def _session_of(request: Request, origins: frozenset[str]) -> str | JSONResponse:
    """The session id of a small ``{"session": ...}`` body, or the refusal to send back (400 to 422)."""
    refused = refuse_cross_site(request, origins)
    if refused is not None:
        return refused
    try:
        _, data = await read_json(request, 4_000)
    except Refused as exc:
        return _error(exc.status, exc.reason)
    session_id = data.get("session") if isinstance(data, dict) else None
    if not isinstance(session_id, str) or not SESSION.fullmatch(session_id):
        return _error(422, "`session` must be an opaque id of 16-128 letters, digits, - or _")
    return session_id


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class WebChat:
    """The web chat channel (answers inside the HTTP response)."""

    name = NAME
    push = False

    def __init__(self, door: Door, inbox: Inbox) -> None:
        self.door = door
        self.inbox = inbox
        self.bell = InboxBell(
            inbox,
            max_streams=door.settings.webchat_max_streams,
            check_seconds=door.settings.webchat_check_seconds,
        )
        self.bell.watch()  # this process's commits ring at once; on PostgreSQL, other processes' too

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.bell.close()

    def end_streams(self) -> None:
        """End the pages' event streams at once (the server is shutting down and waits for requests)."""
        self.bell.end_streams()

    async def send(self, address: str, replies: Sequence[Reply]) -> None:
        raise NotImplementedError("the web chat fetches its messages; nothing is pushed")

    def parse(self, data: Any, client_key: str | None = None) -> InboundMessage:
        """Turn the JSON body into a message (from the client of ``client_key``, :meth:`client_key`), or
        raise :class:`BadInput` saying what is wrong."""
        if not isinstance(data, dict):
            raise BadInput("the body must be a JSON object")
        session = data.get("session")
        if not isinstance(session, str) or not SESSION.fullmatch(session):
            raise BadInput("`session` must be an opaque id of 16-128 letters, digits, - or _")
        given = [key for key in ("text", "choice", "event") if data.get(key) is not None]
        if len(given) != 1:
            raise BadInput("send exactly one of `text`, `choice` or `event`")
        message_id = data.get("id")
        if message_id is not None and (
            not isinstance(message_id, str) or not MESSAGE_ID.fullmatch(message_id)
        ):
            raise BadInput("`id` must be a short text of letters, digits and - _ . :")
        transport_id = f"{session}:{message_id}" if message_id else None
        key = given[0]
        value = data[key]
        if not isinstance(value, str):
            raise BadInput(f"`{key}` must be a text")
        if key == "text":
            if not value.strip():
                raise BadInput("`text` is empty")
            return InboundMessage(
                NAME, session, text=value, transport_id=transport_id, kind="text", client_key=client_key
            )
        if key == "choice":
            return InboundMessage(
                NAME, session, choice=value, transport_id=transport_id, kind="choice", client_key=client_key
            )
        if value != "start":
            raise BadInput("the only `event` is `start`")
        return InboundMessage(NAME, session, transport_id=transport_id, kind="start", client_key=client_key)

    def router(self) -> APIRouter:
        router = APIRouter()
        origins = self._origins

        @router.get("/", include_in_schema=False)
        async def page() -> FileResponse:
            return FileResponse(STATIC / "chat.html", headers=_PAGE_HEADERS)

        router.add_api_route("/api/webchat", self.post_message, methods=["POST"], name="webchat")

        @router.post("/api/webchat/poll")
        async def poll(request: Request) -> JSONResponse:
            session_id = await _session_of(request, origins)
            if isinstance(session_id, JSONResponse):
                return session_id
            replies = await self.inbox.take(session_id)
            return JSONResponse({"replies": [r.to_json() for r in replies]})

        self._push_routes(router, origins)
        return router

    def direct_routes(self) -> dict[tuple[str, str], Endpoint]:
        """``POST /api/webchat``, served past FastAPI's router (:mod:`bot.http.direct`): it takes only the
        request, and the router's own work cost about a twelfth of a message's time (measured,
        ``benchmarks/webchat_profile.py``). It stays on the router too (the schema)."""
        return {("POST", "/api/webchat"): self.post_message}

    @functools.cached_property
    def _origins(self) -> frozenset[str]:
        settings = self.door.settings
        return allowed_origins(settings.public_url, settings.webchat_origins)

    async def post_message(self, request: Request) -> JSONResponse:
        """``POST /api/webchat``: one message in, its replies out (or a refusal saying why)."""
        settings = self.door.settings
        refused = refuse_cross_site(request, self._origins)
        if refused is not None:
            return refused
        try:
            _, data = await read_json(request, min(MAX_BODY, settings.max_body_bytes))
        except Refused as exc:
            return _error(exc.status, exc.reason)
        try:
            # made with the client's key at once (a copy of the message with it cost a third as much)
            message = self.parse(data, self.client_key(request))
            if message.text is not None and len(message.text) > settings.max_text_chars:
                return _error(413, f"`text` is longer than {settings.max_text_chars} characters")
            self.door.check(message)  # a refused message is never counted below
            if not await self.door.admit(message):
                return self.flood_refusal()
            outcome = await self.door.handle(message)
        except BadInput as exc:
            return _error(422, str(exc))
        return JSONResponse(
            {
                "replies": [r.to_json() for r in outcome.replies],
                "duplicate": outcome.duplicate,
                "locale": outcome.locale,
            }
        )

    def _push_routes(self, router: APIRouter, origins: frozenset[str]) -> None:
        """``POST /api/webchat/stream`` gives the page its stream's URL; ``GET /api/webchat/events`` is it."""

        @router.post("/api/webchat/stream")
        async def stream_url(request: Request) -> JSONResponse:
            session_id = await _session_of(request, origins)
            if isinstance(session_id, JSONResponse):
                return session_id
            key = self.bell.key_for(self.inbox.user_key(session_id))
            return JSONResponse({"events": f"/api/webchat/events?key={key}"})

        @router.get("/api/webchat/events")
        async def events(key: str = "") -> Response:
            user_key = self.bell.user_key_of(key)
            if user_key is None:
                return _error(403, "ask POST /api/webchat/stream for this stream's address")
            try:
                self.bell.admit()
            except TooManyStreams:
                return JSONResponse(
                    {"error": "too many open streams here: keep polling"},
                    status_code=503,
                    headers={"Retry-After": "30"},
                )
            return StreamingResponse(
                self.bell.events(user_key), media_type="text/event-stream", headers=_STREAM_HEADERS
            )

    # -- flood caps (bot/engine/floods.py) -----------------------------------------------------------

    def client_key(self, request: Request) -> str | None:
        """The client's network address as a keyed hash: what the caps count against (None: unknown)."""
        address = client_address(request, self.door.settings.trusted_proxies)
        return None if address is None else address_key(self.door.crypto, address)

    def flood_refusal(self) -> JSONResponse:
        """429 for a new session over the cap: nothing is written, and the emergency numbers are in it."""
        text = self.door.strings["flood_new_session"]
        replies = [Reply(text.get("vi")), Reply(text.get("en"))]
        return JSONResponse(
            {
                "error": "too many new conversations from this network; try again in a few minutes",
                "replies": [r.to_json() for r in replies],
                "duplicate": False,
                "locale": None,
            },
            status_code=429,
            headers={"Retry-After": "60"},
        )


# The page keeps nothing: no caching, no referrer sent onwards, no framing.
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'",
}


# An event stream must reach the page as written: no caching, no buffering by a proxy (nginx obeys
# X-Accel-Buffering).
_STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def build(door: Door, *, inbox: Inbox) -> WebChat:
    return WebChat(door, inbox)
