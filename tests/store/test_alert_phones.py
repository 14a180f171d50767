"""The one function that reads a Vietnamese phone number the way people type it (bot/store/alerts.py)."""

from __future__ import annotations

import pytest

from bot.store.alerts import find_phone, normalise_phone


@pytest.mark.parametrize(
    "typed",
    [
        "0901234567",
        "0901 234 567",
        "0901.234.567",
        "090-123-4567",
        "(090) 1234567",
        "+84901234567",
        "+84 901 234 567",
        "84901234567",
        "84 90 123 4567",
        "0084 901 234 567",
        "901234567",
    ],
)
def test_the_same_mobile_number_however_it_is_typed(typed: str) -> None:
    assert normalise_phone(typed) == "0901234567"


def test_a_landline_keeps_its_eleven_digits() -> None:
    assert normalise_phone("024 3826 1234") == "02438261234"
    assert normalise_phone("+84 24 3826 1234") == "02438261234"


@pytest.mark.parametrize(
    "typed", ["", "113", "0901 234", "12345678901234", "+1 415 555 0100", "0012345678", "abc", "0901234567x"]
)
def test_what_is_not_one_vietnamese_number_is_refused(typed: str) -> None:
    assert normalise_phone(typed) is None


def test_a_number_inside_a_sentence() -> None:
    assert find_phone("so cua no la 0901 234 567 nhe") == "0901234567"
    assert find_phone("+84 901-234-567") == "0901234567"
    assert find_phone("khong co so") is None
