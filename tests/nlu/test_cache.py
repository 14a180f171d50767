"""The trained model is kept in a file: loaded when nothing changed, trained again when the content did.

Each test copies a small knowledge folder (a few articles, short topic and emergency lists, the real
lexicon) into a temporary folder, and keeps its models in another: nothing is written to the repository.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.nlu import BuiltinNLU, build_builtin, build_nlu
from bot.nlu.cache import LazyPattern, load_or_train, model_path
from bot.nlu.contract import Understanding
from bot.settings import ROOT

ARTICLES = ("alcohol", "hiv-testing", "buying-sex-law", "feeling-alone", "after-sexual-assault")
TOPICS = """\
other: [em đang nấu cơm nè, mạng chậm quá, chào bạn, hello]
hiv_sti: [xét nghiệm hiv ở đâu, prep là gì, bị giang mai thì sao]
harm_reduction: [uống rượu nhiều có sao không, kim tiêm sạch ở đâu]
legal: [bán dâm bị phạt bao nhiêu, công an giữ giấy tờ]
support: [em buồn quá, muốn có người nói chuyện]
violence: [bị chồng đánh thì làm sao, luật về bạo lực gia đình]
"""
EMERGENCY = """\
emergency:
  violence_now: [nó đang đánh em, ck đá vào đầu em liên tục]
  sexual_assault: [em vừa bị hiếp]
  held_trafficked: [bị nhốt trong phòng không ra được]
  threat_to_life: [nó dọa giết em]
  suicide_self_harm: [em muốn chết]
  overdose: [bạn em sốc thuốc bất tỉnh]
