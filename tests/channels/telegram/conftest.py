"""Telegram tests: the real aiogram bot against the fake Bot API server, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.limits import RateLimiter
from bot.runtime import Services
from bot.settings import Settings
from tests.channels.telegram.helpers import WEBHOOK_SECRET, VirtualTime
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
def settings(settings: Settings, telegram: FakeTelegram) -> Settings:
    """The shared test settings, with the Telegram channel on and pointed at the fake server."""
    return settings.model_copy(
        update={
            "telegram_token": SecretStr(telegram.token),
            "telegram_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "telegram_api_url": telegram.url,
        }
    )


@pytest.fixture
def pace() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def channel(services: Services, pace: VirtualTime) -> TelegramChannel:
    """The channel, its rate limiter on virtual time: messages are paced as in production, without the wait."""
    channel = services.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    channel.client.limiter = RateLimiter(monotonic=pace.monotonic, sleep=pace.sleep)
    return channel


@pytest.fixture
def client(client: httpx.AsyncClient, channel: TelegramChannel) -> httpx.AsyncClient:
    return client
