"""The report's period: whole local days, months and years, and a default of twelve months."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.stats.errors import StatsError
from bot.stats.period import make_period

ZONE = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # already 1 December in Vietnam


def test_days_months_and_years() -> None:
    period = make_period("2026-02-03", "2026-02-10", zone=ZONE, now=NOW)
    assert (period.start, period.end) == (date(2026, 2, 3), date(2026, 2, 10))
    period = make_period("2026-02", "2026-02", zone=ZONE, now=NOW)
    assert (period.start, period.end) == (date(2026, 2, 1), date(2026, 2, 28))
    period = make_period("2025", "2025", zone=ZONE, now=NOW)
    assert (period.start, period.end, period.months()[-1]) == (
        date(2025, 1, 1),
        date(2025, 12, 31),
        "2025-12",
    )
    assert len(period.months()) == 12


def test_the_period_is_in_local_time() -> None:
    period = make_period("2026-02", "2026-02", zone=ZONE, now=NOW)
    assert period.since == datetime(2026, 1, 31, 17, 0, tzinfo=UTC)
    assert period.until == datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
    assert period.month_of(datetime(2026, 1, 31, 17, 30, tzinfo=UTC)) == "2026-02"


def test_the_default_is_the_last_twelve_months_up_to_today_in_vietnam() -> None:
    period = make_period(None, None, zone=ZONE, now=NOW)
    assert (period.start, period.end) == (date(2026, 1, 1), date(2026, 12, 1))
    assert period.months() == tuple(f"2026-{m:02d}" for m in range(1, 13))


@pytest.mark.parametrize("text", ["2026-13", "26-01", "2026-02-30", "last month"])
def test_a_wrong_date_says_how_to_write_one(text: str) -> None:
    with pytest.raises(StatsError, match="not a date"):
        make_period(text, None, zone=ZONE, now=NOW)


def test_an_unknown_time_zone_is_named() -> None:
    with pytest.raises(StatsError, match="Mars/Olympus"):
        make_period(None, None, zone="Mars/Olympus", now=NOW)
