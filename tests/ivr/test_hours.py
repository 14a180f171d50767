"""Office hours in the hotline's time zone (ivr/hours.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import ConfigError
from ivr.hours import OfficeHours
from ivr.spoken import clock_words


def at_utc(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, 5, hour, minute, tzinfo=UTC)


def test_office_hours_are_local_time() -> None:
    hours = OfficeHours.parse("08:00-20:00", "Asia/Ho_Chi_Minh")  # UTC+7
    assert not hours.is_open(at_utc(0, 59))  # 07:59
    assert hours.is_open(at_utc(1))  # 08:00
    assert hours.is_open(at_utc(12, 59))  # 19:59
    assert not hours.is_open(at_utc(13))  # 20:00


def test_a_night_shift_past_midnight_and_all_day() -> None:
    night = OfficeHours.parse("20:00-08:00", "Asia/Ho_Chi_Minh")
    assert night.is_open(at_utc(16)) and night.is_open(at_utc(0)) and not night.is_open(at_utc(5))
    always = OfficeHours.parse("00:00-24:00", "Asia/Ho_Chi_Minh")
    assert all(always.is_open(at_utc(h)) for h in range(24))


@pytest.mark.parametrize(("text", "zone"), [("8-20", "Asia/Ho_Chi_Minh"), ("08:00-20:00", "Mars/Olympus")])
def test_a_wrong_setting_says_what_to_write(text: str, zone: str) -> None:
    with pytest.raises(ConfigError, match="HOTLINE_"):
        OfficeHours.parse(text, zone)


def test_times_for_the_ear() -> None:
    assert clock_words("08:00", "vi") == "tám giờ"
    assert clock_words("20:30", "vi") == "hai mươi giờ ba mươi phút"
    assert clock_words("20:00", "en") == "eight p.m."
    assert clock_words("24:00", "en") == "midnight"
