"""Data access for conversations, transcripts and de-duplication (deleting: :mod:`bot.store.erasure`;
purging: :mod:`bot.store.retention`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Crypto
from bot.store.locking import for_update
from bot.store.models import Conversation, Message, ProcessedMessage


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
