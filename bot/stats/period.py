"""The period a report covers: whole days in the service's time zone (``HOTLINE_TIMEZONE``).

``--from`` and ``--to`` take a day (``2026-03-15``), a month (``2026-03``) or a year (``2026``):
``--from`` starts at the first day of a month or year, ``--to`` ends at its last day. Both ends are
included. Without them a report covers the last twelve months: from the first day of the month
eleven months back to today.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.stats.errors import StatsError

_DAY = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end`` (both whole days, included) in the time zone ``zone``."""

    start: date
    end: date
    zone: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def since(self) -> datetime:
        """The first instant of the period, in UTC."""
        return datetime.combine(self.start, time(0), self.tz).astimezone(UTC)

    @property
    def until(self) -> datetime:
        """The first instant after the period, in UTC."""
        return datetime.combine(self.end + timedelta(days=1), time(0), self.tz).astimezone(UTC)

    def months(self) -> tuple[str, ...]:
        """Every month the period touches, as ``YYYY-MM``, oldest first."""
        months: list[str] = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return tuple(months)

    def month_of(self, moment: datetime) -> str:
        """The ``YYYY-MM`` month of a UTC instant, in the period's time zone."""
        return moment.astimezone(self.tz).strftime("%Y-%m")

    def describe(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()} ({self.zone})"


def _parse(text: str, *, end: bool) -> date:
    match = _DAY.match(text.strip())
    if match is None:
        raise StatsError(f"{text!r} is not a date: write 2026-03-15, 2026-03 or 2026")
    year = int(match.group(1))
    month = int(match.group(2) or (12 if end else 1))
    day_text = match.group(3)
    try:
        if day_text is not None:
            return date(year, month, int(day_text))
        last = calendar.monthrange(year, month)[1]
        return date(year, month, last if end else 1)
    except ValueError as exc:
        raise StatsError(f"{text!r} is not a date: {exc}") from exc


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise StatsError(
            f"HOTLINE_TIMEZONE {name!r} is not a known time zone (e.g. Asia/Ho_Chi_Minh)"
        ) from exc


def make_period(start: str | None, end: str | None, *, zone: str, now: datetime) -> Period:
    """The period for ``--from``/``--to`` (either may be empty), with ``now`` deciding the default."""
    today = now.astimezone(zone_of(zone)).date()
    last = _parse(end, end=True) if end else today
    if start:
        first = _parse(start, end=False)
    else:
        months_back = last.year * 12 + last.month - 1 - 11
        first = date(months_back // 12, months_back % 12 + 1, 1)
    if first > last:
        raise StatsError(f"the period starts ({first}) after it ends ({last})")
    return Period(first, last, zone)
