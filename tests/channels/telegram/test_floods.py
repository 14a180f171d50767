"""One Telegram chat flooding emergencies: every message gets the safety text, staff are not paged for each."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import select

from bot.channels.telegram import TelegramChannel
from bot.runtime import Services
from bot.settings import Settings
from bot.store.models import Escalation
from tests.channels.telegram.helpers import deliver, post_update
from tests.fakes.telegram_api import FakeTelegram

FLOODER = 555_000_111
PERSON = 555_000_222
STAFF = -100_777
EMERGENCY = "cuu em voi, ck dang danh em"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Pages go to the staff group on the fake Telegram; at most 3 alerts a chat an hour."""
    return settings.model_copy(update={"telegram_staff_chat_id": STAFF, "flood_alerts_per_hour": 3})


async def test_one_chat_flooding_emergencies_gets_every_safety_reply_but_pages_staff_only_up_to_the_cap(
    client: httpx.AsyncClient,
    services: Services,
    telegram: FakeTelegram,
    channel: TelegramChannel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        for _ in range(10):
            response = await post_update(client, telegram.text_update(FLOODER, EMERGENCY))
            assert response.status_code == 200
            await deliver(services)
    answers = [c.params["text"] for c in telegram.sent(FLOODER)]
    assert sum("113" in text for text in answers) == 10, "every message is answered with the numbers"
    staff = telegram.sent(STAFF)
    assert len(staff) == 3, "the page, then two re-alerts; the other seven page nobody"
    assert "KHẨN CẤP" in staff[0].params["text"]

    async with services.sessionmaker() as session:
        rows = list((await session.execute(select(Escalation))).scalars())
    assert len(rows) == 1 and rows[0].status == "open" and not rows[0].flooded, (
        "one chat, one escalation, still first in the queue"
    )

    response = await post_update(client, telegram.text_update(PERSON, EMERGENCY))
    await deliver(services)
    assert any("113" in c.params["text"] for c in telegram.sent(PERSON))
    assert len(telegram.sent(STAFF)) == 4, "another chat's emergency is paged at once"

    lines = [r.getMessage() for r in caplog.records if r.name == "bot.engine.floods"]
    assert len(lines) == 7 and all(line.startswith("telegram: alert cap reached (n=") for line in lines)
    for secret in (str(FLOODER), services.crypto.user_key("telegram", str(FLOODER))):
        assert secret not in caplog.text
