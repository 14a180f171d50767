"""Facts stay current: a replaced law cited as in force fails `hotline check` (file and line); a legal
article whose facts were last checked over a year ago is named; every article says when it was checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.content.freshness import sentences
from tests.content.test_check import edit, line_of
from tests.support.content import check, copy_content

SELLING = Path("knowledge/articles/selling-sex-law.yaml")


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return copy_content(tmp_path)


def test_a_replaced_decree_cited_as_in_force_fails_with_file_and_line(content: Path) -> None:
    path = content / SELLING
    edit(path, "Từ 15/12/2025, Nghị định 282/2025/NĐ-CP quy định", "Theo Nghị định 144/2021/NĐ-CP")
    code, output = check(content)
    assert code == 1
    line = line_of(path, "Theo Nghị định 144/2021/NĐ-CP")
    assert (
        f"knowledge/articles/selling-sex-law.yaml:{line}: `answer.vi` cites '144/2021' as if in force"
        in output
    )
    assert "Decree 282/2025/ND-CP replaced Decree 144/2021/ND-CP" in output


def test_the_spoken_form_and_the_sources_are_checked_too(content: Path) -> None:
    path = content / SELLING
    edit(
        path,
        "Theo Nghị định hai trăm tám mươi hai năm hai nghìn không trăm hai mươi lăm,",
        "Theo Nghị định một trăm bốn mươi bốn,",
    )
    edit(
        path,
        '  - "FACTS.md, Law: selling sex is',
        '  - "Decree 144/2021/ND-CP art. 24"\n  - "FACTS.md, Law: selling sex is',
    )
    code, output = check(content)
    assert code == 1
    assert "`voice.vi` cites 'một trăm bốn mươi bốn'" in output
    assert f"selling-sex-law.yaml:{line_of(path, 'Decree 144/2021/ND-CP art. 24')}: `sources` cites" in output


def test_telling_the_history_in_one_sentence_is_allowed(content: Path) -> None:
    path = content / SELLING
    edit(
        path,
        "Bạn không bị đi tù chỉ vì bán dâm.\n",
        "Bạn không bị đi tù chỉ vì bán dâm. Nghị định 282/2025 đã thay Nghị định 144/2021.\n",
    )
    code, output = check(content)
    assert code == 0, output


def test_sentences_do_not_end_at_an_abbreviation() -> None:
    assert sentences("Decree 282, art. 32 (it replaced Decree 144/2021). Next.\nTwo") == [
        "Decree 282, art. 32 (it replaced Decree 144/2021).",
        "Next.",
        "Two",
    ]


def test_every_article_says_when_its_facts_were_checked(content: Path) -> None:
    path = content / SELLING
    edit(path, "checked: 2026-12-06\n", "")
    code, output = check(content)
    assert code == 1
    assert "selling-sex-law.yaml:1: `checked` is missing" in output


def test_a_checked_date_must_be_a_date(content: Path) -> None:
    path = content / SELLING
    edit(path, "checked: 2026-12-06", "checked: last week")
    code, output = check(content)
    assert code == 1
    assert f"selling-sex-law.yaml:{line_of(path, 'checked: last week')}: `checked` must be a date" in output


def test_a_legal_article_checked_over_a_year_ago_is_named_but_does_not_fail(content: Path) -> None:
    edit(content / SELLING, "checked: 2026-12-06", "checked: 2020-01-15")
    health = content / "knowledge/articles/pep.yaml"
    health.write_text(
        re.sub(r"(?m)^checked: .*$", "checked: 2020-01-15", health.read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    code, output = check(content)
    assert code == 0, output
    assert "warning: knowledge/articles/selling-sex-law.yaml: legal facts last checked 2020-01-15" in output
    assert "pep.yaml: legal facts" not in output  # health facts: the review says when


def test_a_checked_date_still_to_come_is_named(content: Path) -> None:
    edit(content / SELLING, "checked: 2026-12-06", "checked: 2999-01-01")
    code, output = check(content)
    assert code == 0, output
    assert (
        "warning: knowledge/articles/selling-sex-law.yaml: `checked` is 2999-01-01, a day still to come"
        in output
    )


def test_a_number_spoken_otherwise_than_the_directory_says_fails(content: Path) -> None:
    path = content / "knowledge/articles/overdose.yaml"
    text = path.read_text(encoding="utf-8")
    assert "một một năm" in text
    path.write_text(text.replace("một một năm", "một một lăm", 1), encoding="utf-8")
    code, output = check(content)
    assert code == 1
    line = line_of(path, "một một lăm")
    assert (
        f"knowledge/articles/overdose.yaml:{line}: article `overdose` says 'một một lăm'; the directory speaks "
        "this number as 'một một năm'"
    ) in output
