"""Transcripts and idle conversations are purged after the retention period; statistics stay.

Issue 15: the purge removed only ``done``/``held`` outbox rows; given-up (``dead``) rows and web chat
messages nobody fetched stayed forever. Each kind of row now has its time (``HOTLINE_PURGE_*``).
"""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.escalation.notify import send_to_person
from bot.messages import Reply
from bot.outbox.dispatcher import Event, GiveUp
from bot.runtime import Services
from bot.store.models import Contact, Conversation, Message, OutboxEvent, ProcessedMessage, ScreenedCall
from bot.store.outbox import enqueue
from tests.support.db import count, drain


async def test_purge_after_retention_keeps_statistics(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    old, recent = secrets.token_hex(16), secrets.token_hex(16)
    await client.post("/api/webchat", json={"session": old, "text": "PrEP là gì"})
    clock.advance(days=services.settings.retention_days - 1)
    await client.post("/api/webchat", json={"session": recent, "text": "PEP là gì"})
    clock.advance(days=2)
    counts = await services.purge()
    assert counts["conversations"] == 1
    async with services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 1
        messages = await session.scalar(select(func.count()).select_from(Message))
        assert messages and messages > 0, "the recent conversation keeps its transcript"
        assert await session.scalar(select(func.count()).select_from(Contact)) == 2


async def _web_person(client: httpx.AsyncClient, services: Services) -> Conversation:
    session_id = secrets.token_hex(16)
    await client.post("/api/webchat", json={"session": session_id, "text": "PrEP là gì"})
    async with services.sessionmaker() as session:
        user_key = services.crypto.user_key("webchat", session_id)
        return (
            await session.execute(select(Conversation).where(Conversation.user_key == user_key))
        ).scalar_one()


async def _given_up(services: Services) -> None:
    """A delivery the dispatcher gives up on (the person blocked the bot): status ``dead``."""

    async def refused(event: Event) -> None:
        raise GiveUp("blocked")

    services.dispatcher.register("test_refused", refused)
    async with services.sessionmaker() as session, session.begin():
        await enqueue(
            session, services.crypto, kind="test_refused", payload={"address": "42"}, now=services.clock.now()
        )
    await drain(services)
    assert await count(services, OutboxEvent, OutboxEvent.status == "dead") == 1


async def test_dead_outbox_rows_are_purged_after_their_time(services: Services, clock: FrozenClock) -> None:
    await _given_up(services)
    clock.advance(days=services.settings.purge_dead_days, seconds=-1)
    await services.purge()
    assert await count(services, OutboxEvent, OutboxEvent.status == "dead") == 1, "not yet"
    clock.advance(seconds=2)
    assert (await services.purge())["outbox"] == 1
    assert await count(services, OutboxEvent) == 0


async def test_unread_web_chat_messages_are_purged_after_their_time(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    conversation = await _web_person(client, services)
    async with services.sessionmaker() as session, session.begin():
        conversation = await session.merge(conversation)
        await send_to_person(
            session, services.crypto, conversation=conversation, replies=[Reply("Chị ở đây.")],
            now=clock.now(), push_channels=services.engine.deps.push_channels,
        )  # fmt: skip
    unread = OutboxEvent.kind == "inbox", OutboxEvent.status == "pending"
    assert await count(services, OutboxEvent, *unread) == 1
    clock.advance(hours=services.settings.purge_webchat_unread_hours, seconds=-1)
    await services.purge()
    assert await count(services, OutboxEvent, *unread) == 1, "not yet"
    clock.advance(seconds=2)
    await services.purge()
    assert await count(services, OutboxEvent, *unread) == 0


async def test_stale_undelivered_rows_cached_replies_and_erasure_rows_are_purged(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    settings = services.settings
    async with services.sessionmaker() as session, session.begin():
        for kind, erase in (("nobody_handles_this", False), ("deliver_after_erasure", True)):
            await enqueue(
                session, services.crypto, kind=kind, payload={}, now=clock.now(), erase_when_done=erase
            )
    await client.post(
        "/api/webchat", json={"session": secrets.token_hex(16), "id": "m1", "text": "PrEP là gì"}
    )
    assert await count(services, ProcessedMessage) == 1
    clock.advance(hours=settings.purge_erased_hours, seconds=1)
    await services.purge()
    assert await count(services, OutboxEvent, OutboxEvent.erase_when_done) == 0
    assert await count(services, OutboxEvent) == 1, "an ordinary undelivered row waits longer"
    clock.advance(hours=settings.purge_dedup_hours - settings.purge_erased_hours)
    await services.purge()
    assert await count(services, ProcessedMessage) == 0
    clock.advance(days=settings.purge_undelivered_days)
    await services.purge()
    assert await count(services, OutboxEvent) == 0


async def test_accepted_phone_legs_are_purged_with_the_de_duplication_ids(
    services: Services, clock: FrozenClock
) -> None:
    async with services.sessionmaker() as session, session.begin():
        session.add(ScreenedCall(ref_hash="c" * 64, created_at=clock.now()))
    clock.advance(hours=services.settings.purge_dedup_hours, seconds=-1)
    await services.purge()
    assert await count(services, ScreenedCall) == 1, "kept while a late dial callback may still ask"
    clock.advance(seconds=2)
    await services.purge()
    assert await count(services, ScreenedCall) == 0
