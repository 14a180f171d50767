"""An SQLite connection for SQLAlchemy's ``sqlite+aiosqlite`` dialect that runs every call on the event
loop's own thread.

aiosqlite hands each call to a worker thread and waits for the answer (a queue, a future, a wake-up of
the loop): about 18 hand-offs per web-chat message, each costing more CPU than the statement it carries.
With one connection per process, WAL and ``synchronous=NORMAL`` (see :mod:`bot.store.db`), most
statements take microseconds, so this connection runs them directly. The engine's pool of one connection
still queues sessions, in the event loop, as before.

What it costs: a statement that takes long (a large report, a purge of many rows) now holds the loop, not
only the connection; with one connection every database user waited for it already, now a request that
needs no database waits too. Measured: the retention purge of 50,000 transcript lines held the loop 0.5 to
1.2 s (aiosqlite: the longest stall 60 to 80 ms, the purge itself as long); an hourly purge removes an
hour's lines, hundreds on a busy day, in milliseconds. ``HOTLINE_SQLITE_INLINE=false`` brings aiosqlite's
worker thread back.

A write lock held by another process (a command run beside the service) is not waited for inside SQLite,
which would hold the loop: the busy timeout is 0 and a statement refused as busy is tried again after an
``asyncio.sleep``, where SQLite's documentation says it may be: one that starts a transaction, or a COMMIT.

Nor is the WAL's checkpoint run on the loop: SQLite runs one inside the COMMIT that fills the WAL past 1,000
pages, and a checkpoint waits for the disk (``fsync`` of the WAL and of the database). Measured on the
phone line's greeting (grouped commits, in-process): 1 commit in 20 took 5 to 25 ms, most of the commits'
time, holding every request for as long (p99 21 ms; 12 ms without). So a :class:`Checkpointer` thread,
with a connection of its own, runs a ``PASSIVE`` checkpoint every :data:`CHECKPOINT_SECONDS` (it waits for
no reader or writer; SQLite releases the GIL while it works), and the loop's connection checkpoints itself
only past :data:`BACKSTOP_PAGES`, should the thread fall behind. What a commit makes durable is unchanged:
the checkpoint only copies committed pages from the WAL into the database file.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.util import await_only

log = logging.getLogger(__name__)

#: How long a statement refused because another process holds the write lock is tried again, in seconds.
BUSY_TIMEOUT = 30.0
#: How often the checkpoint thread copies the WAL's committed pages into the database, in seconds.
CHECKPOINT_SECONDS = 1.0
#: The loop's own connection checkpoints (in a COMMIT) only when the WAL grows past this many pages.
BACKSTOP_PAGES = 10_000
_FIRST_PAUSE = 0.001
_LONGEST_PAUSE = 0.05


def inline_creator(
    url: str, *, busy_timeout: float = BUSY_TIMEOUT, checkpoint_seconds: float = CHECKPOINT_SECONDS
) -> Callable[[], Awaitable[InlineConnection]]:
    """The ``async_creator`` for :func:`sqlalchemy.ext.asyncio.create_async_engine`: opens the database
    of ``url`` (with the arguments SQLAlchemy's pysqlite dialect would use) as an :class:`InlineConnection`."""
    args, kwargs = SQLiteDialect_pysqlite().create_connect_args(make_url(url))
    database: str = args[0]
    uri = bool(kwargs.get("uri", False))

    async def connect() -> InlineConnection:
        # The pool hands the connection to one session at a time; which thread that is does not matter.
        connection = sqlite3.connect(
            database, uri=uri, check_same_thread=False, isolation_level=None, timeout=0
        )
        checkpointer = None
        if not uri and database not in ("", ":memory:"):
            connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            checkpointer = Checkpointer(database, interval=checkpoint_seconds)
        return InlineConnection(connection, busy_timeout=busy_timeout, checkpointer=checkpointer)

    return connect


class InlineConnection:
    """The aiosqlite-like connection SQLAlchemy's aiosqlite dialect drives: awaitables that do their work
    at once, on the calling thread."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        busy_timeout: float = BUSY_TIMEOUT,
        checkpointer: Checkpointer | None = None,
    ) -> None:
        # ``_connection`` and ``_conn`` are the names SQLAlchemy's adapter reads on an aiosqlite connection
        # (``_connection`` is None once closed; ``_conn`` is what its isolation_level setter changes).
        self._connection: sqlite3.Connection | None = connection
        self._conn = connection
        self._tx = _RunNow()
        self.busy_timeout = busy_timeout
        self.checkpointer = checkpointer
        if checkpointer is not None:
            checkpointer.start()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._conn.isolation_level = value

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        cursor = self.cursor()
        await cursor.execute(sql, parameters)
        return cursor

    async def commit(self) -> None:
        await self.retry_busy(self._conn.commit, retry=True)

    def begin_immediate(self) -> None:
        """``BEGIN IMMEDIATE`` at once, from SQLAlchemy's synchronous ``begin`` event (in its greenlet): if
        another process holds the write lock, waited for in the event loop as :meth:`retry_busy` does."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
        await_only(self.retry_busy(lambda: self._conn.execute("BEGIN IMMEDIATE"), retry=True))

    def commit_now(self) -> None:
        """:meth:`commit` at once, from SQLAlchemy's synchronous ``do_commit`` (in its greenlet; see
        :func:`bot.store.db.make_engine`): a COMMIT refused as busy is tried again in the event loop, as
        :meth:`commit` does. Nothing when the connection is closed (as the aiosqlite adapter's commit)."""
        if self._connection is None:
            return
        try:
            self._conn.commit()
            return
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
        await_only(self.commit())

    def rollback_now(self) -> None:
        """:meth:`rollback` at once, from SQLAlchemy's synchronous ``do_rollback`` (the pool's reset of
        the connection it takes back, after every session). Nothing when the connection is closed."""
        if self._connection is not None:
            self._conn.rollback()

    def execute_now(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run a statement in the open transaction, at once (no retry is needed: the transaction holds the
        write lock since its ``BEGIN IMMEDIATE``); for :mod:`bot.store.compiled`."""
        if not self._conn.in_transaction:
            raise RuntimeError("execute_now runs only inside a transaction")
        return self._conn.execute(sql, parameters)

    def executemany_now(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        if not self._conn.in_transaction:
            raise RuntimeError("executemany_now runs only inside a transaction")
        return self._conn.executemany(sql, rows)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate; aiosqlite's ``stop``)."""
        if self._connection is not None:
            self._connection = None
            if self.checkpointer is not None:
                self.checkpointer.stop()
            self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def retry_busy(self, call: Callable[[], Any], *, retry: bool) -> Any:
        """Run ``call``; while SQLite says another connection holds the lock and ``retry`` allows, pause in
        the event loop (never inside SQLite) and try again, for at most ``busy_timeout`` seconds."""
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not retry or not _busy(error):
                raise
        deadline = time.monotonic() + self.busy_timeout
        pause = _FIRST_PAUSE
        while True:
            await asyncio.sleep(pause)
            try:
                return call()
            except sqlite3.OperationalError as error:
                if not _busy(error) or time.monotonic() >= deadline:
                    raise
            pause = min(pause * 2, _LONGEST_PAUSE)


class InlineCursor:
    """An aiosqlite-like cursor over a :class:`sqlite3.Cursor`."""

    def __init__(self, connection: InlineConnection) -> None:
        self._owner = connection
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        # Outside a transaction the statement starts its own, so a busy one may be run again.
        await self._owner.retry_busy(
            lambda: self._cursor.execute(sql, parameters), retry=not self._owner.in_transaction
        )
        return self

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Any]) -> InlineCursor:
        rows = list(seq_of_parameters)
        await self._owner.retry_busy(
            lambda: self._cursor.executemany(sql, rows), retry=not self._owner.in_transaction
        )
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    async def nextset(self) -> None:
        return None

    def __aiter__(self) -> InlineCursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


class Checkpointer:
    """Copies the WAL's committed pages of one database file into it, from a thread of its own."""

    def __init__(self, database: str, *, interval: float = CHECKPOINT_SECONDS) -> None:
        self.database = database
        self.interval = interval
        self.runs = 0  # checkpoints run (for tests and curiosity)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after the checkpoint under way, if any (the loop's connection can checkpoint on its own)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.database, isolation_level=None, timeout=0)
        except sqlite3.Error as error:
            log.warning("no WAL checkpoint thread for %s: %s", self.database, error)
            return
        try:
            while not self._stop.wait(self.interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # e.g. locked by another process's checkpoint: next time
                    log.debug("WAL checkpoint of %s: %s", self.database, error)
                    continue
                self.runs += 1
        finally:
            connection.close()


class _RunNow:
    """Stands for aiosqlite's queue of calls to its thread (SQLAlchemy's isolation_level setter puts
    ``(future, function)`` on it): runs the function now and settles the future."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to the awaiting caller, as aiosqlite's thread would
            future.set_exception(error)


def _busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
