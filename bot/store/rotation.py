"""Key rotation (``hotline rotate-key``): a new encryption key for everything stored, or a new console key.

Encryption, without stopping the service:

1. The ring (:mod:`bot.store.keyring`) gets a new primary version and keeps the old one as ``previous``:
   every process reads both, and writes with the new one as soon as it has refreshed its ring (within
   ``HOTLINE_KEY_REFRESH_SECONDS``; a process also reads tokens a few versions newer than it knows).
2. Every encrypted place (:mod:`bot.store.encrypted`) is re-encrypted in small batches, one short
   transaction each (:mod:`bot.store.reencrypt`).
3. Once every process must have learnt the new version, one more pass catches what a process still
   wrote with the old key; then the old version is retired (no process reads it any more).

Interrupted, it is run again: the ring still names the rotation under way, and rows already under the new
key are skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import HotlineError
from bot.store.crypto import CONSOLE, ENCRYPTION, Crypto
from bot.store.keyring import load_versions
from bot.store.locking import for_update
from bot.store.models import KeyVersion
from bot.store.reencrypt import SQLITE_PAUSE_SECONDS, Batches, OnBatch, Tally, reencrypt_all

log = logging.getLogger(__name__)

# Passes after the wait before giving up: each finds only what a process wrote with the old key since
# the previous pass, so more than a few means some process does not refresh its keys.
MAX_CLEAN_PASSES = 5


@dataclass
class Rotated(Tally):
    """What a rotation did."""

    version: int = 0
    resumed: bool = False


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
    pause_seconds: float | None = None,
    echo: Callable[[str], None] = log.info,
    on_batch: OnBatch | None = None,
) -> Rotated:
    """Re-encrypt everything stored under a new encryption key, then retire the old one.

    ``settle_seconds``: how long after the switch every process has surely learnt the new version (twice
    the refresh interval); the old key is retired only after it. ``pause_seconds`` after each batch:
    by default long enough on SQLite for waiting writes to go first, none on PostgreSQL (row locks).
    """
    async with sessionmaker() as session, session.begin():
        sqlite = session.get_bind().dialect.name == "sqlite"
        row = await _ring_row(session, ENCRYPTION, clock)
        resumed = row.previous is not None
        if not resumed:
            row.previous, row.version, row.changed_at = row.version, row.version + 1, clock.now()
        changed_at = row.changed_at
        await session.flush()
        versions = await load_versions(session)
    crypto.use(versions)
    done = Rotated(version=versions.encryption, resumed=resumed)
    pause = pause_seconds if pause_seconds is not None else SQLITE_PAUSE_SECONDS if sqlite else 0.0
    batches = Batches(size=batch_size, pause=pause, on_batch=on_batch)
    what = "resuming the rotation" if resumed else "rotating"
    echo(f"{what}: encryption key version {versions.encryption_previous} -> {versions.encryption}")

    await reencrypt_all(sessionmaker, crypto, batches, done, echo)
    wait = (changed_at + timedelta(seconds=settle_seconds) - clock.now()).total_seconds()
    if wait > 0:
        echo(f"waiting {wait:.0f} s: until then a process may still write with the old key")
        await asyncio.sleep(wait)
    for _ in range(MAX_CLEAN_PASSES):
        before = done.reencrypted
        await reencrypt_all(sessionmaker, crypto, batches, done, echo)
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