not_emergency: [đánh rơi điện thoại, chết cười, bị phạt bao nhiêu năm]
"""


def small_knowledge(folder: Path) -> Path:
    """A knowledge folder with a few articles and short example lists: trains in a second or two."""
    (folder / "articles").mkdir(parents=True)
    (folder / "nlu").mkdir()
    for name in ARTICLES:
        shutil.copy(ROOT / "knowledge" / "articles" / f"{name}.yaml", folder / "articles")
    shutil.copy(ROOT / "knowledge" / "nlu" / "lexicon.yaml", folder / "nlu")
    (folder / "nlu" / "topics.yaml").write_text(TOPICS, encoding="utf-8")
    (folder / "nlu" / "emergency.yaml").write_text(EMERGENCY, encoding="utf-8")
    (folder / "nlu" / "heldout.yaml").write_text("topics: {}\nemergency: []\nnot_emergency: []\n")
    return folder


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    return small_knowledge(tmp_path / "knowledge")


@pytest.fixture
def models(tmp_path: Path) -> Path:
    return tmp_path / "models"


def train(knowledge: Path, models: Path) -> tuple[BuiltinNLU, str]:
    cached = load_or_train(knowledge, models, lambda: build_builtin(knowledge), BuiltinNLU)
    return cached.model, cached.status


def test_second_start_loads_the_saved_model_and_answers_the_same(knowledge: Path, models: Path) -> None:
    first, status = train(knowledge, models)
    assert status == "trained"
    assert [p.name for p in models.iterdir()] == [model_path(models, knowledge).name]
    second, status = train(knowledge, models)
    assert status == "loaded"
    for text in ("ck dang danh e", "xet nghiem hiv o dau", "ban dam bi phat bao nhieu"):
        assert second.understand_sync(text) == first.understand_sync(text)
    assert second.understand_sync("ck dang danh e").emergency


def test_the_loaded_models_patterns_compile_on_first_use_and_find_the_same(
    knowledge: Path, models: Path
) -> None:
    """A loaded model's ~thousand regular expressions are compiled when first used (a good part of the
    load at every start), and it answers as the model just trained in memory does."""
    loaded, _ = train(knowledge, models)
    phrases = loaded.detector.lexicon.phrases
    assert phrases and all(isinstance(pattern, LazyPattern) for _, _, pattern in phrases)
    assert all("search" not in vars(pattern) for _, _, pattern in phrases), "none compiled yet"
    fresh = build_builtin(knowledge)
    texts = [*TOPICS.split(","), *EMERGENCY.split(","), "ck dang danh e", "em muốn chết", "PrEP là gì?"]
    for text in texts:
        assert _same(loaded.understand_sync(text), fresh.understand_sync(text)), text
    idioms = loaded.detector.lexicon._idioms  # asked for every message
    assert isinstance(idioms, LazyPattern) and "search" in vars(idioms), "compiled once used"
    pattern = phrases[0][2]
    compiled = re.compile(pattern.pattern, pattern.flags)
    assert pattern == compiled and hash(pattern) == hash(LazyPattern(compiled.pattern, compiled.flags))
    assert pickle.loads(pickle.dumps(pattern)) == compiled  # pickled as the compiled pattern


def test_the_loaded_model_reads_its_weights_from_the_file_not_a_copy(knowledge: Path, models: Path) -> None:
    """The article classifier's weights (tens of megabytes) are mapped from the file, read-only: pages
    never read cost no memory, and processes serving the same file share them."""
    for status in ("trained", "loaded"):  # the trained one too: it is read back from its file
        model, got = train(knowledge, models)
        assert got == status
        assert model.matcher._coef is not None
        weights = model.matcher._coef.rows
        assert not weights.flags.writeable and not weights.flags.owndata
        base = weights.base
        while hasattr(base, "base") and not isinstance(base, memoryview):  # views of views of the file
            base = base.base
        assert isinstance(base, memoryview) and base.readonly


def test_a_changed_example_trains_a_new_model(knowledge: Path, models: Path) -> None:
    train(knowledge, models)
    before = model_path(models, knowledge)
    topics = knowledge / "nlu" / "topics.yaml"
    topics.write_text(topics.read_text(encoding="utf-8").replace("mạng chậm quá", "trời mưa to quá"))
    after = model_path(models, knowledge)
    assert after != before
    _, status = train(knowledge, models)
    assert status == "trained"
    assert after.exists()


def test_a_training_writer_file_counts(knowledge: Path, models: Path) -> None:
    """``nlu/training/*.yaml`` is trained on, so a new or changed writer's file names a new model."""
    before = model_path(models, knowledge)
    writer = knowledge / "nlu" / "training" / "writer.yaml"
    writer.parent.mkdir()
    writer.write_text("not_emergency: [em đang phơi đồ]\n", encoding="utf-8")
    added = model_path(models, knowledge)
    assert added != before
    writer.write_text("not_emergency: [em đang phơi đồ, em đang tưới cây]\n", encoding="utf-8")
    assert model_path(models, knowledge) not in (before, added)


def test_an_article_change_counts_but_the_held_out_set_does_not(knowledge: Path, models: Path) -> None:
    before = model_path(models, knowledge)
    (knowledge / "nlu" / "heldout.yaml").write_text("topics: {other: [xin chào]}\n")
    assert model_path(models, knowledge) == before, "the held-out set is never trained on"
    article = knowledge / "articles" / "alcohol.yaml"
    article.write_text(article.read_text(encoding="utf-8") + "\n# reviewed\n", encoding="utf-8")
    assert model_path(models, knowledge) != before


@pytest.mark.parametrize("damage", [b"not a pickle at all", "truncated"])
def test_a_corrupt_model_file_is_trained_again_not_a_crash(
    knowledge: Path, models: Path, damage: bytes | str
) -> None:
    train(knowledge, models)
    path = model_path(models, knowledge)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else damage)  # type: ignore[arg-type]
    again, status = train(knowledge, models)
    assert status == "retrained"
    assert again.understand_sync("ck dang danh e").emergency
    assert len(path.read_bytes()) == len(data), "the file is replaced by a whole one"


def test_an_unwritable_model_folder_still_gives_a_model(knowledge: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    nlu = build_nlu(knowledge, model_dir=blocked / "models")
    assert nlu is not None


@pytest.mark.slow
def test_hotline_train_builds_once_then_reports_up_to_date(knowledge: Path, models: Path) -> None:
    def run() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bot.cli", "train", "--knowledge", str(knowledge),
                   "--model-dir", str(models)]  # fmt: skip
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)

    first = run()
    assert first.returncode == 0, first.stderr
    assert "trained" in first.stdout
    second = run()
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    assert model_path(models, knowledge).exists()


def test_the_model_is_the_services_alone(knowledge: Path, models: Path) -> None:
    """A pickle: whoever can write it runs code in the service, whoever can read it learns the content."""
    old = os.umask(0o022)
    try:
        train(knowledge, models)
    finally:
        os.umask(old)
    assert stat.S_IMODE(models.stat().st_mode) == 0o700
    assert stat.S_IMODE(model_path(models, knowledge).stat().st_mode) == 0o600


def _same(one: Understanding, other: Understanding) -> bool:
    """Equal understandings; an article's score may differ in its last rounded digit (a score computed in
    another order of float additions can fall on the other side of a rounding boundary: 1.16665)."""
    if dataclasses.replace(one, articles=()) != dataclasses.replace(other, articles=()):
        return False
    return [a for a, _ in one.articles] == [a for a, _ in other.articles] and all(
        abs(x - y) <= 2e-4 for (_, x), (_, y) in zip(one.articles, other.articles, strict=True)
    )
