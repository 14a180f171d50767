"""Conversations at possible risk: the bot asked "are you in danger right now?"; nobody was paged.

The console lists them beside the queue so a counsellor on duty sees them (how many, on which channel,
what kind of danger the model guessed, and what the person answered) without being paged for each.
Contacts carry no content and no user key: the list shows no one's words and identifies no one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import Contact

WATCH_HOURS = 24


@dataclass(frozen=True)
class PossibleRisk:
    """One contact where the bot asked before paging."""

    contact_id: int
    channel: str
    kind: str | None
    asked_at: datetime
    answer: str | None  # danger | information | None (not answered yet)
    emergency: bool  # it became an emergency (answered yes, or wrote more signs of danger)


async def possible_risks(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime, hours: int = WATCH_HOURS
) -> list[PossibleRisk]:
    """Contacts asked in the last ``hours``, the unanswered first, then the newest."""
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Contact)
            .where(Contact.possible_at.is_not(None), Contact.possible_at >= now - timedelta(hours=hours))
            .order_by(Contact.possible_answer.is_not(None), Contact.possible_at.desc())
            .limit(200)
        )
        return [
            PossibleRisk(
                contact_id=c.id,
                channel=c.channel,
                kind=c.possible_kind,
                asked_at=c.possible_at,
                answer=c.possible_answer,
                emergency=c.emergency,
            )
            for c in rows.scalars()
            if c.possible_at is not None
        ]
