"""The SQLite pool hands its one connection to sessions in the order they asked for it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.queue import Empty

from bot.store.db import make_engine
from bot.store.fairpool import FairAsyncPool, FairQueue


async def _get(queue: FairQueue[str], wait: float | None = None) -> str:
    return await greenlet_spawn(queue.get, True, wait)


async def test_a_returned_item_goes_to_the_oldest_waiter_not_to_a_newcomer() -> None:
    queue: FairQueue[str] = FairQueue(maxsize=1)
    first = asyncio.create_task(_get(queue))
    second = asyncio.create_task(_get(queue))
    await asyncio.sleep(0)  # both wait, in that order
    queue.put_nowait("connection")
    # a newcomer asking now finds nothing idle: the connection is already the first waiter's
    with pytest.raises(Empty):
        queue.get_nowait()
    assert await first == "connection"
    queue.put_nowait("connection")
    assert await second == "connection"
    assert queue.qsize() == 0


async def test_a_waiter_cancelled_just_after_being_handed_the_item_passes_it_on() -> None:
    queue: FairQueue[str] = FairQueue(maxsize=1)
    first = asyncio.create_task(_get(queue))
    second = asyncio.create_task(_get(queue))
    await asyncio.sleep(0)
    queue.put_nowait("connection")
    first.cancel()  # handed the connection, then cancelled before it could run
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second == "connection", "the connection would be lost to the pool for ever"


async def test_waiting_too_long_is_empty_and_leaves_nothing_behind() -> None:
    queue: FairQueue[str] = FairQueue(maxsize=1)
    with pytest.raises(Empty):
        await _get(queue, wait=0.01)
    queue.put_nowait("connection")
    assert queue.qsize() == 1 and queue.get_nowait() == "connection"


async def test_many_concurrent_transactions_on_one_sqlite_connection_run_in_order(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'fair.db'}")
    assert isinstance(engine.pool, FairAsyncPool)
    order: list[int] = []
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (n INTEGER)"))

        async def one(n: int) -> None:
            async with engine.begin() as connection:
                order.append(n)
                await connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
                await asyncio.sleep(0)  # yield while holding the connection: the others queue

        tasks = []
        for n in range(40):
            tasks.append(asyncio.create_task(one(n)))
            await asyncio.sleep(0)  # each asks for the connection after the one before
        await asyncio.gather(*tasks)
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 40
    finally:
        await engine.dispose()
    assert order == list(range(40))
