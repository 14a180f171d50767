"""The database connection: one async engine and a session factory per process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.files import private_sqlite
from bot.store.fairpool import FairAsyncPool
from bot.store.sqlite_inline import InlineConnection, inline_creator

T = TypeVar("T")


def make_engine(url: str, *, sqlite_inline: bool = True, **kwargs: Any) -> AsyncEngine:
    """Create the async engine; on SQLite, create the file private, turn on foreign keys and WAL (with
    ``synchronous=NORMAL``: a committed transaction survives a crash of the process, and only a power cut
    may lose the last ones; a deployment that cannot accept that runs on PostgreSQL), and use one
    connection, which runs its statements on the event loop's thread unless ``sqlite_inline`` is False
    (then aiosqlite's worker thread; see :mod:`bot.store.sqlite_inline`)."""
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            private_sqlite(path)
        # One connection per process: SQLite has one writer at a time anyway, and a second connection
        # waiting for the write lock sleeps in SQLite's busy handler (1 ms, 2 ms, ... 100 ms) instead of
        # being woken when the lock is free. Sessions queue for the connection in the event loop instead,
        # first come, first served (see bot.store.fairpool).
        if path is not None and "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs["poolclass"] = FairAsyncPool
        if sqlite_inline:
            kwargs.setdefault("async_creator", inline_creator(url))
        else:
            kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # Inline, a lock held by another process is waited for in the event loop, not in SQLite.
            cursor.execute(f"PRAGMA busy_timeout={0 if sqlite_inline else 30000}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # Let SQLAlchemy's "begin" below decide when a transaction starts.
            if dbapi_connection.isolation_level is not None:
                dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Take the write lock at the start of every transaction: one message is one
            # transaction, and two concurrent ones must queue, not fail half-way.
            driver = conn.connection.driver_connection
            if isinstance(driver, InlineConnection):
                # Straight to SQLite (through SQLAlchemy it cost more than SQLite takes); a lock another
                # process holds is waited for in the loop, as every inline statement's.
                driver.begin_immediate()
                return
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        if sqlite_inline:
            _inline_commit_and_rollback(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _inline_commit_and_rollback(engine: AsyncEngine) -> None:
    """Commit and roll back an inline connection straight in SQLite, from SQLAlchemy's greenlet.

    Through the aiosqlite adapter each is an awaitable handed out of the greenlet to the event loop and
    back (``await_``), for work SQLite does at once: a message's commit, and the rollback with which the
    pool takes the connection back after it, cost two greenlet switches each. A COMMIT refused because
    another process reads is still waited for in the loop (:meth:`InlineConnection.commit_now`)."""
    dialect = engine.sync_engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if isinstance(driver, InlineConnection):
            driver.commit_now()
        else:
            commit(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if isinstance(driver, InlineConnection):
            driver.rollback_now()
        else:
            rollback(dbapi_connection)

    setattr(dialect, "do_commit", do_commit)  # noqa: B010 (an instance's method replaced: mypy forbids it)
    setattr(dialect, "do_rollback", do_rollback)  # noqa: B010


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (None in memory)."""
    path = make_url(url).database
    return Path(path) if path and path != ":memory:" and not path.startswith("file:") else None


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def run_on_connection(url: str, work: Callable[[Connection], T]) -> T:
    """Run ``work`` on a synchronous connection in one transaction, with an engine made and disposed for it
    (for commands and checks outside a running service: backups, migration tests)."""

    async def run() -> T:
        engine = make_engine(url)
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())
