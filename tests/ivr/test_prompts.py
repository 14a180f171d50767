"""The phone line's own sentences (ivr/prompts.yaml) and how texts are made speakable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.content.knowledge import phone_key
from bot.engine.content import Content
from bot.errors import ContentErrors
from ivr.prompts import PROMPTS_FILE, REQUIRED, load_prompts
from ivr.spoken import key_name, speakable, spell_digits


def test_every_prompt_is_there_in_both_languages_and_has_no_digits() -> None:
    prompts = load_prompts()
    assert set(REQUIRED) <= set(prompts.texts)
    for key, text in prompts.texts.items():
        for spoken in (text.vi, text.en):
            assert not re.search(r"\d", spoken), f"{key}: numbers in words, for the voice"


def test_the_emergency_numbers_are_in_the_referral_directory(content: Content) -> None:
    known = content.knowledge.known_phones()
    for number in load_prompts().emergency_numbers:
        assert phone_key(number.number) in known, f"{number.number} is not in knowledge/directory.yaml"


def test_a_broken_prompts_file_names_the_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "ivr" / "prompts.yaml"
    broken.parent.mkdir()
    text = PROMPTS_FILE.read_text(encoding="utf-8").replace(
        "    en: That key is not one of the choices.\n", ""
    )
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ContentErrors) as caught:
        load_prompts(broken)
    assert re.search(r"ivr/prompts\.yaml:\d+: `wrong_key` has no `en` text", str(caught.value))


def test_numbers_and_keys_for_the_ear() -> None:
    assert spell_digits("1900 969 680", "vi") == "một chín không không, chín sáu chín, sáu tám không"
    assert spell_digits("113", "en") == "one one three"
    assert [key_name(k, "vi") for k in ("1", "8", "*", "#")] == ["một", "tám", "sao", "thăng"]


def test_chat_text_is_made_speakable() -> None:
    text = "Ngay bây giờ:\n- Ngừng lại, lấy bao ra.\n• Gõ «xóa» để xóa.\nXem https://example.org"
    assert speakable(text) == "Ngay bây giờ: Ngừng lại, lấy bao ra. Gõ xóa để xóa. Xem."
