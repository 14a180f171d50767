"""``hotline stats`` counts safety check-ins (set, answered, escalated) from the contacts, with the same
small-number suppression as every other figure, and keeps them after the conversations are purged."""

from __future__ import annotations

import json
import secrets

import httpx

from bot.clock import FrozenClock
from bot.runtime import Services
from bot.store.retention import purge
from tests.stats.cli import hotline_async
from tests.support.db import drain


async def _say(client: httpx.AsyncClient, person: str, text: str) -> None:
    response = await client.post("/api/webchat", json={"session": person, "text": text})
    assert response.status_code == 200, response.text


async def _tap(client: httpx.AsyncClient, person: str, choice: str) -> None:
    response = await client.post("/api/webchat", json={"session": person, "choice": choice})
    assert response.status_code == 200, response.text


async def test_checkins_set_answered_escalated_with_suppression(
    services: Services, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    answering = [secrets.token_hex(16) for _ in range(6)]
    silent = [secrets.token_hex(16) for _ in range(2)]
    for person in answering + silent:
        await _say(client, person, "hẹn giờ an toàn")
        await _tap(client, person, "checkin.pick:m30")
    clock.advance(minutes=30)
    await drain(services)
    for person in answering:
        await _tap(client, person, "checkin.due:ok")
    for _ in range(2):
        clock.advance(minutes=10)
        await drain(services)

    clock.advance(days=200)  # conversations and transcripts purged; the statistics stay
    async with services.sessionmaker() as session, session.begin():
        await purge(session, now=clock.now(), settings=services.settings)
    result = await hotline_async(services.settings.database_url, "stats", "--from", "2026-01", "--to", "2026-01", "--format", "json")  # fmt: skip
    report = json.loads(result.stdout)
    assert report["checkins"] == {"set": 8, "answered": 6, "escalated": "<5"}, "2 escalated: under 5"
    table = await hotline_async(services.settings.database_url, "stats", "--from", "2026-01", "--to", "2026-01")  # fmt: skip
    assert "Hẹn giờ an toàn" in table.stdout or "Safety check-ins" in table.stdout
