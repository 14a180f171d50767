"""The web chat's doorbell: an open page learns within a second that a counsellor wrote.

A counsellor's message to a web chat person is an ``inbox`` outbox row, fetched by the page with
``POST /api/webchat/poll`` (every 5 s without this module). Here the page also holds a server-sent
event stream, ``GET /api/webchat/events?key=...``, that says ``event: inbox`` when there is something to
fetch; the page then polls at once. The stream carries no text: delivery stays the poll's request and
response, so a stream left half-open by a phone that lost its network cannot swallow a message (a
message handed to a dead stream would be marked read and never shown).

How the stream learns of a message, without one database query per open page:

- *same process*: a SQLAlchemy hook sees an ``inbox`` row committed through this process's database
  engine and asks for a check at once (:meth:`bot.engine.inbox.Inbox.ring`);
- *other processes* (several app processes on PostgreSQL): their commit sends ``NOTIFY
  hotline_webchat`` (:mod:`bot.store.notify`), and this process's listener asks for a check at once;
- *and as a safety net*: one query per process for the newest pending ``inbox`` row of each watched
  person, every :data:`LISTENING_CHECK_SECONDS` while notifications arrive, every ``check_seconds``
  (:data:`CHECK_SECONDS`) while they do not (SQLite with a separate ``hotline dispatch``, a lost
  listening connection).

Bounded: at most ``max_streams`` streams per process (then 503, and the page keeps polling), at most
:data:`PER_PERSON` per person (a new one ends the oldest, e.g. after a reconnect), a keep-alive comment
every :data:`KEEPALIVE_SECONDS`, and every stream ends when the service shuts down.

The URL carries a signed key, not the session id: the session id reads the messages (``/poll``) and
must not land in a proxy's access log; the key only opens this doorbell.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bot.engine.inbox import Inbox

log = logging.getLogger(__name__)

CHECK_SECONDS = 0.5
"""How often one query per process looks for messages written by other processes, without NOTIFY."""
LISTENING_CHECK_SECONDS = 10.0
"""The same while NOTIFY wakes this process (a missed notification is then late, never lost)."""
KEEPALIVE_SECONDS = 15.0
"""A comment line this often keeps proxies and phones from closing an idle stream."""
PER_PERSON = 2
"""Streams per web chat session (two tabs, or a reconnect before the old stream is noticed gone)."""
BATCH = 500
"""Keys per query."""


class TooManyStreams(Exception):
    """This process holds as many streams as it may, or is shutting down: the page keeps polling."""


@dataclass(eq=False)
class _Stream:
    user_key: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    rung_up_to: int = 0  # the newest inbox row this stream already rang for
    ended: bool = False
    replaced: bool = False  # ended because the same person opened more streams


class InboxBell:
    """Streams waiting for a web chat person's inbox, and what wakes them."""

    def __init__(
        self,
        inbox: Inbox,
        *,
        max_streams: int,
        check_seconds: float = CHECK_SECONDS,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
    ) -> None:
        self.inbox = inbox
        self.max_streams = max_streams
        self.check_seconds = check_seconds
        self.keepalive_seconds = keepalive_seconds
        self._streams: dict[str, list[_Stream]] = {}
        self._count = 0
        self._check_now = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._listening = False

    # -- keys ------------------------------------------------------------------------------------
    def key_for(self, user_key: str) -> str:
        """The signed key of a person's stream, for the stream's URL."""
        return f"{user_key}.{self._mac(user_key)}"

    def user_key_of(self, key: str) -> str | None:
        """The person of a signed key, or None when it is not one of ours."""
        user_key, _, mac = key.partition(".")
        if len(user_key) != 64 or not hmac.compare_digest(mac, self._mac(user_key)):
            return None
        return user_key

    def _mac(self, user_key: str) -> str:
        return self.inbox.crypto.ref_hash("webchat-events", user_key)[:32]

    # -- waking ----------------------------------------------------------------------------------
    def watch(self) -> None:
        """Check at once when an inbox row is committed (by this process, or announced by another)."""
        self.inbox.ring(self.check_soon, self.set_listening)

    def check_soon(self) -> None:
        """Ask the checker to look now (safe from any thread, and before any stream opened)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._check_now.set)

    def set_listening(self, listening: bool) -> None:
        """Other processes' writes now arrive as notifications (poll rarely), or no longer (poll often)."""
        self._listening = listening
        if not listening:
            self.check_soon()  # the listener just dropped: something may have been missed

    @property
    def open_streams(self) -> int:
        return self._count

    # -- streams ---------------------------------------------------------------------------------
    def admit(self) -> None:
        """Raise :class:`TooManyStreams` when no stream may open now (checked before answering 200)."""
        if self._closed or self._count >= self.max_streams:
            raise TooManyStreams

    def _open(self, user_key: str) -> _Stream:
        """Register a stream; the oldest of the same person ends beyond :data:`PER_PERSON`."""
        stream = _Stream(user_key)
        if self._closed:  # admitted just before the service began to stop
            stream.ended = True
            return stream
        mine = self._streams.setdefault(user_key, [])
        mine.append(stream)
        self._count += 1
        while len(mine) > PER_PERSON:
            mine[0].replaced = True
            self._end(mine[0])
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(self._check_forever(), name="webchat-bell")
        return stream

    def _end(self, stream: _Stream) -> None:
        mine = self._streams.get(stream.user_key, [])
        if stream in mine:
            mine.remove(stream)
            self._count -= 1
            if not mine:
                del self._streams[stream.user_key]
        stream.ended = True
        stream.wake.set()

    async def events(self, user_key: str) -> AsyncIterator[bytes]:
        """A stream's bytes: ``event: inbox`` when there is something to fetch, keep-alives between.

        The stream is registered when the response starts, so that its ``finally`` always unregisters it
        (a response abandoned before it started never registered anything).
        """
        stream = self._open(user_key)
        try:
            yield b"retry: 3000\n\n"
            while not stream.ended:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.keepalive_seconds):
                        await stream.wake.wait()
                if stream.ended:
                    if stream.replaced:  # tell a live page to poll instead of reconnecting at once
                        yield b"event: replaced\ndata: {}\n\n"
                    break
                if stream.wake.is_set():
                    stream.wake.clear()
                    yield b"event: inbox\ndata: {}\n\n"
                else:
                    yield b": keep-alive\n\n"
        finally:
            self._end(stream)

    def end_streams(self) -> None:
        """End every stream now and refuse new ones: the server is about to wait for open requests.

        A page whose stream ends reconnects after a few seconds (to this server once restarted, or to
        another process), and polls meanwhile.
        """
        self._closed = True
        for mine in list(self._streams.values()):
            for stream in list(mine):
                self._end(stream)

    async def close(self) -> None:
        """End every stream, stop checking, and forget the engine (the service is stopping)."""
        self.end_streams()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.inbox.unring()

    # -- checking --------------------------------------------------------------------------------
    async def _check_forever(self) -> None:
        while True:
            every = (
                max(self.check_seconds, LISTENING_CHECK_SECONDS) if self._listening else self.check_seconds
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every):
                    await self._check_now.wait()
            self._check_now.clear()
            if not self._streams:
                continue
            try:
                await self.check()
            except Exception:
                log.exception("web chat: checking for counsellors' messages failed; trying again")
                await asyncio.sleep(self.check_seconds)

    async def check(self) -> None:
        """One query: the newest pending inbox row of each watched person; ring the streams behind it."""
        keys = list(self._streams)
        for start in range(0, len(keys), BATCH):
            for user_key, newest in await self.inbox.newest(keys[start : start + BATCH]):
                for stream in self._streams.get(user_key, ()):
                    if newest > stream.rung_up_to:
                        stream.rung_up_to = newest
                        stream.wake.set()
