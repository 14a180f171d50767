"""Combining pages in a flood, so that counsellors' phones are not flooded (and then muted).

Up to ``HOTLINE_PAGE_COMBINE_ABOVE`` (K) pages a minute go to one recipient (a counsellor's route, or
the staff group) one by one, each with its own "take" button. Beyond that, further escalations for that
recipient are gathered into one ``page_digest`` event ("N new emergencies, open the console"): the first
goes at once, the next at least ``HOTLINE_PAGE_COMBINE_SECONDS`` after the one before, and at most
``HOTLINE_PAGE_COMBINED_PER_MINUTE`` of them in any minute. So a recipient gets at most K + that many
messages a minute, however many emergencies arrive; a short burst of real ones is told within seconds.

An escalation from a client that already paged staff within the hour (a second emergency from one web
chat address or one chat: most often a flood, see :mod:`bot.engine.floods`) never takes one of the K
single pages: it goes into the combined page, so that one client cannot use up the single pages that
the next real people need. Every escalation is still its own row in the console queue (emergencies
first): only the phone's notifications are combined.

A recipient is a keyed hash of the route and the address, so the outbox can count pages per person
without holding a chat id or a phone number in clear.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Crypto
from bot.store.locking import for_update
from bot.store.models import OutboxEvent
from bot.store.outbox import LANE_URGENT, enqueue
from bot.store.outbox_kinds import PAGE_DIGEST, PAGE_SEND, PageDigestPayload, PageRoute

WINDOW = timedelta(minutes=1)


def recipient_key(crypto: Crypto, route: str, address: str) -> str:
    """Who a page goes to, as the outbox keeps it: a keyed hash, never the address."""
    return crypto.user_key(f"page:{route}", address)[:32]


async def lock_recipient(session: AsyncSession, recipient: str) -> None:
    """Take, on PostgreSQL, a transaction-level advisory lock on the recipient, so that two escalations
    paged at the same moment (by two workers or two processes) count one after the other and never both
    slip under the limit, or both start a combined page. (SQLite's write transactions are serial already.)
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(int(recipient[:15], 16))))


async def pages_in_last_minute(session: AsyncSession, recipient: str, now: datetime) -> int:
    """How many single pages were queued for ``recipient`` in the last minute (sent or not); call
    :func:`lock_recipient` first."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(
                OutboxEvent.kind == PAGE_SEND,
                OutboxEvent.recipient == recipient,
                OutboxEvent.created_at > now - WINDOW,
            )
        )
        or 0
    )


async def add_to_digest(
    session: AsyncSession,
    crypto: Crypto,
    *,
    recipient: str,
    payload: PageRoute,
    escalation_id: int,
    now: datetime,
    every: timedelta,
    per_minute: int,
) -> datetime | None:
    """Add an escalation to the recipient's waiting digest, or queue a new one; when a new one is due.

    A digest not yet claimed by a dispatcher is extended (its row locked, so a dispatcher claiming it at
    the same moment either sees the new id or leaves the row to us), and None is returned. A new digest
    goes at once, or ``every`` after the recipient's last one, and never as the ``per_minute + 1``-th in
    a minute (``per_minute`` 0: no such limit).
    """
    waiting = (
        await session.execute(
            for_update(
                session,
                select(OutboxEvent)
                .where(
                    OutboxEvent.kind == PAGE_DIGEST,
                    OutboxEvent.recipient == recipient,
                    OutboxEvent.status == "pending",
                    OutboxEvent.claimed_by.is_(None),
                )
                .order_by(OutboxEvent.id)
                .limit(1),
            )
        )
    ).scalar_one_or_none()
    if waiting is not None:
        content = crypto.decrypt_json(waiting.payload_enc)
        if escalation_id not in content["escalation_ids"]:
            content["escalation_ids"].append(escalation_id)
            waiting.payload_enc = crypto.encrypt_json(content)
        return None
    digest: PageDigestPayload = {**payload, "escalation_ids": [escalation_id]}
    not_before = await _next_digest_slot(session, recipient, now=now, every=every, per_minute=per_minute)
    await enqueue(
        session,
        crypto,
        kind=PAGE_DIGEST,
        payload=digest,
        now=now,
        not_before=not_before,
        lane=LANE_URGENT,
        recipient=recipient,
    )
    return not_before


async def _next_digest_slot(
    session: AsyncSession, recipient: str, *, now: datetime, every: timedelta, per_minute: int
) -> datetime:
    """The earliest time a new digest may go: ``every`` after the last one (by when it was due, not when
    it was written: a digest written early and sent late must not let the next one follow at once), and
    a minute after the ``per_minute``-th last one."""
    due = [
        _aware(d, now)
        for d in (
            await session.scalars(
                select(OutboxEvent.not_before)
                .where(OutboxEvent.kind == PAGE_DIGEST, OutboxEvent.recipient == recipient)
                .order_by(OutboxEvent.not_before.desc())
                .limit(max(per_minute, 1))
            )
        )
    ]
    slot = now
    if due:
        slot = max(slot, due[0] + every)
    if per_minute > 0 and len(due) >= per_minute:
        slot = max(slot, due[per_minute - 1] + WINDOW)
    return slot


def _aware(value: datetime, like: datetime) -> datetime:
    """SQLite returns naive datetimes; give them the clock's zone to compare."""
    return value.replace(tzinfo=like.tzinfo) if value.tzinfo is None and like.tzinfo is not None else value
