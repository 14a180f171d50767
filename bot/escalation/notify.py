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
from bot.store.outbox import enqueue, queue_delivery
from bot.store.outbox_kinds import INBOX, InboxPayload


async def send_to_person(
    session: AsyncSession,
    crypto: Crypto,
    *,
    conversation: Conversation,
    replies: Sequence[Reply],
    now: datetime,
    push_channels: frozenset[str],
    direction: str = "out",
    record: bool = True,
) -> None:
    """Queue ``replies`` for the person of ``conversation`` through their own channel; ``record``: with
    the transcript lines (a moderator's question about a bad-client report goes without)."""
    address = crypto.decrypt(conversation.address_enc) if conversation.address_enc else None
    if conversation.channel in push_channels and address is not None:
        await queue_delivery(
            session,
            crypto,
            channel=conversation.channel,
            user_key=conversation.user_key,
            conversation_id=conversation.id,
            address=address,
            replies=replies,
            now=now,
        )
    else:
        payload: InboxPayload = {"replies": [r.to_json() for r in replies]}
        await enqueue(
            session,
            crypto,
            kind=INBOX,
            channel=conversation.channel,
            conversation_id=conversation.id,
            payload=payload,
            now=now,
        )
    for reply in replies if record else ():
        await add_message(
            session, crypto, conversation_id=conversation.id, direction=direction, text=reply.text, now=now
        )
