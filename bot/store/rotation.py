"""Key rotation (``hotline rotate-key``): a new encryption key for everything stored, or a new console key.

Encryption, without stopping the service:

1. The ring (:mod:`bot.store.keyring`) gets a new primary version and keeps the old one as ``previous``:
   every process reads both, and writes with the new one as soon as it has refreshed its ring (within
   ``HOTLINE_KEY_REFRESH_SECONDS``; a process also reads tokens a few versions newer than it knows).
2. Every encrypted place (:mod:`bot.store.encrypted`) is re-encrypted in small batches, one short
   transaction each. A text column is updated only where it still holds the token that was read, so a
   value the service changed meanwhile is left as the service wrote it.
3. Once every process must have learnt the new version, one more pass catches what a process still
   wrote with the old key; then the old version is retired (no process reads it any more).

Interrupted, it is run again: the ring still names the rotation under way, and rows already under the new
key are skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import inspect, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import HotlineError
from bot.store.crypto import CONSOLE, ENCRYPTION, Crypto, DecryptionError
from bot.store.encrypted import ENCRYPTED_COLUMNS, ENCRYPTED_IN_JSON
from bot.store.keyring import load_versions
from bot.store.locking import for_update
from bot.store.models import Base, KeyVersion

log = logging.getLogger(__name__)

# Passes after the wait before giving up: each finds only what a process wrote with the old key since
# the previous pass, so more than a few means some process does not refresh its keys.
MAX_CLEAN_PASSES = 5

OnBatch = Callable[[str, int], Awaitable[None]]


@dataclass
class Rotated:
    """What a rotation did."""

    version: int
    resumed: bool = False
    reencrypted: int = 0
    unreadable: int = 0


class RotationError(HotlineError):
    """The rotation cannot finish now; the message says why. Running the command again resumes it."""


async def rotate_console(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, clock: Clock) -> int:
    """Make a new console key the one in use: every console session ends. Returns the new version."""
    async with sessionmaker() as session, session.begin():
        row = await _ring_row(session, CONSOLE, clock)
        row.version += 1
        row.changed_at = clock.now()
        await session.flush()
        versions = await load_versions(session)
    crypto.use(versions)
    return row.version


async def rotate_encryption(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    clock: Clock,
    *,
    settle_seconds: float,
    batch_size: int = 200,
    echo: Callable[[str], None] = log.info,
    on_batch: OnBatch | None = None,
) -> Rotated:
    """Re-encrypt everything stored under a new encryption key, then retire the old one.

    ``settle_seconds``: how long after the switch every process has surely learnt the new version (twice
    the refresh interval); the old key is retired only after it.
    """
    async with sessionmaker() as session, session.begin():
        row = await _ring_row(session, ENCRYPTION, clock)
        resumed = row.previous is not None
        if not resumed:
            row.previous, row.version, row.changed_at = row.version, row.version + 1, clock.now()
        changed_at = row.changed_at
        await session.flush()
        versions = await load_versions(session)
    crypto.use(versions)
    done = Rotated(version=versions.encryption, resumed=resumed)
    what = "resuming the rotation" if resumed else "rotating"
    echo(f"{what}: encryption key version {versions.encryption_previous} -> {versions.encryption}")

    await _pass(sessionmaker, crypto, batch_size, done, on_batch, echo)
    wait = (changed_at + timedelta(seconds=settle_seconds) - clock.now()).total_seconds()
    if wait > 0:
        echo(f"waiting {wait:.0f} s: until then a process may still write with the old key")
        await asyncio.sleep(wait)
    for _ in range(MAX_CLEAN_PASSES):
        before = done.reencrypted
        await _pass(sessionmaker, crypto, batch_size, done, on_batch, echo)
        if done.reencrypted == before:
            break
    else:
        raise RotationError(
            "some process still writes with the old key (does every process refresh its keys?); "
            "the old key is kept. Run the command again."
        )

    async with sessionmaker() as session, session.begin():
        row = await _ring_row(session, ENCRYPTION, clock)
        row.previous = None
        await session.flush()
        versions = await load_versions(session)
    crypto.use(versions)
    echo(f"done: version {versions.encryption} alone is read now; {done.reencrypted} values re-encrypted")
    return done


async def _ring_row(session: AsyncSession, purpose: str, clock: Clock) -> KeyVersion:
    query = for_update(session, select(KeyVersion).where(KeyVersion.purpose == purpose))
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        row = KeyVersion(purpose=purpose, version=1, previous=None, changed_at=clock.now())
        session.add(row)
    return row


async def _pass(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    batch_size: int,
    done: Rotated,
    on_batch: OnBatch | None,
    echo: Callable[[str], None],
) -> None:
    """One pass over every encrypted place."""
    for model, attribute in ENCRYPTED_COLUMNS:
        name = f"{model.__tablename__}.{attribute}"
        count = await _column(sessionmaker, crypto, model, attribute, batch_size, done, on_batch)
        if count:
            echo(f"  {name}: {count} re-encrypted")
    for model, attribute, key in ENCRYPTED_IN_JSON:
        name = f"{model.__tablename__}.{attribute}[{key}]"
        count = await _json(sessionmaker, crypto, model, attribute, key, batch_size, done, on_batch)
        if count:
            echo(f"  {name}: {count} re-encrypted")


def _keys(model: type[Base]) -> list[Any]:
    """The primary key columns of a model (one or several), in order."""
    return list(inspect(model).primary_key)


async def _batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    model: type[Base],
    attribute: str,
    batch_size: int,
    *,
    lock: bool,
) -> AsyncIterator[tuple[AsyncSession, Sequence[Any]]]:
    """Yield (session, rows) one batch at a time, in primary key order, each in its own transaction."""
    keys = _keys(model)
    column = getattr(model, attribute)
    last: tuple[Any, ...] | None = None
    while True:
        async with sessionmaker() as session, session.begin():
            query: Any = select(*keys, column).where(column.is_not(None)).order_by(*keys).limit(batch_size)
            if last is not None:
                query = query.where(tuple_(*keys) > tuple_(*last))
            if lock:
                query = for_update(session, query)
            rows = (await session.execute(query)).all()
            if not rows:
                return
            yield session, rows
            last = tuple(rows[-1][:-1])


async def _column(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    model: type[Base],
    attribute: str,
    batch_size: int,
    done: Rotated,
    on_batch: OnBatch | None,
) -> int:
    keys = _keys(model)
    column = getattr(model, attribute)
    count = 0
    async for session, rows in _batches(sessionmaker, model, attribute, batch_size, lock=False):
        for row in rows:
            token = row[-1]
            new = _reencrypt(crypto, token, done)
            if new is None:
                continue
            where = [key == value for key, value in zip(keys, row[:-1], strict=True)]
            # Only where the token read is still there: what the service wrote meanwhile stays.
            changed = await session.execute(
                update(model)
                .where(*where, column == token)
                .values({attribute: new})
                .execution_options(synchronize_session=False)
            )
            count += changed.rowcount  # type: ignore[attr-defined]
        if on_batch is not None:
            await on_batch(f"{model.__tablename__}.{attribute}", len(rows))
    done.reencrypted += count
    return count


async def _json(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    model: type[Base],
    attribute: str,
    key: str,
    batch_size: int,
    done: Rotated,
    on_batch: OnBatch | None,
) -> int:
    keys = _keys(model)
    count = 0
    # JSON cannot be compared in SQL on every database: these rows are locked for their short batch.
    async for session, rows in _batches(sessionmaker, model, attribute, batch_size, lock=True):
        for row in rows:
            value = row[-1]
            token = value.get(key) if isinstance(value, dict) else None
            new = _reencrypt(crypto, token, done) if isinstance(token, str) else None
            if new is None:
                continue
            where = [k == v for k, v in zip(keys, row[:-1], strict=True)]
            await session.execute(
                update(model)
                .where(*where)
                .values({attribute: {**value, key: new}})
                .execution_options(synchronize_session=False)
            )
            count += 1
        if on_batch is not None:
            await on_batch(f"{model.__tablename__}.{attribute}[{key}]", len(rows))
    done.reencrypted += count
    return count


def _reencrypt(crypto: Crypto, token: str, done: Rotated) -> str | None:
    """The token under the primary key, or None when it is already (or cannot be read by any key)."""
    if crypto.is_primary(token):
        return None
    try:
        return crypto.reencrypt(token)
    except DecryptionError:
        # Unreadable before the rotation too (altered, or from a lost key): nothing to lose by leaving it.
        done.unreadable += 1
        return None
