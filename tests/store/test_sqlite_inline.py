"""The SQLite connection that runs statements on the event loop's thread (bot/store/sqlite_inline.py):
concurrent turns all stored, a failed transaction rolled back, another process's write lock waited for
in the loop, and the setting that brings aiosqlite back."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.messages import InboundMessage
from bot.runtime import Services
from bot.store.db import make_engine
from bot.store.models import Message, ProcessedMessage
from bot.store.sqlite_inline import BACKSTOP_PAGES, InlineConnection
from tests.support.db import count


async def _driver(engine: AsyncEngine) -> object:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        return raw.driver_connection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    async with made.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    try:
        yield made
    finally:
        await made.dispose()


async def test_many_concurrent_turns_are_all_stored(services: Services) -> None:
    if services.settings.is_sqlite:
        assert isinstance(await _driver(services.db), InlineConnection), "the service runs SQLite inline"
    users = [secrets.token_hex(8) for _ in range(12)]

    async def talk(user: str) -> None:
        for i, text_ in enumerate(["xin chao", "xet nghiem hiv o dau", "PrEP là gì"]):
            await services.engine.handle(InboundMessage("test", user, text=text_, transport_id=f"{user}:{i}"))

    await asyncio.gather(*(talk(user) for user in users))
    assert await count(services, ProcessedMessage) == 36
    assert await count(services, Message, Message.direction == "in") == 36


async def test_a_failing_statement_rolls_the_transaction_back(engine: AsyncEngine) -> None:
    with pytest.raises(OperationalError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('kept?')"))
            await connection.execute(text("INSERT INTO no_such_table VALUES (1)"))
    async with engine.begin() as connection:  # the one connection is usable again
        await connection.execute(text("INSERT INTO notes (body) VALUES ('after')"))
    async with engine.connect() as connection:
        bodies = (await connection.execute(text("SELECT body FROM notes"))).scalars().all()
    assert bodies == ["after"]


async def test_concurrent_transactions_queue_for_the_one_connection(engine: AsyncEngine) -> None:
    async def write(n: int) -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": f"n{n}"})
            await asyncio.sleep(0)  # hand the loop to the others in the middle of the transaction
            await connection.execute(
                text("UPDATE notes SET body = body || '!' WHERE body = :body"), {"body": f"n{n}"}
            )

    await asyncio.gather(*(write(n) for n in range(20)))
    async with engine.connect() as connection:
        bodies = (await connection.execute(text("SELECT body FROM notes"))).scalars().all()
    assert sorted(bodies) == sorted(f"n{n}!" for n in range(20))


async def test_another_process_write_lock_is_waited_for_in_the_loop(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "inline.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # as a command run beside the service would
    ticks = 0

    async def write() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('waited')"))

    task = asyncio.create_task(write())
    while ticks < 5:  # the loop runs on while the write waits for the lock
        await asyncio.sleep(0.005)
        ticks += 1
    assert not task.done(), "the write waits for the other process"
    other.execute("COMMIT")
    other.close()
    await task
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT body FROM notes"))).scalars().all() == ["waited"]


async def test_the_setting_off_brings_aiosqlite_back(tmp_path: Path) -> None:
    import aiosqlite

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'thread.db'}", sqlite_inline=False)
    try:
        assert isinstance(await _driver(engine), aiosqlite.Connection)
    finally:
        await engine.dispose()


async def test_the_wal_is_checkpointed_by_a_thread_not_in_a_commit(tmp_path: Path) -> None:
    """The loop's connection leaves checkpoints to a thread: the database file takes the committed pages
    long before the WAL would reach the loop connection's own threshold; closing stops the thread."""
    path = tmp_path / "checkpoint.db"
    made = make_engine(f"sqlite+aiosqlite:///{path}")
    async with made.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    driver = await _driver(made)
    assert isinstance(driver, InlineConnection) and driver.checkpointer is not None
    driver.checkpointer.interval = 0.05
    async with made.connect() as connection:
        backstop = (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar()
    assert backstop == BACKSTOP_PAGES
    before = path.stat().st_size
    async with made.begin() as connection:
        await connection.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "x" * 1000}] * 300
        )
    for _ in range(200):  # the thread's next turn
        if path.stat().st_size > before + 200_000:
            break
        await asyncio.sleep(0.05)
    assert path.stat().st_size > before + 200_000, "the committed pages reached the database file"
    thread = driver.checkpointer._thread
    await made.dispose()
    assert not thread.is_alive()
