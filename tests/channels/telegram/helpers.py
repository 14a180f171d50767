"""Small helpers for the Telegram tests: post an update to the webhook, run the outbox, count rows."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.db import count
from tests.support.db import drain as deliver

__all__ = ["WEBHOOK_SECRET", "VirtualTime", "count", "deliver", "post_update"]

WEBHOOK_SECRET = "test_webhook-secret_0123456789"


async def post_update(
    client: httpx.AsyncClient, update: dict[str, Any], *, secret: str | None = WEBHOOK_SECRET
) -> httpx.Response:
    """POST an update to the webhook as Telegram does (with the secret header, unless None)."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return await client.post("/telegram/webhook", json=update, headers=headers)


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
