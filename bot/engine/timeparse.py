"""How long ago something happened, from what people type ("3 tieng truoc", "hom qua", "2 days")."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.nlu import normalize

_NUMBER_WORDS = {
    "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9,
    "muoi": 10, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "a": 1, "an": 1,
}  # fmt: skip
_UNITS = {
    "phut": 1 / 60, "p": 1 / 60, "min": 1 / 60, "mins": 1 / 60, "minute": 1 / 60, "minutes": 1 / 60,
    "tieng": 1, "gio": 1, "h": 1, "hour": 1, "hours": 1, "hr": 1, "hrs": 1,
    "ngay": 24, "day": 24, "days": 24, "hom": 24,
    "tuan": 168, "week": 168, "weeks": 168,
    "thang": 720, "month": 720, "months": 720,
}  # fmt: skip
# Phrases without a number, with the LONGEST time they can mean (erring towards urgency).
_PHRASES = (
    (r"\b(vua (moi )?(xong|roi)|moi (xong|day)|just now|a moment ago|vua nay|ban nay)\b", 2),
    (r"\b(sang nay|trua nay|chieu nay|toi nay|dem nay|this morning|tonight|today|hom nay)\b", 24),
    (r"\b(hom qua|toi qua|dem qua|yesterday|last night)\b", 48),
    (r"\b(hom kia|2 hom truoc|day before yesterday)\b", 72),
    (r"\b(tuan truoc|tuan roi|last week)\b", 336),
    (r"\b(thang truoc|last month)\b", 1440),
)


def _numbers(tokens: list[str], units: Mapping[str, float]) -> Iterator[tuple[int, float]]:
    """Each number in ``tokens`` with its index: a numeral ("2", "1,5"), or a number word ("hai",
    "mot") when a unit of ``units`` follows it."""
    for index, token in enumerate(tokens):
        if re.fullmatch(r"\d+([.,]\d+)?", token):
            yield index, float(token.replace(",", "."))
        elif token in _NUMBER_WORDS and index + 1 < len(tokens) and tokens[index + 1] in units:
            yield index, _NUMBER_WORDS[token]


def hours_since(text: str) -> float | None:
    """The longest number of hours the text can mean, or None when it says no time."""
    norm = normalize(text)
    norm = re.sub(r"(\d+)\s*(h|p|tieng|gio|ngay|tuan)\b", r"\1 \2", norm)
    tokens = norm.split()
    for index, value in _numbers(tokens, _UNITS):
        for unit in tokens[index + 1 : index + 3]:
            if unit in _UNITS:
                return value * _UNITS[unit]
    for pattern, hours in _PHRASES:
        if re.search(pattern, norm):
            return float(hours)
    return None


_CLOCK = re.compile(r"\b([01]?\d|2[0-3])[:.]([0-5]\d)\b")
_HALF = re.compile(r"\b(ruoi|ruou|half)\b")


def minutes_from_now(text: str, now: datetime, zone: ZoneInfo) -> float | None:
    """How many minutes from ``now`` a typed length of time or clock time means ("45p", "1 tieng",
    "2h", "90 phut", "1h30", "1 tieng ruoi", "nua tieng", "21:30", "22h"), or None when it says none.

    A bare number is hours up to 12 ("2") and minutes above ("90"). A clock time ("21:30", or hours
    written from 13 to 23: "21h30", "22h") is the next time the clock shows it in ``zone``.
    """
    clock = _CLOCK.search(text)
    if clock is not None:
        return _until(now, zone, int(clock.group(1)), int(clock.group(2)))
    norm = normalize(text)
    if re.search(r"\bnua (tieng|gio)\b|\bhalf an hour\b", norm):
        return 30.0
    # "1h30", "1 tieng 30", "1g30"; from 13h on, a clock time ("21h30")
    mixed = re.search(r"\b(\d+)\s*(?:h|g|gio|tieng)\s*(\d{1,2})\s*(?:p|phut|m|min)?\b", norm)
    if mixed is not None:
        hours, minutes = int(mixed.group(1)), int(mixed.group(2))
        if 13 <= hours <= 23 and minutes < 60:
            return _until(now, zone, hours, minutes)
        return hours * 60 + minutes
    late = re.search(r"\b(1[3-9]|2[0-3])\s*(?:h|g|gio)\b", norm)
    if late is not None:
        return _until(now, zone, int(late.group(1)), 0)
    norm = re.sub(r"(\d+)\s*(h|p|m|g|tieng|gio|phut|min|mins)\b", r"\1 \2", norm)
    tokens = norm.split()
    for index, value in _numbers(tokens, _DURATION_UNITS):
        unit = next((u for u in tokens[index + 1 : index + 3] if u in _DURATION_UNITS), None)
        if unit is None:
            return value * 60 if value <= 12 else value
        length = value * _DURATION_UNITS[unit]
        if _HALF.search(" ".join(tokens[index + 1 : index + 4])) and _DURATION_UNITS[unit] == 60:
            length += 30
        return length
    return None


def _until(now: datetime, zone: ZoneInfo, hour: int, minute: int) -> float:
    """Minutes from ``now`` to the next time the clock in ``zone`` shows ``hour:minute``."""
    local = now.astimezone(zone)
    target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= local:
        target += timedelta(days=1)
    return (target - local).total_seconds() / 60


_DURATION_UNITS = {
    "phut": 1, "p": 1, "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
    "tieng": 60, "gio": 60, "g": 60, "h": 60, "hour": 60, "hours": 60, "hr": 60, "hrs": 60,
}  # fmt: skip
