"""Transcripts and idle conversations are purged after the retention period; statistics stay."""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.runtime import Services
from bot.store.models import Contact, Conversation, Message


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
