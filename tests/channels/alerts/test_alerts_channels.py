"""Bad-client alerts on the push channels, each through its platform's fake (tests/fakes) with the real
library: the person subscribes to a province by typing, an approved report of another province sends them
nothing, one of theirs reaches them, and "hủy cảnh báo" stops the next at once (Telegram, the Zalo bot,
Zalo OA, Messenger; on SQLite and PostgreSQL). The fixtures are the channel contract's."""

from __future__ import annotations

import pytest

from bot.runtime import Services
from bot.store import alerts
from tests.channels.checkins.test_checkins_channels import PUSH_DOORS, shown
from tests.channels.test_contract import Door, World


async def approved(services: Services, province: str, what: str) -> int:
    """A report written and approved (the moderation itself: tests/console/test_moderation.py)."""
    settings, now = services.settings, services.clock.now()
    async with services.sessionmaker() as session, session.begin():
        report = await alerts.start_draft(
            session, services.crypto, conversation=None, province=province, now=now
        )
        alerts.set_field(services.crypto, report, "what", what)
        alerts.set_phone(services.crypto, report, "0901234567")
        await alerts.submit(
            session, report, now=now, expiry_days=settings.alerts_expiry_days, zone=settings.timezone
        )
        return await alerts.decide(
            session, services.crypto, report, approve=True, severity="medium", staff_id=None,
            now=now, expiry_days=settings.alerts_expiry_days, pacing_seconds=0, zone=settings.timezone,
        )  # fmt: skip


@pytest.mark.parametrize("door", PUSH_DOORS, ids=[door.name for door in PUSH_DOORS])
async def test_alerts_reach_subscribers_of_their_province_only_and_stop_at_once(
    world: World, door: Door
) -> None:
    sent = 0

    async def send(text: str) -> str:
        nonlocal sent
        sent += 1
        response = await door.post(world, door.text(world, text, f"alerts-{door.name}-{sent}"))
        assert response.status_code == 200, response.text
        return await shown(world, door)

    await send("xin chào")
    assert "tỉnh/thành nào" in await send("nhan canh bao")
    subscribed = await send("Hà Nội")
    assert "Bạn sẽ nhận cảnh báo khách xấu đã được kiểm duyệt ở Hà Nội" in subscribed
    before = len(subscribed)

    assert await approved(world.services, "Đà Nẵng", "Đánh người ở Sơn Trà") == 0
    assert "Sơn Trà" not in (await shown(world, door))[before:], "another province's alert"
    assert await approved(world.services, "Hà Nội", "Đánh người ở Hoàn Kiếm") == 1
    alert = (await shown(world, door))[before:]
    assert "Cảnh báo khách xấu ở Hà Nội (mức vừa)" in alert and "Đánh người ở Hoàn Kiếm" in alert
    assert "…567" in alert and "0901234567" not in alert

    assert await approved(world.services, "Hà Nội", "Lấy tiền ở Ba Đình") == 1, "queued, not sent yet"
    stopped = await send("hủy cảnh báo")
    assert "Đã dừng" in stopped[before:]
    assert "Ba Đình" not in stopped and "Ba Đình" not in await shown(world, door), "opted out: not sent"
