"""Small helpers for the Telegram tests: post an update to the webhook, run the outbox, count rows."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from bot.runtime import Services

WEBHOOK_SECRET = "test_webhook-secret_0123456789"


async def post_update(
    client: httpx.AsyncClient, update: dict[str, Any], *, secret: str | None = WEBHOOK_SECRET
) -> httpx.Response:
    """POST an update to the webhook as Telegram does (with the secret header, unless None)."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return await client.post("/telegram/webhook", json=update, headers=headers)


async def deliver(services: Services) -> int:
    """Run the outbox until nothing more is due now; how many events finished."""
    total = 0
    while done := await services.dispatcher.run_once():
        total += done
    return total


async def count(services: Services, model: type, *where: Any) -> int:
    async with services.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


class VirtualTime:
    """A monotonic time that moves only when the rate limiter sleeps (the pacing is kept, the waiting is not)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)
