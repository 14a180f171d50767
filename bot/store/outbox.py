"""Writing outbox events: side effects that must not be lost, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
