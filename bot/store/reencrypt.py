"""One pass over every encrypted place (:mod:`bot.store.encrypted`): what is not under the primary
encryption key is re-encrypted under it, in small batches, each its own short transaction.

A text column is updated only where it still holds the token that was read, so a value the service
changed meanwhile stays as the service wrote it. On SQLite a batch holds the database's write lock: the
pass pauses after each one, so the service's own writes (waiting on the lock) go first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, inspect, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.crypto import Crypto, DecryptionError
from bot.store.encrypted import ENCRYPTED_COLUMNS, ENCRYPTED_IN_JSON
from bot.store.locking import for_update
from bot.store.models import Base

# SQLite's busy handler retries a waiting write every 100 ms at most: a longer pause lets it in.
SQLITE_PAUSE_SECONDS = 0.12

OnBatch = Callable[[str, int], Awaitable[None]]


@dataclass
class Tally:
    """What the passes of one rotation did."""

    reencrypted: int = 0
    unreadable: int = 0


@dataclass(frozen=True)
class Batches:
    """How a pass walks the tables: rows per transaction, the pause after each, a hook (for tests)."""

    size: int = 200
    pause: float = 0.0
    on_batch: OnBatch | None = None


async def reencrypt_all(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    batches: Batches,
    tally: Tally,
    echo: Callable[[str], None],
) -> None:
    """One pass over every encrypted place."""
    for model, attribute in ENCRYPTED_COLUMNS:
        count = await _column(sessionmaker, crypto, model, attribute, batches, tally)
        if count:
            echo(f"  {model.__tablename__}.{attribute}: {count} re-encrypted")
    for model, attribute, key in ENCRYPTED_IN_JSON:
        count = await _json(sessionmaker, crypto, model, attribute, key, batches, tally)
        if count:
            echo(f"  {model.__tablename__}.{attribute}[{key}]: {count} re-encrypted")


async def _column(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    model: type[Base],
    attribute: str,
    batches: Batches,
    tally: Tally,
) -> int:
    table = cast(Table, model.__table__)
    keys = _keys(model)
    statement = (
        update(table)
        .where(
            *(key == bindparam(f"key_{i}") for i, key in enumerate(keys)),
            table.c[attribute] == bindparam("old"),  # still the token read: else the service wrote it since
        )
        .values({attribute: bindparam("new")})
    )
    count = 0
    async for session, rows in _batches(sessionmaker, model, attribute, batches, lock=False):
        changes = []
        for row in rows:
            new = _reencrypt(crypto, row[-1], tally)
            if new is not None:
                changes.append(
                    {**{f"key_{i}": value for i, value in enumerate(row[:-1])}, "old": row[-1], "new": new}
                )
        if changes:  # one statement a batch (executemany): a statement a row was 6-10 times slower
            result = await (await session.connection()).execute(statement, changes)
            # A driver that cannot count an executemany's rows says -1: then the rows tried are counted.
            count += result.rowcount if result.rowcount >= 0 else len(changes)
    tally.reencrypted += count
    return count


async def _json(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    model: type[Base],
    attribute: str,
    key: str,
    batches: Batches,
    tally: Tally,
) -> int:
    keys = _keys(model)
    count = 0
    # JSON cannot be compared in SQL on every database: these rows are locked for their short batch.
    async for session, rows in _batches(sessionmaker, model, attribute, batches, lock=True):
        for row in rows:
            value = row[-1]
            token = value.get(key) if isinstance(value, dict) else None
            new = _reencrypt(crypto, token, tally) if isinstance(token, str) else None
            if new is None:
                continue
            where = [k == v for k, v in zip(keys, row[:-1], strict=True)]
            statement = update(model).where(*where).values({attribute: {**value, key: new}})
            await session.execute(statement.execution_options(synchronize_session=False))
            count += 1
    tally.reencrypted += count
    return count


def _keys(model: type[Base]) -> list[Any]:
    """The primary key columns of a model (one or several), in order."""
    return list(inspect(model).primary_key)


async def _batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    model: type[Base],
    attribute: str,
    batches: Batches,
    *,
    lock: bool,
) -> AsyncIterator[tuple[AsyncSession, Sequence[Any]]]:
    """Yield (session, rows) one batch at a time, in primary key order, each in its own transaction.

    Only rows up to the last one when the pass starts: rows added meanwhile are the service's, written
    with the new key once it has refreshed (the pass after the wait sees those written before). Without
    this bound a pass would chase a busy table's newest rows for ever.
    """
    keys = _keys(model)
    column = getattr(model, attribute)
    async with sessionmaker() as session:
        end = (await session.execute(select(*keys).order_by(*(k.desc() for k in keys)).limit(1))).first()
    if end is None:
        return
    last: tuple[Any, ...] | None = None
    while True:
        async with sessionmaker() as session, session.begin():
            query: Any = (
                select(*keys, column)
                .where(column.is_not(None), tuple_(*keys) <= tuple_(*end))
                .order_by(*keys)
                .limit(batches.size)
            )
            if last is not None:
                query = query.where(tuple_(*keys) > tuple_(*last))
            if lock:
                query = for_update(session, query)
            rows = (await session.execute(query)).all()
            if not rows:
                return
            yield session, rows
            last = tuple(rows[-1][:-1])
        if batches.on_batch is not None:
            await batches.on_batch(f"{model.__tablename__}.{attribute}", len(rows))
        await asyncio.sleep(batches.pause)


def _reencrypt(crypto: Crypto, token: str, tally: Tally) -> str | None:
    """The token under the primary key, or None when it is already (or cannot be read by any key)."""
    if crypto.is_primary(token):
        return None
    try:
        return crypto.reencrypt(token)
    except DecryptionError:
        # Unreadable before the rotation too (altered, or from a lost key): nothing to lose by leaving it.
        tally.unreadable += 1
        return None
