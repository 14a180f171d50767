"""Saved replies (knowledge/saved_replies.yaml) are content: `hotline check` names the file and line of
every mistake, and the shipped replies carry only the directory's numbers, in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.knowledge import load_knowledge, phone_key, phone_numbers_in
from bot.settings import ROOT
from tests.content.test_check import edit, line_of
from tests.support.content import check, copy_content


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return copy_content(tmp_path)


def test_the_shipped_saved_replies_cover_the_desk_and_use_only_directory_numbers() -> None:
    knowledge = load_knowledge(ROOT / "knowledge")
    saved = {r.id: r for r in knowledge.saved_replies}
    assert {"numbers", "safety-plan", "leave", "clinic", "next-steps"} <= set(saved)
    for reply in saved.values():
        assert reply.text.vi and reply.text.en and reply.title.vi and reply.title.en
        assert reply.shortcut.startswith("/") and reply.sources
    # The national numbers as FACTS.md has them in 2025: 111 is also the anti-trafficking line, for all ages.
    numbers = saved["numbers"].text
    assert {"113", "115", "111", "1900969680"} <= {phone_key(n) for n in phone_numbers_in(numbers.vi)}
    assert "19/9/2025" in numbers.vi and "19 Sep 2025" in numbers.en
    assert "free" not in numbers.en.split("111")[0], "only 111 is said to be free (FACTS.md)"
    code, output = check(ROOT)
    assert code == 0 and "saved replies: 6" in output and "knowledge/saved_replies.yaml:" in output


def test_a_number_not_in_the_directory_names_file_and_line(content: Path) -> None:
    path = content / "knowledge" / "saved_replies.yaml"
    edit(path, "        - 115: cấp cứu", "        - 0912 345 678: cấp cứu")
    code, output = check(content)
    assert code == 1
    line = line_of(path, "0912 345 678")
    assert (
        f"knowledge/saved_replies.yaml:{line}: phone number '0912 345 678' in the saved reply `numbers`"
        in output
    )


@pytest.mark.parametrize(
    ("old", "new", "after", "message"),
    [
        (
            "    shortcut: /antoan",
            "    shortcut: /an toàn",
            1,
            "a shortcut is / then 2 to 16 lower-case letters",
        ),
        ("    shortcut: /roidi", "    shortcut: /so", 2, "the shortcut '/so' is used twice"),
        ("  - id: clinic", "  - id: numbers", 2, "the id 'numbers' is used twice"),
    ],
)
def test_bad_shortcuts_and_ids_are_refused_with_their_line(
    content: Path, old: str, new: str, after: int, message: str
) -> None:
    path = content / "knowledge" / "saved_replies.yaml"
    edit(path, old, new)
    code, output = check(content)
    assert code == 1
    lines = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line == new]
    assert f"knowledge/saved_replies.yaml:{lines[after - 1]}: {message}" in output, output


def test_a_missing_language_is_refused(content: Path) -> None:
    path = content / "knowledge" / "saved_replies.yaml"
    edit(
        path,
        "    title: {vi: Cách đến phòng khám, en: How to reach a clinic}",
        "    title: {vi: Cách đến phòng khám}",
    )
    code, output = check(content)
    assert code == 1
    assert (
        f"knowledge/saved_replies.yaml:{line_of(path, 'Cách đến phòng khám}')}: `title` has no `en` text"
        in output
    )
