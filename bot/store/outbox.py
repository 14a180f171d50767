"""Writing outbox events: side effects that must not be lost, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Crypto
from bot.store.models import OutboxEvent


async def enqueue(
    session: AsyncSession,
    crypto: Crypto,
    *,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    channel: str | None = None,
    conversation_id: int | None = None,
    escalation_id: int | None = None,
    ordering_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboxEvent:
    """Add an event (its payload encrypted) to the session; it is sent once the transaction commits."""
    event = OutboxEvent(
        kind=kind,
        channel=channel,
        conversation_id=conversation_id,
        escalation_id=escalation_id,
        ordering_key=ordering_key,
        payload_enc=crypto.encrypt_json(payload),
        status="pending",
        attempts=0,
        not_before=not_before or now,
        created_at=now,
    )
    session.add(event)
    await session.flush()
    return event


async def release_held(session: AsyncSession, *, conversation_id: int, now: datetime) -> int:
    """Put a conversation's held events back in the queue (they keep their order); returns how many."""
    result = await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.conversation_id == conversation_id, OutboxEvent.status == "held")
        .values(status="pending", not_before=now, last_error=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
