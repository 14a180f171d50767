"""Counters of what one client did in one time window (the rows behind :mod:`bot.engine.floods`).

Counting is an atomic conditional increment (``UPDATE ... SET count = count + 1 WHERE count < allowed``),
so processes sharing one PostgreSQL never let a client past its cap together, and a refused attempt
writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import FloodCount
from bot.store.upsert import upsert


async def counts(session: AsyncSession, *, key_hash: str, starts: Sequence[datetime]) -> dict[datetime, int]:
    """The counts of ``key_hash`` in the windows starting at ``starts`` (missing windows are 0)."""
    rows = await session.execute(
        select(FloodCount.window_start, FloodCount.count).where(
            FloodCount.key_hash == key_hash, FloodCount.window_start.in_(list(starts))
        )
    )
    found = {start: count for start, count in rows.tuples()}
    return {start: found.get(start, 0) for start in starts}


async def take(
    session: AsyncSession, *, key_hash: str, window_start: datetime, expires_at: datetime, allowed: int
) -> bool:
    """Count one more in the window if its count is still under ``allowed``; whether it was counted."""
    if allowed <= 0:
        return False
    for _ in range(2):
        updated = await session.execute(
            update(FloodCount)
            .where(
                FloodCount.key_hash == key_hash,
                FloodCount.window_start == window_start,
                FloodCount.count < allowed,
            )
            .values(count=FloodCount.count + 1)
            .execution_options(synchronize_session=False)
        )
        if updated.rowcount:  # type: ignore[attr-defined]
            return True
        exists = await session.scalar(
            select(FloodCount.count).where(
                FloodCount.key_hash == key_hash, FloodCount.window_start == window_start
            )
        )
        if exists is not None:
            return False  # the window is full
        inserted = await session.execute(
            upsert(session, FloodCount)
            .values(key_hash=key_hash, window_start=window_start, count=1, expires_at=expires_at)
            .on_conflict_do_nothing()
        )
        if inserted.rowcount:  # type: ignore[attr-defined]
            return True
        # Another process opened the window at the same moment: count in it like everyone else.
    return False


async def purge_expired(session: AsyncSession, *, now: datetime) -> int:
    """Delete the counters whose window is over; how many."""
    result = await session.execute(delete(FloodCount).where(FloodCount.expires_at < now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
