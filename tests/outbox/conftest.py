"""Outbox tests: the real dispatcher, paging and Telegram client against the fake Bot API, on both databases.

The Telegram client paces on virtual time (:class:`VirtualTime`), so pacing is as in production without
any waiting; the clock is frozen, so an event re-timed by pacing stays pending until the test moves
the clock on.
"""

from __future__ import annotations

import secrets

import pytest
from pydantic import SecretStr

from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.limits import RateLimiter
from bot.messages import InboundMessage
from bot.runtime import Services
from bot.settings import Settings
from tests.channels.telegram.helpers import VirtualTime
from tests.escalation.conftest import rota  # noqa: F401 (the on-call rota: Lan, then Minh)
from tests.fakes.telegram_api import FakeTelegram

STAFF_GROUP = -100555
LAN = 1001  # first in the chain: paged at level 0
EMERGENCY = "cuu em voi, ck dang danh em"


@pytest.fixture
def settings(settings: Settings, telegram: FakeTelegram) -> Settings:
    """Telegram on (the fake), a staff group, and pages not combined unless a test says so."""
    return settings.model_copy(
        update={
            "telegram_token": SecretStr(telegram.token),
            "telegram_api_url": telegram.url,
            "telegram_staff_chat_id": STAFF_GROUP,
            "page_combine_above": 0,
        }
    )


@pytest.fixture
def pace(services: Services) -> VirtualTime:
    """Telegram's pacing on virtual time (shared by the person-facing channel and the staff pager)."""
    time = VirtualTime()
    channel = services.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    channel.client.limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    return time


async def emergency(services: Services) -> None:
    """An emergency from an anonymous web chat (its safety reply is answered in the HTTP response)."""
    outcome = await services.engine.handle(
        InboundMessage("webchat", secrets.token_hex(16), text=EMERGENCY, transport_id=secrets.token_hex(8))
    )
    assert outcome.emergency


async def telegram_person_writes(services: Services, chat_id: int, text: str = "xin chao") -> None:
    """A person writes to the bot on Telegram: the engine queues a ``deliver`` with the reply."""
    await services.engine.handle(
        InboundMessage(
            "telegram", str(chat_id), text=text, address=str(chat_id), transport_id=secrets.token_hex(8)
        )
    )
