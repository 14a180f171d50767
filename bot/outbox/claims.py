"""Claiming outbox events: lanes first, one event per ordering key at a time, leases that can be renewed.

A claim is a lease (``claimed_until``, ``claimed_by``) written in one short transaction; on PostgreSQL
the rows are read ``FOR UPDATE SKIP LOCKED``, so two processes never claim the same event. Events are
taken lowest lane first (:mod:`bot.store.outbox`), oldest first within a lane.

Per ordering key, only the key's oldest pending event may be claimed, so one person's replies (or one
escalation's pages) go out in order. When a key's head sits in a lower-priority lane than a later event
of the same key (a clean-up queued before a reply), the head is claimed in the later event's place:
otherwise the reply would wait for the clean-up's lane to come round.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import OutboxEvent


def _due(query: Select[OutboxEvent], kinds: Collection[str], now: datetime) -> Select[OutboxEvent]:
    return query.where(
        OutboxEvent.status == "pending",
        OutboxEvent.kind.in_(kinds),
        OutboxEvent.not_before <= now,
        (OutboxEvent.claimed_until.is_(None)) | (OutboxEvent.claimed_until < now),
    )


def _locked(session: AsyncSession, query: Select[OutboxEvent]) -> Select[OutboxEvent]:
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


async def claim(
    session: AsyncSession,
    *,
    kinds: Collection[str],
    now: datetime,
    limit: int,
    lease_until: datetime,
    worker: str,
) -> list[OutboxEvent]:
    """Claim up to ``limit`` due events (lowest lane first, at most one per ordering key), in the session."""
    if limit <= 0 or not kinds:
        return []
    query = _due(select(OutboxEvent), kinds, now).order_by(OutboxEvent.lane, OutboxEvent.id).limit(limit * 2)
    candidates = list((await session.execute(_locked(session, query))).scalars())
    if not candidates:
        return []
    keys = {e.ordering_key for e in candidates if e.ordering_key}
    heads: dict[str, int] = {}
    if keys:
        rows = await session.execute(
            select(OutboxEvent.ordering_key, func.min(OutboxEvent.id))
            .where(OutboxEvent.status == "pending", OutboxEvent.ordering_key.in_(keys))
            .group_by(OutboxEvent.ordering_key)
        )
        heads = {key: first for key, first in rows.all() if key is not None}
    by_id = {e.id: e for e in candidates}
    for event in candidates:
        if event.ordering_key:
            heads.setdefault(event.ordering_key, event.id)
    missing = [
        heads[e.ordering_key] for e in candidates if e.ordering_key and heads[e.ordering_key] not in by_id
    ]
    if missing:
        # Heads in a later lane (or beyond the candidates' window) that hold up a candidate.
        query = _due(select(OutboxEvent).where(OutboxEvent.id.in_(missing)), kinds, now)
        by_id.update({e.id: e for e in (await session.execute(_locked(session, query))).scalars()})
    chosen: list[OutboxEvent] = []
    seen: set[int] = set()
    for event in candidates:
        pick = by_id.get(heads[event.ordering_key]) if event.ordering_key else event
        if pick is None or pick.id in seen:
            continue  # its key's head is not due yet, or is someone else's right now
        seen.add(pick.id)
        chosen.append(pick)
        if len(chosen) == limit:
            break
    for event in chosen:
        event.claimed_until = lease_until
        event.claimed_by = worker
    return chosen


async def renew(session: AsyncSession, *, ids: Sequence[int], worker: str, until: datetime) -> int:
    """Extend this worker's leases on ``ids`` (the heartbeat while they run); how many were still ours."""
    if not ids:
        return 0
    result = await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(ids), OutboxEvent.claimed_by == worker, OutboxEvent.status == "pending")
        .values(claimed_until=until)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def take_back(session: AsyncSession, *, life: str, worker: str) -> int:
    """Release the leases an earlier life of this instance held (it crashed); how many.

    ``claimed_by`` is ``<life>/<nonce>``: the same life (instance id) with another nonce is a previous run
    of this very process slot, which cannot be running any more (see :mod:`bot.outbox.instance`).
    """
    result = await session.execute(
        update(OutboxEvent)
        .where(
            OutboxEvent.status == "pending",
            OutboxEvent.claimed_by.startswith(f"{life}/", autoescape=True),
            OutboxEvent.claimed_by != worker,
        )
        .values(claimed_until=None, claimed_by=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
