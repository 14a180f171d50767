"""Wake-ups across processes on PostgreSQL: ``NOTIFY`` when outbox rows are written, ``LISTEN`` for them.

Several ``hotline serve`` processes (or a separate ``hotline dispatch``) share one PostgreSQL database.
In-process signals (the dispatcher's :meth:`~bot.outbox.dispatcher.Dispatcher.wake`, the web chat's
:class:`~bot.channels.webchat_push.InboxBell`) only wake the process that wrote; the others used to
find the row on their next poll. Now:

- *writing*: a transaction that adds an outbox row also runs ``pg_notify`` on one of two channels,
  :data:`OUTBOX` (something to dispatch) or :data:`WEBCHAT` (a message waits in a web chat inbox).
  PostgreSQL delivers a notification only when the transaction commits, and drops it on rollback, so a
  listener never looks before the row is visible. The payload is empty: nothing about a person or a
  message travels, and every listener simply looks (one query for all its open streams);
- *listening*: each process holds one dedicated connection with ``LISTEN`` on both channels
  (:class:`Listener`). If it drops, the process reconnects with back-off and meanwhile keeps its
  ordinary polling, so nothing is lost, only later; once back it looks at once for what was written
  during the gap.

SQLite is one process: only the in-process signals are used there. ``HOTLINE_NOTIFY_ENABLED=false``
turns both halves off (e.g. behind a transaction-mode PgBouncer, which does not carry ``LISTEN``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import NullPool

from bot.store.models import OutboxEvent
from bot.store.outbox_kinds import INBOX

log = logging.getLogger(__name__)

OUTBOX = "hotline_outbox"
"""Something was written for the dispatcher."""
WEBCHAT = "hotline_webchat"
"""A message waits in a web chat inbox (kind ``inbox``, fetched by the page, never dispatched)."""
BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Waits between reconnection attempts; the last one repeats."""
HEALTH_SECONDS = 30.0
"""How often the listening connection is asked whether it is alive (a silent network loss)."""
HEALTH_TIMEOUT_SECONDS = 5.0

_SENT_KEY = "notify_sent"
# The engines whose transactions announce their outbox rows (PostgreSQL, notify enabled).
_ANNOUNCING: weakref.WeakSet[Engine] = weakref.WeakSet()


def announce(engine: AsyncEngine) -> None:
    """Make transactions through ``engine`` notify the other processes of the outbox rows they add."""
    if engine.dialect.name == "postgresql":
        _ANNOUNCING.add(engine.sync_engine)


def channel_of(kind: str) -> str:
    return WEBCHAT if kind == INBOX else OUTBOX


@event.listens_for(Session, "after_flush")
def _notify_new_rows(session: Session, _context: Any) -> None:
    bind = session.bind
    if not isinstance(bind, Engine) or bind not in _ANNOUNCING:
        return
    sent: set[str] = session.info.setdefault(_SENT_KEY, set())
    channels = {channel_of(row.kind) for row in session.new if isinstance(row, OutboxEvent)} - sent
    if not channels:
        return
    connection = session.connection()
    for channel in sorted(channels):
        # In the writing transaction: delivered at its commit, dropped by its rollback. Once per channel
        # and transaction (PostgreSQL would fold repeats anyway, but each would cost a round trip).
        connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})
    sent.update(channels)


@event.listens_for(Session, "after_transaction_end")
def _forget_sent(session: Session, _transaction: SessionTransaction) -> None:
    # Any end, a savepoint's too: a rolled-back savepoint drops the notifications sent inside it.
    session.info.pop(_SENT_KEY, None)


async def announce_outbox(session: AsyncSession) -> None:
    """Notify (at commit) that rows became due through a bulk update (e.g. held events released)."""
    bind = session.bind
    if isinstance(bind, AsyncEngine) and bind.sync_engine in _ANNOUNCING:
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX})


class Listener:
    """One dedicated connection that ``LISTEN``\\s on both channels and calls back; reconnects when lost.

    Callbacks run on the event loop and must be quick (they set an event). ``on_state`` callbacks learn
    whether notifications are arriving, so that pollers may slow down while they are, and speed up
    again when they are not.
    """

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.listening = False
        self._callbacks: dict[str, list[Callable[[], None]]] = {OUTBOX: [], WEBCHAT: []}
        self._state: list[Callable[[bool], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._engine: AsyncEngine | None = None

    def subscribe(
        self, channel: str, callback: Callable[[], None], on_state: Callable[[bool], None] | None = None
    ) -> None:
        self._callbacks[channel].append(callback)
        if on_state is not None:
            self._state.append(on_state)
            on_state(self.listening)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._listen_forever(), name="notify-listener")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    # -- the connection ------------------------------------------------------------------------------
    def _set_listening(self, listening: bool) -> None:
        if listening == self.listening:
            return
        self.listening = listening
        for on_state in self._state:
            on_state(listening)

    def _wake(self, channel: str) -> None:
        for callback in self._callbacks.get(channel, ()):
            try:
                callback()
            except Exception:
                log.exception("notify: a %s callback failed", channel)

    async def _listen_forever(self) -> None:
        # Its own engine without a pool: the listening connection is held for the process's life and
        # must not be one of the pool's (nor be reset by it); same URL and driver options as the pool's.
        self._engine = create_async_engine(self.database_url, poolclass=NullPool)
        failures = 0
        while True:
            try:
                async with self._engine.connect() as connection:
                    await self._listen(connection)
            except asyncio.CancelledError:
                self._set_listening(False)
                raise
            except Exception as exc:
                # The type only: a connection error's text may carry the host or the user name.
                wait = BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)]
                log.warning(
                    "notify: not listening (%s); polling meanwhile, reconnecting in %.0f s",
                    type(exc).__name__,
                    wait,
                )
                self._set_listening(False)
                failures += 1
                await asyncio.sleep(wait)
            else:
                failures = 0

    async def _listen(self, connection: AsyncConnection) -> None:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection  # the asyncpg connection
        lost = asyncio.Event()
        for channel in self._callbacks:
            await driver.add_listener(channel, lambda *_args, _c=channel: self._wake(_c))
        driver.add_termination_listener(lambda *_args: lost.set())
        log.info("notify: listening for other processes' writes")
        self._set_listening(True)
        # Look at once: whatever was written while this process was not listening is waiting.
        for channel in self._callbacks:
            self._wake(channel)
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HEALTH_SECONDS):
                    await lost.wait()
            if lost.is_set():
                break
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
                await driver.fetchval("SELECT 1")
        raise ConnectionError("the listening connection was closed")
