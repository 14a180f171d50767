"""Channels and pagers built after the server listens: what reaches them waits, nothing is refused.

Importing aiogram takes seconds of CPU, and the service answered nobody, web chat emergencies included,
until it was done. A channel marked ``background`` in the registry (:mod:`bot.channels.registry`) is
stood in for by a :class:`PendingChannel` while the runtime builds it in the background:

* a request to its paths (a Telegram webhook) waits for it, up to :data:`WAIT_SECONDS`, and then goes
  to the real channel's routes. Past that, or if the build failed, it is answered **503** with a
  ``Retry-After``: the sender (Telegram) sends it again. Nothing is answered 2xx without being handled.
* the outbox's deliveries through it (replies to people) and the pages through a
  :class:`PendingPager` raise :class:`~bot.outbox.dispatcher.NotYet`: re-timed, not counted as a failed
  attempt, so they go as soon as the channel is there, and are never given up.

If the build fails (a wrong setting), the error is logged as critical, ``/healthz`` answers 503, and
what waits for the channel keeps waiting until the service is restarted with the setting fixed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from bot.messages import Reply
from bot.outbox.dispatcher import NotYet

if TYPE_CHECKING:
    from bot.channels.base import Channel
    from bot.escalation.paging import Page, Pager

log = logging.getLogger(__name__)

WAIT_SECONDS = 20.0
"""How long a request to a channel still being built waits for it (Telegram sends an update again if
it is not answered 2xx, for hours; the wait only spares it a round)."""
RETRY_SECONDS = 0.25
"""When an outbox event for a channel still being built is tried again: soon, since a page waiting for
Telegram after a restart should go the moment it is there (a re-timing is one small UPDATE)."""


class Pending:
    """Something being built: ``ready`` once built or failed; ``value`` or ``error`` says which."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.value: Any = None
        self.error: BaseException | None = None
        self._ready = asyncio.Event()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def resolve(self, value: object) -> None:
        self.value = value
        self._ready.set()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self._ready.set()

    async def wait(self, within: float) -> bool:
        """Wait up to ``within`` seconds for the build; whether it is built (not failed, not late)."""
        if not self.ready:
            try:
                async with asyncio.timeout(within):
                    await self._ready.wait()
            except TimeoutError:
                return False
        return self.value is not None

    def not_yet(self) -> NotYet:
        why = "could not be built (see the log)" if self.error is not None else "is starting"
        return NotYet(RETRY_SECONDS, f"{self.name} {why}")


class PendingChannel(Pending):
    """Stands in for a channel until the runtime has built it (see the module's docstring)."""

    def __init__(self, name: str, *, push: bool, prefix: str | None) -> None:
        super().__init__(name)
        self.push = push
        self.prefix = prefix
        self._router: APIRouter | None = None

    @property
    def channel(self) -> Channel | None:
        return self.value  # type: ignore[no-any-return]

    def router(self) -> APIRouter | None:
        return None  # its routes are the gate's (:meth:`gate`), added by the app

    def gate(self) -> BaseRoute | None:
        """The route that holds requests to ``prefix`` until the channel is built."""
        return None if self.prefix is None else _Gate(self, self.prefix)

    def resolve(self, value: object) -> None:
        channel: Channel = value  # type: ignore[assignment]
        self._router = channel.router()
        super().resolve(channel)

    async def send(self, address: str, replies: Sequence[Reply]) -> None:
        if self.channel is None:
            raise self.not_yet()
        await self.channel.send(address, replies)

    async def start(self) -> None:
        return None  # the runtime builds and starts it (``Services.start``)

    async def stop(self) -> None:
        if self.channel is not None:
            await self.channel.stop()

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self.wait(WAIT_SECONDS) or self._router is None:
            why = "could not be started" if self.error is not None else "is still starting"
            response = JSONResponse(
                {"error": f"the {self.name} channel {why}; send it again"},
                status_code=503,
                headers={"Retry-After": "5"},
            )
            await response(scope, receive, send)
            return
        await self._router(scope, receive, send)


class _Gate(BaseRoute):
    """Every HTTP request under ``prefix``, handed to the pending channel (which waits, then routes)."""

    def __init__(self, pending: PendingChannel, prefix: str) -> None:
        self.pending = pending
        self.path = prefix.rstrip("/") + "/"

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and str(scope["path"]).startswith(self.path):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        from starlette.routing import NoMatchFound

        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.pending.handle(scope, receive, send)


class PendingPager(Pending):
    """Stands in for a pager (Telegram, SMS, voice) until the runtime has built it."""

    def __init__(self, route: str) -> None:
        super().__init__(route)
        self.route = route

    @property
    def pager(self) -> Pager | None:
        return self.value  # type: ignore[no-any-return]

    async def page(self, address: str, page: Page) -> None:
        if self.pager is None:
            raise self.not_yet()
        await self.pager.page(address, page)

    async def notify(self, address: str, text: str) -> None:
        if self.pager is None:
            raise self.not_yet()
        await self.pager.notify(address, text)

    async def close(self) -> None:
        close = getattr(self.pager, "close", None)
        if close is not None:
            await close()
