"""Replies as Zalo texts: numbered choices the engine understands, nothing over the limit."""

from __future__ import annotations

from bot.channels.zalo.render import TEXT_LIMIT, messages, split, units
from bot.messages import Choice, Reply

MENU = Reply("Bạn cần hỗ trợ gì?", (Choice("main.menu:hiv", "HIV"), Choice("main.menu:legal", "Pháp luật")))


def test_the_waiting_choices_are_numbered_and_earlier_lists_are_bullets() -> None:
    related = Reply("Xem thêm:", (Choice("a:pep", "PEP"), Choice("a:prep", "PrEP")))
    first, second = messages([related, MENU])
    assert "• PEP\n• PrEP" in first and "1." not in first
    assert second.endswith("1. HIV\n2. Pháp luật"), "typing 2 picks the second choice of the waiting node"


def test_a_long_text_is_cut_at_paragraphs_and_nothing_is_lost() -> None:
    paragraph = "Câu trả lời về PEP và PrEP cho người cần. " * 30
    text = "\n\n".join([paragraph.strip()] * 5)
    parts = split(text)
    assert len(parts) > 1 and all(units(p) <= TEXT_LIMIT for p in parts)
    assert all(p.startswith("Câu") for p in parts), "cut between paragraphs, not inside a word"
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_a_text_without_spaces_is_still_cut_under_the_limit() -> None:
    parts = split("x" * 4500)
    assert [len(p) for p in parts] == [2000, 2000, 500]


def test_emoji_count_twice_as_zalo_counts_them() -> None:
    parts = split("🙂" * 1500)
    assert all(units(p) <= TEXT_LIMIT for p in parts) and "".join(parts) == "🙂" * 1500


def test_packing_joins_replies_into_as_few_messages_as_fit() -> None:
    replies = [Reply("Chào bạn."), Reply("Đây là đường dây ẩn danh."), MENU]
    assert messages(replies, pack=True) == [
        "Chào bạn.\n\nĐây là đường dây ẩn danh.\n\nBạn cần hỗ trợ gì?\n\n1. HIV\n2. Pháp luật"
    ]
    assert len(messages(replies)) == 3, "unpacked: one message per reply"
    big = [Reply("a" * 1500), Reply("b" * 1500), Reply("c" * 300)]
    packed = messages(big, pack=True)
    assert [len(p) for p in packed] == [1500, 1500 + 2 + 300]
