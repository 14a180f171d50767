"""Rendering replies for Telegram: length limits, keyboards, callback data."""

from __future__ import annotations

import pytest

from bot.channels.telegram.render import (
    MAX_TEXT,
    RenderError,
    callback_data,
    render,
    split_text,
    utf16_length,
)
from bot.engine.content import Content
from bot.messages import Choice, Reply


def test_a_short_text_is_one_message() -> None:
    assert split_text("  Xin chào  ") == ["Xin chào"]
    assert split_text("") == []


def test_a_long_text_is_cut_at_paragraphs_first() -> None:
    first = "a" * 3000
    second = "b" * 3000
    assert split_text(f"{first}\n\n{second}") == [first, second]


def test_without_paragraphs_it_cuts_at_lines_then_words_then_anywhere() -> None:
    words = " ".join(["từ"] * 3000)
    parts = split_text(words)
    assert all(len(p) <= MAX_TEXT for p in parts)
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)
    assert " ".join(parts) == words
    unbroken = "x" * 10_000
    assert split_text(unbroken) == ["x" * 4096, "x" * 4096, "x" * 1808]


def test_emoji_count_twice_as_telegram_counts_them() -> None:
    text = "😭" * 3000  # 6000 UTF-16 units
    parts = split_text(text)
    assert [utf16_length(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == text


def test_choices_become_one_button_a_row_under_the_last_part() -> None:
    reply = Reply("x " * 3000, (Choice("main.menu:legal", "Pháp luật"), Choice("a:prep", "PrEP")))
    messages = render([reply])
    assert len(messages) == 2 and messages[0].keyboard is None
    keyboard = messages[-1].keyboard
    assert keyboard is not None
    assert [[(b.text, b.callback_data) for b in row] for row in keyboard.inline_keyboard] == [
        [("Pháp luật", "main.menu:legal")],
        [("PrEP", "a:prep")],
    ]


def test_an_empty_reply_is_skipped_unless_it_has_choices() -> None:
    assert render([Reply("  ")]) == []
    [message] = render([Reply("", (Choice("main.menu:legal", "Pháp luật"),))])
    assert message.text and message.keyboard is not None


def test_callback_data_over_64_bytes_is_refused() -> None:
    assert callback_data("x" * 64) == "x" * 64
    with pytest.raises(RenderError, match="64-byte"):
        callback_data("ồ" * 22)  # 66 bytes in UTF-8
    with pytest.raises(RenderError):
        callback_data("")


def test_every_choice_in_the_real_content_fits_a_telegram_button(content: Content) -> None:
    for node in content.flows.nodes.values():
        for choice in node.choices:
            assert callback_data(node.choice_id(choice))
    for article_id in content.knowledge.articles:
        assert callback_data(f"a:{article_id}")
