"""Safety check-ins on the push channels, each through its platform's fake (tests/fakes) with the real
library: set by typing, "are you OK?" delivered at the time with its one-tap answers, answered by typing
the answer (Telegram, the Zalo bot, Zalo OA, Messenger; on SQLite and PostgreSQL). The rows and the
fixtures (conftest.py) are the channel contract's (tests/channels/test_contract.py)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.store.models import Checkin
from tests.channels.test_contract import MESSENGER, TELEGRAM, TELEGRAM_CHAT, ZALO_BOT, ZALO_OA, Door, World
from tests.support.db import drain

PUSH_DOORS = [TELEGRAM, ZALO_BOT, ZALO_OA, MESSENGER]


async def shown(world: World, door: Door) -> str:
    """Everything the person's app shows so far: texts, and on Telegram the buttons' labels too."""
    await drain(world.services)
    if door is TELEGRAM:
        calls = world.telegram.sent(TELEGRAM_CHAT)
        return "\n".join(
            f"{call.params.get('text')} {json.dumps(call.params.get('reply_markup'), ensure_ascii=False)}"
            for call in calls
        )
    if door is MESSENGER:  # quick replies carry the choices
        return "\n".join(
            f"{s.text} {' '.join(q['title'] for q in s.quick_replies)}" for s in world.graph.sent
        )
    response = world.responses[-1] if world.responses else None
    assert response is not None
    return "\n".join(await door.replies(world, response))


@pytest.mark.parametrize("door", PUSH_DOORS, ids=[door.name for door in PUSH_DOORS])
async def test_set_then_asked_at_the_time_then_answered(world: World, door: Door) -> None:
    sent = 0

    async def send(text: str) -> str:
        nonlocal sent
        sent += 1
        response = await door.post(world, door.text(world, text, f"checkin-{door.name}-{sent}"))
        assert response.status_code == 200, response.text
        return await shown(world, door)

    await send("xin chào")
    after_start = await send("hen gio an toan")
    assert "Hẹn giờ an toàn" in after_start and "30 phút" in after_start and "2 giờ" in after_start
    assert "trang này còn mở" not in after_start, "a push channel reaches a closed app"
    after_time = await send("1 tiếng")
    assert "11:00" in after_time, "the clock time in Vietnam (the frozen clock is 10:00 there)"
    before = len(after_time)

    world.clock.advance(minutes=60)
    prompt = (await shown(world, door))[before:]
    assert (
        "Bạn ổn chứ?" in prompt and "Tôi ổn" in prompt and "Cần giúp" in prompt and "Thêm 30 phút" in prompt
    )
    answered = (await send("Tôi ổn"))[before:]
    assert "Mừng là bạn ổn" in answered
    async with world.services.sessionmaker() as session:
        checkin = (await session.execute(select(Checkin))).scalar_one()
    assert (checkin.channel, checkin.stage) == (door.name, "answered")
