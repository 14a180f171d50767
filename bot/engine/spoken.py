"""Numbers in words, so a text-to-speech voice reads them right ("bốn mươi tám giờ")."""

from __future__ import annotations

_VI = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_EN = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
       "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")  # fmt: skip
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def _vi_below_100(n: int) -> str:
    if n < 10:
        return _VI[n]
    tens, unit = divmod(n, 10)
    head = "mười" if tens == 1 else f"{_VI[tens]} mươi"
    if unit == 0:
        return head
    if unit == 5:
        return f"{head} lăm"
    if unit == 1 and tens > 1:
        return f"{head} mốt"
    if unit == 4 and tens > 1:
        return f"{head} tư"
    return f"{head} {_VI[unit]}"


def _vi(n: int) -> str:
    if n < 100:
        return _vi_below_100(n)
    hundreds, rest = divmod(n, 100)
    head = f"{_VI[hundreds]} trăm"
    if rest == 0:
        return head
    if rest < 10:
        return f"{head} linh {_VI[rest]}"
    return f"{head} {_vi_below_100(rest)}"


def _en(n: int) -> str:
    if n < 20:
        return _EN[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _EN_TENS[tens] + (f"-{_EN[unit]}" if unit else "")
    hundreds, rest = divmod(n, 100)
    return f"{_EN[hundreds]} hundred" + (f" and {_en(rest)}" if rest else "")


def number_words(n: int, locale: str) -> str:
    """``n`` (0-999) in words; larger numbers stay as digits."""
    if not 0 <= n < 1000:
        return str(n)
    return _en(n) if locale == "en" else _vi(n)
