"""Words for the ear: phone keys, numbers digit by digit, clock times, and chat text made speakable."""

from __future__ import annotations

import re

from bot.engine.spoken import number_words

_KEY_NAMES = {"*": {"vi": "sao", "en": "star"}, "#": {"vi": "thăng", "en": "hash"}}
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-•*]|\d+[.)])\s+", re.MULTILINE)
_SYMBOLS = str.maketrans({"«": "", "»": "", "“": "", "”": "", '"': "", "*": "", "_": " ", "·": ","})


def key_name(key: str, locale: str) -> str:
    """A phone key as spoken: "một", "sao", "thăng" (Vietnamese) or "one", "star", "hash"."""
    if key in _KEY_NAMES:
        return _KEY_NAMES[key]["en" if locale == "en" else "vi"]
    return number_words(int(key), locale)


def spell_digits(number: str, locale: str) -> str:
    """A phone number digit by digit, groups separated by commas: "một chín không không, chín sáu chín"."""
    groups = re.findall(r"\d+", number)
    return ", ".join(" ".join(number_words(int(d), locale) for d in group) for group in groups)


def clock_words(hhmm: str, locale: str) -> str:
    """A time of day for the ear: "20:00" -> "hai mươi giờ" / "eight p.m."."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    if hours % 24 == 0 and minutes == 0:
        return "midnight" if locale == "en" else "nửa đêm"
    if locale == "en":
        suffix = "a.m." if hours < 12 else "p.m."
        twelve = hours % 12 or 12
        spoken = number_words(twelve, "en")
        if minutes:
            spoken += f" {number_words(minutes, 'en')}"
        return f"{spoken} {suffix}"
    spoken = f"{number_words(hours, 'vi')} giờ"
    if minutes:
        spoken += f" {number_words(minutes, 'vi')} phút"
    return spoken


def speakable(text: str) -> str:
    """Chat text made fit for text-to-speech: no links, bullets, quotes or line breaks."""
    text = _URL.sub("", text)
    text = _BULLET.sub("", text)
    text = text.translate(_SYMBOLS)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    joined = " ".join(line if line[-1] in ".?!:;," else f"{line}." for line in lines)
    return re.sub(r"\s+", " ", joined).strip()
