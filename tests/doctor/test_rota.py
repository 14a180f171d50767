"""``hotline doctor``'s rota check: someone on call now, for all of the next 24 hours, reachable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.doctor import Status

Make = Callable[..., Any]


async def test_rota_covered(configured: Make, doctor: Make, add_shift: Make) -> None:
    await add_shift("Lan", -2, 12)
    await add_shift("Minh", 12, 30, telegram=None, phone="+84901234567")
    found = await doctor(configured())
    assert found["on call now"].status is Status.OK
    assert found["on call now"].detail == "Lan"
    assert found["next 24 hours"].status is Status.OK
    assert found["page routes"].status is Status.OK


async def test_nobody_on_call_now(configured: Make, doctor: Make, add_shift: Make) -> None:
    await add_shift("Lan", 1, 30)
    found = await doctor(configured())
    assert found["on call now"].status is Status.PROBLEM
    assert found["next 24 hours"].status is Status.PROBLEM
    assert "hotline rota import" in found["on call now"].fix


async def test_empty_rota(configured: Make, doctor: Make) -> None:
    found = await doctor(configured())
    assert found["on call now"].status is Status.PROBLEM
    assert found["next 24 hours"].status is Status.PROBLEM


async def test_gap_in_the_next_24_hours(configured: Make, doctor: Make, add_shift: Make) -> None:
    # NOW is 03:00 UTC, 10:00 in Ho Chi Minh City: nobody from 20:00 to 22:00 local
    await add_shift("Lan", -1, 10)
    await add_shift("Minh", 12, 30)
    found = await doctor(configured())
    assert found["on call now"].status is Status.OK
    gap = found["next 24 hours"]
    assert gap.status is Status.PROBLEM
    assert "Mon 20:00 to Mon 22:00" in gap.detail
    assert "Asia/Ho_Chi_Minh" in gap.detail


async def test_on_call_without_a_page_route(configured: Make, doctor: Make, add_shift: Make) -> None:
    await add_shift("Lan", -1, 30)
    await add_shift("Hoa", -1, 30, telegram=None, phone=None)
    found = await doctor(configured())
    assert found["on call now"].detail == "Lan"
    routes = found["page routes"]
    assert routes.status is Status.PROBLEM
    assert "Hoa" in routes.detail and "Lan" not in routes.detail


async def test_only_unreachable_counsellors_leave_a_gap(
    configured: Make, doctor: Make, add_shift: Make
) -> None:
    await add_shift("Hoa", -1, 30, telegram="222")
    found = await doctor(configured(telegram_token=None))  # a Telegram id is no route without Telegram
    assert found["on call now"].status is Status.PROBLEM
    assert found["page routes"].status is Status.PROBLEM
