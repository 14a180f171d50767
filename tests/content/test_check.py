"""`hotline check`: every content mistake is caught and named with its file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import ROOT
from tests.support.content import check, copy_content


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the real content to break."""
    return copy_content(tmp_path)


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_the_shipped_content_passes_and_lists_what_needs_review() -> None:
    code, output = check(ROOT)
    assert code == 0, output
    assert re.search(r"ok: \d+ flow nodes, \d+ articles", output)
    assert "needs review: knowledge/articles/pep.yaml" in output


def test_unknown_step_type_names_file_line_and_node(content: Path) -> None:
    path = content / "flows" / "main.yaml"
    edit(path, "  more:\n    type: menu", "  more:\n    type: carousel")
    code, output = check(content)
    assert code == 1
    assert (
        f"flows/main.yaml:{line_of(path, 'type: carousel')}: node `more`: unknown step type 'carousel'"
        in output
    )


def test_broken_reference_names_file_line(content: Path) -> None:
    path = content / "flows" / "services.yaml"
    edit(path, "goto: k_prep", "goto: k_prepp")
    code, output = check(content)
    assert code == 1
    assert "flows/services.yaml:" in output and "`services.k_prepp`, which does not exist" in output


def test_missing_language_in_a_flow(content: Path) -> None:
    path = content / "flows" / "feedback.yaml"
    edit(path, "      en: Was this helpful?\n", "")
    code, output = check(content)
    assert code == 1 and "flows/feedback.yaml:" in output and "has no `en` text" in output


def test_yaml_syntax_error_has_a_line(content: Path) -> None:
    path = content / "flows" / "privacy.yaml"
    edit(path, "  delete:\n", "  delete: [\n")
    code, output = check(content)
    assert code == 1 and re.search(r"flows/privacy\.yaml:\d+: YAML error", output)


def test_article_missing_field(content: Path) -> None:
    edit(content / "knowledge" / "articles" / "prep.yaml", "\nsources:", "\nsourcez:")
    code, output = check(content)
    assert code == 1 and "knowledge/articles/prep.yaml" in output and "`sources`" in output


def test_article_missing_language(content: Path) -> None:
    path = content / "knowledge" / "articles" / "pep.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("more:\n")
    en = text.index("\n  en:", start)
    end = text.index("\nexamples:", en)
    path.write_text(text[:en] + text[end:], encoding="utf-8")
    code, output = check(content)
    assert code == 1 and "knowledge/articles/pep.yaml" in output and "`more` has no `en` text" in output


def test_broken_related_link(content: Path) -> None:
    edit(content / "knowledge" / "articles" / "prep.yaml", "related: [", "related: [no-such-article, ")
    code, output = check(content)
    assert code == 1 and "knowledge/articles/prep.yaml: `related` names `no-such-article`" in output


def test_voice_text_too_long_or_with_digits(content: Path) -> None:
    path = content / "knowledge" / "articles" / "prep.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("voice:\n  vi: ") + len("voice:\n  vi: ")
    path.write_text(text[:start] + "gọi 113 ngay. " + "rất dài " * 60 + text[start:], encoding="utf-8")
    code, output = check(content)
    assert code == 1
    assert f"knowledge/articles/prep.yaml:{line_of(path, 'gọi 113 ngay')}:" in output
    assert "at most 350" in output and "has digits" in output


def test_phone_number_not_in_the_directory(content: Path) -> None:
    path = content / "knowledge" / "articles" / "prep.yaml"
    edit(path, "answer:\n  vi: |\n", "answer:\n  vi: |\n    Gọi 0912 345 678 để hỏi.\n")
    code, output = check(content)
    assert code == 1
    line = line_of(path, "0912 345 678")
    assert f"knowledge/articles/prep.yaml:{line}: phone number '0912 345 678'" in output


def test_directory_entry_needs_a_spoken_number(content: Path) -> None:
    path = content / "knowledge" / "directory.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"\n\s*voice_phone:[^\n]*", "", text, count=1), encoding="utf-8")
    code, output = check(content)
    assert code == 1 and "knowledge/directory.yaml:" in output and "voice_phone" in output


def test_the_service_refuses_to_start_with_broken_content(content: Path, tmp_path: Path) -> None:
    from bot.errors import ContentErrors
    from bot.runtime import build_services
    from bot.settings import Settings

    edit(content / "flows" / "main.yaml", "goto: topics.legal", "goto: topics.lawyers")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        secret_key="x" * 40,  # type: ignore[arg-type]
        flows_dir=content / "flows",
        knowledge_dir=content / "knowledge",
    )
    with pytest.raises(ContentErrors, match=r"topics\.lawyers"):
        build_services(settings)


def test_a_lexicon_mistake_is_named(content: Path) -> None:
    lexicon = content / "knowledge" / "nlu" / "lexicon.yaml"
    edit(lexicon, "no_content:\n  - em\n", "no_content:\n  - em\n  - cứu\n")
    code, output = check(content)
    assert code == 1
    assert "nlu/lexicon.yaml: no_content: 'cứu' is a danger phrase on its own" in output


def test_a_malformed_training_file_is_named(content: Path) -> None:
    (content / "knowledge" / "nlu" / "training" / "new-writer.yaml").write_text(
        "topics:\n  legal: [một câu hỏi]\nexamples: [sai khóa]\n", encoding="utf-8"
    )
    code, output = check(content)
    assert code == 1
    assert "new-writer.yaml" in output


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (  # an unquoted ": " turns a message into a mapping
            "emergency:\n  overdose:\n    - ban em tim tai\n    - ban em: khong tho\n",
            "new-writer.yaml:4: emergency: overdose: item 2 is not a message (a message with ': ' in it",
        ),
        (
            "emergency:\n  overdoze:\n    - ban em tim tai\n",
            "new-writer.yaml:2: emergency: unknown label 'overdoze'",
        ),
        ("topics:\n  legal: [một câu hỏi\n", "new-writer.yaml:3: not valid YAML"),
    ],
)
def test_a_training_file_mistake_names_its_line(content: Path, body: str, expected: str) -> None:
    (content / "knowledge" / "nlu" / "training" / "new-writer.yaml").write_text(body, encoding="utf-8")
    code, output = check(content)
    assert code == 1
    assert expected in output
