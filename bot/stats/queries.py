"""Reading what the statistics need: contacts and escalations of a period, no content, no keys out.

Contacts are counted by when they started, escalations by when they were opened, both within the
period's days in its time zone. The pseudonymous ``stats_key`` is read only to count unique users and
never leaves :mod:`bot.stats.figures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.stats.period import Period
from bot.store.models import Contact, Escalation


@dataclass(frozen=True)
class ContactRow:
    """What the statistics read of one contact (a chat session or a call)."""

    channel: str
    stats_key: str
    started_at: datetime
    ended_at: datetime
    topics: tuple[str, ...]
    referrals: tuple[str, ...]
    province: str | None
    helpful: bool | None
    abandoned: bool
    checkins: tuple[int, int, int] = (0, 0, 0)  # safety check-ins set, answered, escalated


@dataclass(frozen=True)
class EscalationRow:
    """What the statistics read of one escalation (an emergency, a counsellor request, a call-back)."""

    kind: str
    created_at: datetime
    taken_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    # the close form (bot/store/closeform.py): codes only; ``form`` is whether one was filled in
    reasons: tuple[str, ...] = ()
    end_risk: str | None = None
    referrals_made: tuple[str, ...] = ()
    follow_up: bool | None = None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


async def contacts_in(session: AsyncSession, period: Period) -> list[ContactRow]:
    """The contacts that started within the period."""
    rows = await session.execute(
        select(
            Contact.channel,
            Contact.stats_key,
            Contact.started_at,
            Contact.ended_at,
            Contact.topics,
            Contact.referrals,
            Contact.province,
            Contact.helpful,
            Contact.abandoned,
            Contact.checkins_set,
            Contact.checkins_answered,
            Contact.checkins_escalated,
        )
        .where(Contact.started_at >= period.since, Contact.started_at < period.until)
        .order_by(Contact.started_at, Contact.id)
    )
    return [
        ContactRow(
            channel=r.channel,
            stats_key=r.stats_key,
            started_at=r.started_at,
            ended_at=r.ended_at,
            topics=_strings(r.topics),
            referrals=_strings(r.referrals),
            province=r.province,
            helpful=r.helpful,
            abandoned=bool(r.abandoned),
            checkins=(r.checkins_set or 0, r.checkins_answered or 0, r.checkins_escalated or 0),
        )
        for r in rows.all()
    ]


async def escalations_in(session: AsyncSession, period: Period) -> list[EscalationRow]:
    """The escalations opened within the period."""
    rows = await session.execute(
        select(
            Escalation.kind,
            Escalation.created_at,
            Escalation.taken_at,
            Escalation.closed_at,
            Escalation.outcome,
            Escalation.close_reasons,
            Escalation.close_risk,
            Escalation.close_referrals,
            Escalation.follow_up,
        )
        .where(Escalation.created_at >= period.since, Escalation.created_at < period.until)
        .order_by(Escalation.created_at, Escalation.id)
    )
    return [
        EscalationRow(
            r.kind,
            r.created_at,
            r.taken_at,
            r.closed_at,
            r.outcome,
            _strings(r.close_reasons),
            r.close_risk,
            _strings(r.close_referrals),
            r.follow_up,
        )
        for r in rows.all()
    ]


async def alert_counts_in(session: AsyncSession, period: Period) -> dict[str, int]:
    """The bad-client alert counters over the period's days (counted by day in the service's zone)."""
    from bot.store.alerts import counts

    return await counts(session, first_day=period.start.isoformat(), last_day=period.end.isoformat())
