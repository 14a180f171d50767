"""A message retried by its transport (or sent twice at once) is handled once, and its retries get the same
replies; on PostgreSQL the second of two concurrent copies waits for the first one's transaction."""

from __future__ import annotations

import asyncio
import secrets

from sqlalchemy import select

from bot.messages import InboundMessage
from bot.runtime import Services
from bot.store.models import Contact, Conversation, Message, ProcessedMessage
from tests.support.db import count


async def test_two_copies_sent_at_once_are_handled_once(services: Services) -> None:
    user = secrets.token_hex(8)
    await services.engine.handle(InboundMessage("test", user, text="xin chao", transport_id=f"{user}:0"))
    copy = InboundMessage("test", user, text="xet nghiem hiv o dau", transport_id=f"{user}:1")
    first, second = await asyncio.gather(services.engine.handle(copy), services.engine.handle(copy))
    assert sorted([first.duplicate, second.duplicate]) == [False, True]
    assert first.replies == second.replies and first.replies, "the copy gets the same answer"
    assert await count(services, ProcessedMessage) == 2
    async with services.sessionmaker() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
        assert contact.message_count == 2, "counted once"
    # one line in per message handled, one line out per reply (the welcome and the answer)
    lines = await count(services, Message, Message.direction == "in")
    assert lines == 2


async def test_a_retry_after_the_answer_gets_the_same_replies_and_writes_nothing(services: Services) -> None:
    user = secrets.token_hex(8)
    message = InboundMessage("test", user, text="PrEP là gì", transport_id=f"{user}:7")
    answered = await services.engine.handle(message)
    written = await count(services, Message)
    again = await services.engine.handle(message)
    assert again.duplicate and again.replies == answered.replies
    assert again.locale == answered.locale
    assert await count(services, Message) == written
    assert await count(services, Conversation) == 1


async def test_a_deleted_conversation_keeps_no_transcript_of_the_message_that_deleted_it(
    services: Services,
) -> None:
    user = secrets.token_hex(8)
    await services.engine.handle(InboundMessage("test", user, text="PrEP là gì", transport_id=f"{user}:1"))
    await services.engine.handle(InboundMessage("test", user, text="xóa", transport_id=f"{user}:2"))
    yes = InboundMessage("test", user, kind="choice", choice="privacy.confirm:yes", transport_id=f"{user}:3")
    outcome = await services.engine.handle(yes)
    assert outcome.conversation_id is None, "deleted"
    assert await count(services, Message) == 0
    assert await count(services, Conversation) == 0
    async with services.sessionmaker() as session:
        kept = (await session.execute(select(ProcessedMessage.conversation_id))).scalars().all()
    assert kept == [None], "only the deleting message's own (the confirmation) is kept, tied to nobody"
