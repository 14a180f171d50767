"""Office hours ("08:00-20:00" in the hotline's time zone): when key 0 reaches a counsellor directly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError

_RANGE = re.compile(r"^\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-4]):([0-5]\d)\s*$")


@dataclass(frozen=True)
class OfficeHours:
    """A daily opening range in a time zone; a range past midnight ("20:00-08:00") is allowed."""

    opens: time
    closes: time | None  # None: "24:00", the end of the day
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, timezone: str) -> OfficeHours:
        """Read ``HOTLINE_OFFICE_HOURS`` and ``HOTLINE_TIMEZONE``; a mistake is a :class:`ConfigError`."""
        match = _RANGE.match(text)
        if match is None:
            raise ConfigError(
                f"HOTLINE_OFFICE_HOURS must look like 08:00-20:00 (24-hour clock), not {text!r}."
            )
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"HOTLINE_TIMEZONE {timezone!r} is not a known time zone.") from exc
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h2 == 24 and m2 != 0:
            raise ConfigError("HOTLINE_OFFICE_HOURS: 24:00 is the latest closing time.")
        closes = None if h2 == 24 else time(h2, m2)
        return cls(time(h1, m1), closes, zone)

    def is_open(self, when: datetime) -> bool:
        """Whether ``when`` (an aware datetime) falls inside the office hours."""
        local = when.astimezone(self.zone).time().replace(tzinfo=None)
        if self.closes is None:
            return local >= self.opens
        if self.opens <= self.closes:
            return self.opens <= local < self.closes
        return local >= self.opens or local < self.closes

    def spoken(self) -> tuple[str, str]:
        """Opening and closing times as ``HH:MM`` texts (for :func:`ivr.spoken.clock_words`)."""
        closes = "24:00" if self.closes is None else self.closes.strftime("%H:%M")
        return self.opens.strftime("%H:%M"), closes
