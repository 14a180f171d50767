"""The click commands end to end, through click's CliRunner, on the repository's knowledge folder."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from bot.cli.nlu import classify_command, eval_command, export_rasa_command


def test_classify_prints_one_json_object_per_line_in_order(knowledge_dir: Path) -> None:
    lines = ["ck dang danh e", "", "em đánh rơi điện thoại", "xét nghiệm hiv ở đâu", "🆘", "chao"]
    result = CliRunner().invoke(
        classify_command, ["--knowledge", str(knowledge_dir)], input="\n".join(lines) + "\n"
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [record["text"] for record in records] == lines
    assert set(records[0]) == {"text", "topic", "emergency", "level", "kind", "score"}
    assert records[0]["emergency"] is True and records[0]["topic"] == "violence"
    assert records[0]["level"] == "emergency" and records[0]["kind"] == "violence_now"
    assert records[1] == {
        "text": "",
        "topic": "other",
        "emergency": False,
        "level": "none",
        "kind": None,
        "score": 0.0,
    }
    assert records[2]["emergency"] is False
    assert records[3]["topic"] == "hiv_sti" and records[3]["emergency"] is False
    assert records[4]["emergency"] is True
    assert records[5]["topic"] == "other"
    assert all(0.0 <= record["score"] <= 1.0 for record in records)
    assert "đánh rơi" in result.output  # ensure_ascii=False


def test_export_rasa_writes_valid_rasa_nlu_yaml(knowledge_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "nlu.yml"
    result = CliRunner().invoke(export_rasa_command, ["--knowledge", str(knowledge_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["version"] == "3.1"
    intents = {item["intent"]: item["examples"] for item in data["nlu"]}
    assert {"other", "support", "violence", "emergency_violence_now", "emergency_overdose"} <= set(intents)
    assert all(line.startswith("- ") for line in intents["other"].splitlines())
    assert "- chao" in intents["other"].splitlines()


def test_eval_exits_1_when_the_heldout_bar_is_missed(knowledge_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "nlu").mkdir()
    for name in ("topics.yaml", "emergency.yaml", "lexicon.yaml"):
        (tmp_path / "nlu" / name).write_text((knowledge_dir / "nlu" / name).read_text(encoding="utf-8"))
    heldout = {
        "topics": {"other": ["chao", "hello"], "legal": ["ban dam bi phat bao nhieu"]},
        "emergency": ["cuu em", "a quiet sentence that says nothing alarming at all"],
        "not_emergency": ["em đánh rơi điện thoại"],
    }
    (tmp_path / "nlu" / "heldout.yaml").write_text(yaml.safe_dump(heldout, allow_unicode=True))
    second = {
        "messages": [
            {"text": "chồng em đang đánh em", "emergency": True, "kind": "violence_now", "topic": "violence"},
            {"text": "xét nghiệm hiv ở đâu", "emergency": False, "topic": "hiv_sti"},
        ]
    }
    (tmp_path / "nlu" / "heldout2.yaml").write_text(yaml.safe_dump(second, allow_unicode=True))
    result = CliRunner().invoke(eval_command, ["--knowledge", str(tmp_path), "--json", "--folds", "2"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["heldout"]["heldout"]["emergency_recall"] == 0.5
    assert report["heldout"]["heldout2"]["emergency_recall"] == 1.0  # each set reported apart
    assert report["heldout"]["heldout2"]["topic_accuracy"] == 1.0  # the emergency's topic follows its kind
    assert report["bar"]["passed"] == {"heldout": False, "heldout2": True}
    assert report["bar"]["all_passed"] is False
    table = CliRunner().invoke(eval_command, ["--knowledge", str(tmp_path), "--folds", "2"])
    assert "emergency recall" in table.output
    assert "Held-out bar: heldout MISSED, heldout2 MET" in table.output
    assert "a quiet sentence" in table.output  # the misses are listed...
    quiet = CliRunner().invoke(eval_command, ["--knowledge", str(tmp_path), "--no-cv", "--counts-only"])
    assert "a quiet sentence" not in quiet.output  # ...unless only the figures are asked for


def test_eval_cv_only_never_reads_the_heldout_sets(knowledge_dir: Path, tmp_path: Path) -> None:
    """The figures to tune by: the cross-validated column alone, the held-out files not even opened."""
    (tmp_path / "nlu").mkdir()
    for name in ("topics.yaml", "emergency.yaml", "lexicon.yaml"):
        (tmp_path / "nlu" / name).write_text((knowledge_dir / "nlu" / name).read_text(encoding="utf-8"))
    (tmp_path / "nlu" / "heldout.yaml").write_text("{ not: [valid yaml")  # reading it would fail
    result = CliRunner().invoke(
        eval_command, ["--knowledge", str(tmp_path), "--cv-only", "--folds", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["heldout"] == {}
    assert report["cross_validated"]["topic_n"] > 0
    both = CliRunner().invoke(eval_command, ["--knowledge", str(tmp_path), "--cv-only", "--no-cv"])
    assert both.exit_code == 2
