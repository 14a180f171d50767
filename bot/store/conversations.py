"""Data access for conversations, transcripts and de-duplication."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Crypto
from bot.store.floodcounts import purge_expired
from bot.store.locking import for_update
from bot.store.models import Conversation, Message, OutboxEvent, ProcessedMessage


async def get_or_create(
    session: AsyncSession, *, channel: str, user_key: str, now: datetime, locale: str
) -> tuple[Conversation, bool]:
    """The conversation of this person on this channel, locked for this transaction; new if none."""
    query = for_update(
        session,
        select(Conversation).where(Conversation.channel == channel, Conversation.user_key == user_key),
    )
    conversation = (await session.execute(query)).scalar_one_or_none()
    if conversation is not None:
        return conversation, False
    conversation = Conversation(
        channel=channel,
        user_key=user_key,
        locale=locale,
        locale_chosen=False,
        context={},
        created_at=now,
        last_seen_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(conversation)
            await session.flush()
    except IntegrityError:
        # Another process created it a moment ago (PostgreSQL only; SQLite serialises writers).
        conversation = (await session.execute(query)).scalar_one()
        return conversation, False
    return conversation, True


async def find(session: AsyncSession, *, channel: str, user_key: str) -> Conversation | None:
    query = select(Conversation).where(Conversation.channel == channel, Conversation.user_key == user_key)
    return (await session.execute(query)).scalar_one_or_none()


async def add_message(
    session: AsyncSession,
    crypto: Crypto,
    *,
    conversation_id: int,
    direction: str,
    text: str,
    now: datetime,
    transport_ref: str | None = None,
) -> Message:
    message = Message(
        conversation_id=conversation_id,
        direction=direction,
        body_enc=crypto.encrypt(text),
        transport_ref_enc=crypto.encrypt(transport_ref) if transport_ref else None,
        created_at=now,
    )
    session.add(message)
    return message


async def transcript(
    session: AsyncSession, crypto: Crypto, conversation_id: int
) -> list[tuple[str, str, datetime]]:
    """The decrypted transcript: (direction, text, time), oldest first. Not audited: staff read it through
    ``Desk.transcript``, which is."""
    rows = await session.execute(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at, Message.id)
    )
    return [(m.direction, crypto.decrypt(m.body_enc), m.created_at) for m in rows.scalars()]


async def delete_conversation(session: AsyncSession, conversation: Conversation) -> None:
    """Delete a person's conversation, transcript and undelivered messages at once."""
    await session.execute(delete(Message).where(Message.conversation_id == conversation.id))
    await session.execute(
        delete(OutboxEvent).where(
            OutboxEvent.conversation_id == conversation.id,
            OutboxEvent.kind.in_(("deliver", "inbox")),
            OutboxEvent.status.in_(("pending", "held")),
        )
    )
    await session.delete(conversation)
    await session.flush()


async def claim_transport_id(
    session: AsyncSession, *, channel: str, ref_hash: str, now: datetime
) -> tuple[ProcessedMessage, bool]:
    """Record a transport message id; the record, and whether it had been processed before."""
    existing = await session.get(ProcessedMessage, (channel, ref_hash))
    if existing is not None:
        return existing, True
    record = ProcessedMessage(channel=channel, ref_hash=ref_hash, replies_enc=None, created_at=now)
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
    except IntegrityError:
        # The same id is being handled by another process at this moment (PostgreSQL).
        existing = await session.get(ProcessedMessage, (channel, ref_hash), populate_existing=True)
        if existing is None:
            raise
        return existing, True
    return record, False


async def purge(session: AsyncSession, *, now: datetime, retention_days: int) -> dict[str, int]:
    """Delete transcripts, idle conversations and old de-duplication records past retention, and the
    flood counters whose window is over."""
    cutoff = now - timedelta(days=retention_days)
    messages = await session.execute(delete(Message).where(Message.created_at < cutoff))
    idle = await session.execute(
        delete(Conversation).where(Conversation.last_seen_at < cutoff, Conversation.held_by.is_(None))
    )
    processed = await session.execute(
        delete(ProcessedMessage).where(ProcessedMessage.created_at < now - timedelta(days=2))
    )
    done = await session.execute(  # held: waiting for a person who has not written since (Zalo OA)
        delete(OutboxEvent).where(OutboxEvent.status.in_(("done", "held")), OutboxEvent.created_at < cutoff)
    )
    flood_counts = await purge_expired(session, now=now)  # keyed hashes of addresses: hours, not days
    return {
        "flood_counts": flood_counts,
        "messages": messages.rowcount or 0,  # type: ignore[attr-defined]
        "conversations": idle.rowcount or 0,  # type: ignore[attr-defined]
        "processed_ids": processed.rowcount or 0,  # type: ignore[attr-defined]
        "outbox": done.rowcount or 0,  # type: ignore[attr-defined]
    }
