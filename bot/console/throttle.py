"""The login throttle: growing waits for whoever keeps trying wrong passwords, and never for someone else.

Failures are counted per client, in the database (``login_failures``) so that every process behind the
load balancer shares them, and only as keyed hashes (:func:`bot.engine.floods.address_key`):

* per **address**: many user names tried from one address (password spraying);
* per **user name from an address**: one account guessed at from one address;
* per **known browser**: a browser that has logged in as this user before carries a signed device cookie
  (OWASP's "device cookie"). Its attempts count only against itself, not against its address nor the
  user name, so the counsellor's own browser is never locked by anyone else's failures.

After ``lock_after`` failures a client must wait ``first_wait`` seconds, twice as long after each further
failure, up to ``MAX_WAIT``; attempts while it waits are answered 429 with ``Retry-After`` and the password
is not checked. Counts are forgotten ``FORGET`` after the last failure. There is no lock per user name
alone: one from anywhere would let anyone who knows a name lock that counsellor out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.floods import address_key
from bot.store.crypto import Crypto
from bot.store.models import LoginFailure
from bot.store.upsert import upsert

MAX_WAIT = timedelta(minutes=15)
FORGET = timedelta(hours=1)


@dataclass(frozen=True)
class Rule:
    lock_after: int
    first_wait: timedelta


# An office behind one address holds several counsellors, each mistyping now and then: a higher count.
ADDRESS = Rule(lock_after=30, first_wait=timedelta(seconds=15))
PAIR = Rule(lock_after=5, first_wait=timedelta(seconds=15))
DEVICE = Rule(lock_after=10, first_wait=timedelta(seconds=15))


@dataclass(frozen=True)
class Client:
    """The throttle keys of one login attempt, with the rule for each."""

    keys: tuple[tuple[str, Rule], ...]
    pair: str  # forgotten at a successful login (with the device's key)


def client(crypto: Crypto, *, username: str, address: str | None, device: str | None) -> Client:
    """The keys of an attempt at ``username`` from ``address``, or from the known browser ``device``."""
    if device is not None:
        key = crypto.flood_hash(f"login:device:{device}")
        return Client(((key, DEVICE),), key)
    where = address_key(crypto, address or "unknown")
    pair = crypto.flood_hash(f"login:pair:{username.casefold()}:{where}")
    return Client(((crypto.flood_hash(f"login:address:{where}"), ADDRESS), (pair, PAIR)), pair)


async def wait_for(session: AsyncSession, who: Client, *, now: datetime) -> int:
    """Seconds ``who`` must still wait before trying again (0: it may try now)."""
    until = await session.scalar(
        select(func.max(LoginFailure.locked_until)).where(
            LoginFailure.key_hash.in_([key for key, _ in who.keys]), LoginFailure.locked_until > now
        )
    )
    if until is None:
        return 0
    if until.tzinfo is None:  # max() over the column comes back without the column's type on SQLite
        from datetime import UTC

        until = until.replace(tzinfo=UTC)
    return max(1, math.ceil((until - now).total_seconds()))


async def failed(session: AsyncSession, who: Client, *, now: datetime) -> bool:
    """Count a failure against each key of ``who``; whether one of them is now made to wait."""
    locked = False
    for key, rule in who.keys:
        failures = await session.scalar(
            upsert(session, LoginFailure)
            .values(key_hash=key, failures=1, locked_until=None, expires_at=now + FORGET)
            .on_conflict_do_update(
                index_elements=[LoginFailure.key_hash],
                set_={
                    "failures": case((LoginFailure.expires_at <= now, 1), else_=LoginFailure.failures + 1),
                    "expires_at": now + FORGET,
                },
            )
            .returning(LoginFailure.failures)
        )
        if failures is not None and failures >= rule.lock_after:
            wait = min(MAX_WAIT, rule.first_wait * 2 ** min(failures - rule.lock_after, 16))
            await session.execute(
                update(LoginFailure)
                .where(LoginFailure.key_hash == key)
                .values(locked_until=now + wait)
                .execution_options(synchronize_session=False)
            )
            locked = True
    return locked


async def succeeded(session: AsyncSession, who: Client) -> None:
    """Forget the failures of this user name from this address (or of this browser). Not the address's:
    one right password must not wipe out a spraying address's count."""
    await session.execute(delete(LoginFailure).where(LoginFailure.key_hash == who.pair))


async def purge_expired(session: AsyncSession, *, now: datetime) -> int:
    """Delete the counts nobody has added to for ``FORGET`` (and whose wait is over); how many."""
    result = await session.execute(
        delete(LoginFailure).where(
            LoginFailure.expires_at <= now,
            (LoginFailure.locked_until.is_(None)) | (LoginFailure.locked_until <= now),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
