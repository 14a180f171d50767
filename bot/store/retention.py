"""The purge (hourly, and ``hotline purge``): what is past its time goes; statistics stay.

* transcripts, and conversations idle (and not held by a counsellor) past ``retention_days``; the desk's
  notes (bot/store/desknotes.py) past ``retention_days`` and with their conversation;
* outbox rows: sent (``done``) and held ones past ``retention_days``; given up (``dead``) ones past
  ``purge_dead_days``; never sent (``pending``, not being sent now) past ``purge_undelivered_days``;
  web chat messages the page never fetched (``inbox``) past ``purge_webchat_unread_hours``; a deleted
  person's confirmation or chat clean-up (``erase_when_done``) past ``purge_erased_hours``;
* replies cached for retried webhooks past ``purge_dedup_hours``;
* call-back numbers of escalations past ``retention_days`` (the case itself stays, for statistics);
* flood counters whose window is over;
* bad-client reports past their ``expires_at`` (bot/store/alerts.py). A conversation subscribed to
  alerts is not idle: its address is what the alerts need, until the person opts out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from bot.store import alerts
from bot.store.floodcounts import purge_expired
from bot.store.models import (
    AlertSubscription,
    Conversation,
    DeskNote,
    Escalation,
    Message,
    OutboxEvent,
    ProcessedMessage,
    ScreenedCall,
)
from bot.store.outbox_kinds import INBOX


def _older(hours: float, now: datetime) -> datetime:
    return now - timedelta(hours=hours)


async def purge(session: AsyncSession, *, now: datetime, settings: Settings) -> dict[str, int]:
    """Delete what is past its time; how many rows of each kind went."""
    cutoff = now - timedelta(days=settings.retention_days)
    messages = await session.execute(delete(Message).where(Message.created_at < cutoff))
    is_idle = and_(
        Conversation.last_seen_at < cutoff,
        Conversation.held_by.is_(None),
        # a person subscribed to bad-client alerts is kept until they opt out (their address is needed)
        ~exists(select(AlertSubscription.id).where(AlertSubscription.conversation_id == Conversation.id)),
    )
    # the desk's notes are free text like the messages: as old as a message purged, or of a conversation
    # that goes, they go too
    notes = await session.execute(
        delete(DeskNote).where(
            or_(
                DeskNote.created_at < cutoff,
                DeskNote.conversation_id.in_(select(Conversation.id).where(is_idle)),
            )
        )
    )
    idle = await session.execute(delete(Conversation).where(is_idle))
    processed = await session.execute(
        delete(ProcessedMessage).where(ProcessedMessage.created_at < _older(settings.purge_dedup_hours, now))
    )
    screens = await session.execute(
        delete(ScreenedCall).where(ScreenedCall.created_at < _older(settings.purge_dedup_hours, now))
    )
    not_claimed = or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now)
    outbox = await session.execute(
        delete(OutboxEvent).where(
            or_(
                # held: waiting for a person who has not written since (Zalo OA)
                and_(OutboxEvent.status.in_(("done", "held")), OutboxEvent.created_at < cutoff),
                and_(
                    OutboxEvent.status == "dead",
                    OutboxEvent.created_at < _older(settings.purge_dead_days * 24, now),
                ),
                and_(
                    OutboxEvent.status == "pending",
                    OutboxEvent.kind == INBOX,
                    OutboxEvent.created_at < _older(settings.purge_webchat_unread_hours, now),
                ),
                and_(
                    OutboxEvent.status == "pending",
                    OutboxEvent.created_at < _older(settings.purge_undelivered_days * 24, now),
                    not_claimed,
                ),
                and_(
                    OutboxEvent.erase_when_done,
                    OutboxEvent.created_at < _older(settings.purge_erased_hours, now),
                    not_claimed,
                ),
            )
        )
    )
    numbers = await session.execute(
        update(Escalation)
        .where(Escalation.created_at < cutoff, Escalation.callback_phone_enc.is_not(None))
        .values(callback_phone_enc=None)
    )
    flood_counts = await purge_expired(session, now=now)  # keyed hashes of addresses: hours, not days
    reports = await alerts.purge_expired(session, now=now)
    return {
        "flood_counts": flood_counts,
        "client_reports": reports,
        "messages": _count(messages),
        "desk_notes": _count(notes),
        "conversations": _count(idle),
        "processed_ids": _count(processed) + _count(screens),
        "outbox": _count(outbox),
        "callback_numbers": _count(numbers),
    }


def _count(result: Any) -> int:
    return int(result.rowcount or 0)
