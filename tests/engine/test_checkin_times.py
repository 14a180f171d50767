"""Typed check-in times (bot/engine/timeparse.py ``minutes_from_now``): Vietnamese with and without
diacritics, chat spelling, English, and a clock time in the service's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.engine.timeparse import minutes_from_now

NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("45p", 45),
        ("45 phút", 45),
        ("90 phut", 90),
        ("1 tieng", 60),
        ("1 tiếng", 60),
        ("2h", 120),
        ("2 giờ", 120),
        ("3 gio", 180),
        ("hai tiếng", 120),
        ("1h30", 90),
        ("1 tiếng 30", 90),
        ("1 tiếng rưỡi", 90),
        ("nửa tiếng", 30),
        ("nua tieng", 30),
        ("sau 40 phut nhe", 40),
        ("2", 120),  # a bare small number: hours
        ("40", 40),  # a bare larger number: minutes
        ("30 minutes", 30),
        ("an hour", 60),
        ("21:30", 690),  # 10:00 -> 21:30 the same day
        ("den 9:15", 1395),  # 9:15 has passed today: tomorrow's
        ("21h30", 690),  # hours from 13 on: a clock time
        ("lúc 22h", 720),
    ],
)
def test_a_typed_time(text: str, minutes: float) -> None:
    assert minutes_from_now(text, NOW, ZONE) == pytest.approx(minutes)


@pytest.mark.parametrize("text", ["không biết", "ok", "khach dang toi"])
def test_no_time_in_it(text: str) -> None:
    assert minutes_from_now(text, NOW, ZONE) is None
