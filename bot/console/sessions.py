"""Console sessions on the server: opened at login, found at every request, ended for good.

A session ends at logout, when its account's password changes or the account is deactivated
(:func:`end_all`), after ``HOTLINE_CONSOLE_IDLE_MINUTES`` without a request and
``HOTLINE_CONSOLE_SESSION_HOURS`` after the login whatever happens. The cookie holds a random token and
the table (``console_sessions``) only its keyed hash (:class:`bot.console.auth.Sessions`). Ended and
expired rows are deleted: at logout, at every login (:func:`purge_expired`) and by the hourly purge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.auth import Sessions
from bot.store.models import ConsoleSession

# last_seen_at is written at most this often per session: not one write per request (the queue polls),
# and an idle timeout of minutes does not need it more precisely.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


async def open_session(
    session: AsyncSession, keys: Sessions, staff_id: int, *, now: datetime, lifetimes: Lifetimes
) -> str:
    """A new session for ``staff_id``; the token for the cookie (the database keeps only its hash)."""
    token = keys.new_token()
    session.add(
        ConsoleSession(
            token_hash=keys.token_hash(token), staff_id=staff_id, created_at=now, last_seen_at=now,
            expires_at=now + lifetimes.absolute,
        )
    )  # fmt: skip
    return token


async def find(
    session: AsyncSession, keys: Sessions, token: str | None, *, now: datetime, lifetimes: Lifetimes,
    touch: bool = True,
) -> int | None:  # fmt: skip
    """The staff id of a live session, marking it used (unless not ``touch``); None if there is none
    (ended, idle, too old)."""
    if not token or len(token) > 128:
        return None
    row = await session.get(ConsoleSession, keys.token_hash(token))
    if row is None or row.expires_at <= now or row.last_seen_at + lifetimes.idle <= now:
        return None
    if touch and now - row.last_seen_at >= TOUCH_EVERY:
        await session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.token_hash == row.token_hash)
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
    return row.staff_id


async def end(session: AsyncSession, keys: Sessions, token: str | None) -> None:
    """End one session (logout)."""
    if token:
        await session.execute(
            delete(ConsoleSession).where(ConsoleSession.token_hash == keys.token_hash(token))
        )


async def end_all(session: AsyncSession, staff_id: int) -> int:
    """End every session of an account (its password changed, or it was deactivated); how many."""
    result = await session.execute(delete(ConsoleSession).where(ConsoleSession.staff_id == staff_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def purge_expired(session: AsyncSession, *, now: datetime, idle: timedelta) -> int:
    """Delete the sessions that can no longer be used; how many."""
    result = await session.execute(
        delete(ConsoleSession).where(
            or_(ConsoleSession.expires_at <= now, ConsoleSession.last_seen_at <= now - idle)
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def purge_logins(session: AsyncSession, *, now: datetime, idle: timedelta) -> dict[str, int]:
    """The hourly purge's share: sessions that can no longer be used, and forgotten login failures."""
    from bot.console.throttle import purge_expired as purge_failures

    return {
        "console_sessions": await purge_expired(session, now=now, idle=idle),
        "login_failures": await purge_failures(session, now=now),
    }
