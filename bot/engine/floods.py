"""Caps per client, so that one client cannot bury real people's replies and pages under fake ones.

Two caps (``HOTLINE_FLOOD_*``; 0 turns one off):

* **new web chat sessions per address**, per minute and per hour: every new session is a new person to
  the engine, so the web chat counts them against the network address (a keyed hash of it, never the
  address itself; IPv6 by its /64, which one subscriber usually holds whole). Beyond the cap the web chat
  answers 429 with the emergency numbers and writes nothing.
* **alerts per client per hour**: emergencies and requests for a counsellor that page staff (a new
  escalation's page, or the re-alert of an open one). The client is the web chat address, or the chat on
  a messenger (the pseudonymous key). Beyond the cap the person still gets the whole safety reply and the
  escalation is still written and shown in the console queue, marked ``flooded``; nobody is paged for it.
  Under the cap, a client's second alert and later ones in the hour are paged, but only in a combined
  page (:mod:`bot.escalation.digest`): they never use up the single pages real people need.

Counts live in the database (``flood_counts``), not in memory: behind a load balancer several processes
serve one client, and in-memory counts would each allow the full cap (and forget it at every restart).
Each count is one conditional ``UPDATE`` in a transaction the caller already has. Windows are fixed
(the clock's minute or hour) with the previous window's count weighed in by how much of it still
overlaps the last minute or hour, so a burst across a window boundary is not let through twice.

What was capped is logged and counted (``hotline_flood_capped_total{channel, cap}``) with no address,
key or id: only the channel, the cap and how many times this process has capped it.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.metrics import Counter
from bot.settings import Settings
from bot.store import floodcounts
from bot.store.crypto import Crypto

log = logging.getLogger(__name__)

CAPPED = Counter(
    "hotline_flood_capped",
    "Requests refused or escalations not paged because one client went over a flood cap.",
    ["channel", "cap"],
)
NEW_SESSION = "new_session"
ALERT = "alert"


@dataclass(frozen=True)
class Admission:
    """Whether a client was let through, and how many it had before in the window (the previous
    window's count weighed in as for the cap; the largest over the windows)."""

    admitted: bool
    earlier: float = 0.0


@dataclass(frozen=True)
class Window:
    """At most ``limit`` in any ``seconds``."""

    seconds: int
    limit: int


def session_windows(settings: Settings) -> tuple[Window, ...]:
    windows = (Window(60, settings.flood_sessions_per_minute), Window(3600, settings.flood_sessions_per_hour))
    return tuple(w for w in windows if w.limit > 0)


def alert_windows(settings: Settings) -> tuple[Window, ...]:
    return tuple(w for w in (Window(3600, settings.flood_alerts_per_hour),) if w.limit > 0)


# An IPv4 address as ipaddress writes it (no leading zeros): hashed as it is, without parsing it (most
# requests' case; ipaddress's parse and str cost twice the hash)
_IPV4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"{_IPV4_OCTET}(?:\.{_IPV4_OCTET}){{3}}")


def address_key(crypto: Crypto, address: str) -> str:
    """The client key of a network address: a keyed hash (of the /64 for IPv6), never the address."""
    if _CANONICAL_IPV4.fullmatch(address):  # str(ipaddress.ip_address(address)) == address
        return crypto.flood_hash(f"address:{address}")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return crypto.flood_hash(f"address:{address}")
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        else:
            return crypto.flood_hash(f"address:{ipaddress.IPv6Network((ip, 64), strict=False)}")
    return crypto.flood_hash(f"address:{ip}")


async def admit_new_session(
    session: AsyncSession, crypto: Crypto, settings: Settings, *, channel: str, client: str, now: datetime
) -> bool:
    """Count a new session of ``client`` if it is under every session cap; nothing is written if not."""
    admission = await _admit(
        session, crypto, session_windows(settings), what=NEW_SESSION, client=client, now=now
    )
    if not admission.admitted:
        _capped(channel, NEW_SESSION)
    return admission.admitted


async def admit_alert(
    session: AsyncSession, crypto: Crypto, settings: Settings, *, channel: str, client: str, now: datetime
) -> Admission:
    """Count an alert (a page to staff) of ``client`` if it is under the alert cap; ``earlier`` says
    how many alerts it had in the hour before this one (0 with the cap off: nothing is counted then)."""
    admission = await _admit(session, crypto, alert_windows(settings), what=ALERT, client=client, now=now)
    if not admission.admitted:
        _capped(channel, ALERT)
    return admission


async def admit_daily(
    session: AsyncSession, crypto: Crypto, *, what: str, client: str, limit: int, now: datetime
) -> bool:
    """Count one ``what`` (a bad-client report, a number checked) of ``client`` if it had fewer than
    ``limit`` in the last day (the same sliding windows as the caps above); nothing is written if not."""
    admission = await _admit(session, crypto, (Window(86400, limit),), what=what, client=client, now=now)
    return admission.admitted


async def purge_expired(session: AsyncSession, *, now: datetime) -> int:
    """Forget the counts of windows that are over (run with the hourly purge)."""
    return await floodcounts.purge_expired(session, now=now)


async def _admit(
    session: AsyncSession,
    crypto: Crypto,
    windows: tuple[Window, ...],
    *,
    what: str,
    client: str,
    now: datetime,
) -> Admission:
    if not windows:
        return Admission(True)
    earlier = 0.0
    # A savepoint: when a later window refuses, the counts already taken in earlier ones are undone.
    async with session.begin_nested() as savepoint:
        for window in windows:
            key_hash = crypto.flood_hash(f"{what}:{window.seconds}:{client}")
            start = _window_start(now, window.seconds)
            previous = start - timedelta(seconds=window.seconds)
            counted = await floodcounts.counts(session, key_hash=key_hash, starts=(previous, start))
            overlap = 1.0 - (now - start).total_seconds() / window.seconds
            # admitted while count_now + previous * overlap < limit (count_now an integer):
            allowed = math.ceil(window.limit - counted[previous] * overlap)
            earlier = max(earlier, counted[start] + counted[previous] * overlap)
            taken = await floodcounts.take(
                session,
                key_hash=key_hash,
                window_start=start,
                expires_at=start + timedelta(seconds=2 * window.seconds),
                allowed=allowed,
            )
            if not taken:
                await savepoint.rollback()
                return Admission(False, earlier)
    return Admission(True, earlier)


def _window_start(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def _capped(channel: str, cap: str) -> None:
    """Count and log one capped request. One line each: their rate is bounded by nginx's ``limit_req``
    in front (deploy/nginx), and the count ``n`` shows a flood's size without any identity in it."""
    child = CAPPED.labels(channel=channel, cap=cap)
    child.inc()
    what = "new-session" if cap == NEW_SESSION else "alert"
    log.warning(
        "%s: %s cap reached (n=%d in this process)",
        channel,
        what,
        int(CAPPED.value(channel=channel, cap=cap)),
    )
