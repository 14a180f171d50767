"""The checked content kept beside the model: a start reads it from there when the content, the code and
Python are the same; any change to them reads the files again, so a content mistake still stops the start;
a broken or unwritable cache never stops it."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from bot.engine import content_cache
from bot.engine.content import Content
from bot.engine.content_cache import PREFIX, SUFFIX, content_key, load_content_cached
from bot.errors import ContentErrors
from tests.content.test_check import edit
from tests.support.content import copy_content

WELCOME = "flows/welcome.yaml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_content(tmp_path / "content")


def _load(root: Path, cache: Path) -> Content:
    return load_content_cached(root / "flows", root / "knowledge", cache)


def _cached(cache: Path) -> list[Path]:
    return sorted(cache.glob(f"{PREFIX}*{SUFFIX}"))


def _no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> Content:
        raise AssertionError("the content files were read again")

    monkeypatch.setattr(content_cache, "load_content", refuse)


def test_a_second_start_takes_the_checked_content_from_the_file(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "models"
    first = _load(root, cache)
    [stored] = _cached(cache)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600  # pickle runs code: the service's alone
    _no_reading(monkeypatch)
    again = _load(root, cache)
    assert again == first
    assert set(again.flows.nodes) == set(first.flows.nodes)
    assert set(again.knowledge.articles) == set(first.knowledge.articles)


def test_a_changed_content_file_is_read_and_checked_again(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "models"
    before = content_key(root / "flows", root / "knowledge")
    _load(root, cache)
    text = (root / WELCOME).read_text(encoding="utf-8")
    (root / WELCOME).write_text(text + "\n# a comment changes the file\n", encoding="utf-8")
    assert content_key(root / "flows", root / "knowledge") != before
    _load(root, cache)
    assert len(_cached(cache)) == 2


def test_a_content_mistake_stops_the_start_even_with_a_cache(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "models"
    _load(root, cache)
    edit(root / "knowledge/articles/selling-sex-law.yaml", "topic: legal", "topic: no-such-topic")
    with pytest.raises(ContentErrors):
        _load(root, cache)


def test_a_new_file_changes_the_key(root: Path) -> None:
    before = content_key(root / "flows", root / "knowledge")
    (root / "knowledge" / "notes.txt").write_text("a new file\n", encoding="utf-8")
    assert content_key(root / "flows", root / "knowledge") != before


def test_a_corrupt_file_is_read_again_and_replaced(
    root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "models"
    first = _load(root, cache)
    [stored] = _cached(cache)
    stored.write_bytes(b"\x80\x05not a pickle")
    with caplog.at_level(logging.WARNING, logger="bot.engine.content_cache"):
        again = _load(root, cache)
    assert again == first
    assert "cannot read the checked content" in caplog.text
    assert stored.read_bytes()[:2] == b"\x80\x05" and len(stored.read_bytes()) > 1000


def test_an_unwritable_folder_only_means_reading_at_every_start(
    root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.engine.content_cache"):
        content = _load(root, blocker / "models")
    assert "welcome.start" in content.flows.nodes
    assert "cannot keep the checked content" in caplog.text


def test_old_files_are_pruned(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "models"
    for number in range(5):
        text = (root / WELCOME).read_text(encoding="utf-8")
        (root / WELCOME).write_text(text + f"\n# change {number}\n", encoding="utf-8")
        _load(root, cache)
    assert len(_cached(cache)) == content_cache.KEEP
