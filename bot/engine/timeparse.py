"""How long ago something happened, from what people type ("3 tieng truoc", "hom qua", "2 days")."""

from __future__ import annotations

import re

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


def hours_since(text: str) -> float | None:
    """The longest number of hours the text can mean, or None when it says no time."""
    norm = normalize(text)
    norm = re.sub(r"(\d+)\s*(h|p|tieng|gio|ngay|tuan)\b", r"\1 \2", norm)
    tokens = norm.split()
    for index, token in enumerate(tokens):
        value: float | None = None
        if re.fullmatch(r"\d+([.,]\d+)?", token):
            value = float(token.replace(",", "."))
        elif token in _NUMBER_WORDS and index + 1 < len(tokens) and tokens[index + 1] in _UNITS:
            value = _NUMBER_WORDS[token]
        if value is None:
            continue
        for unit in tokens[index + 1 : index + 3]:
            if unit in _UNITS:
                return value * _UNITS[unit]
    for pattern, hours in _PHRASES:
        if re.search(pattern, norm):
            return float(hours)
    return None
