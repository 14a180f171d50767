"""Writing to a person outside a reply: a counsellor's message, "someone is coming", "nobody answered".

Push channels (Telegram, Zalo) get a ``deliver`` outbox event; the web chat picks its ``inbox`` events up
when the page next asks. Both are written in the caller's transaction, with the transcript line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Reply
from bot.store.conversations import add_message
from bot.store.crypto import Crypto
from bot.store.models import Conversation
from bot.store.outbox import enqueue


async def send_to_person(
    session: AsyncSession,
    crypto: Crypto,
    *,
    conversation: Conversation,
    replies: Sequence[Reply],
    now: datetime,
    push_channels: frozenset[str],
    direction: str = "out",
) -> None:
    """Queue ``replies`` for the person of ``conversation`` through their own channel."""
    address = crypto.decrypt(conversation.address_enc) if conversation.address_enc else None
    payload = {"replies": [r.to_json() for r in replies]}
    if conversation.channel in push_channels and address is not None:
        await enqueue(
            session,
            crypto,
            kind="deliver",
            channel=conversation.channel,
            conversation_id=conversation.id,
            ordering_key=f"{conversation.channel}:{conversation.user_key[:32]}",
            payload={"address": address, **payload},
            now=now,
        )
    else:
        await enqueue(
            session,
            crypto,
            kind="inbox",
            channel=conversation.channel,
            conversation_id=conversation.id,
            payload=payload,
            now=now,
        )
    for reply in replies:
        await add_message(
            session, crypto, conversation_id=conversation.id, direction=direction, text=reply.text, now=now
        )
