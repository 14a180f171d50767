"""Click commands for the ``hotline`` CLI group: ``classify``, ``eval`` and ``export-rasa``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.nlu import build_builtin
from bot.nlu.data import load_training_data
from bot.nlu.evaluate import evaluate, format_report
from bot.nlu.rasa import export_rasa_yaml

_knowledge_option = click.option(
    "--knowledge",
    "knowledge",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("knowledge"),
    show_default=True,
    help="The knowledge folder to train from.",
)


@click.command("classify")
@_knowledge_option
def classify_command(knowledge: Path) -> None:
    """Read messages (UTF-8, one per line) from standard input; print one JSON object per line."""
    model = build_builtin(knowledge)
    for raw in sys.stdin.buffer:
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        understood = model.understand_sync(text)
        record = {
            "text": text,
            "topic": understood.topic,
            "emergency": understood.emergency,
            "level": understood.danger_level,
            "kind": understood.emergency_kind,
            "score": understood.emergency_score,
        }
        click.echo(json.dumps(record, ensure_ascii=False))
        sys.stdout.flush()


@click.command("eval")
@_knowledge_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table.")
@click.option("--folds", default=5, show_default=True, help="Folds of the cross-validation.")
@click.option("--no-cv", "no_cv", is_flag=True, help="Only the held-out sets (no cross-validation).")
@click.option(
    "--cv-only",
    "cv_only",
    is_flag=True,
    help="Only the cross-validation; the held-out sets are not read (the figures to tune by).",
)
@click.option(
    "--details/--counts-only",
    default=True,
    show_default=True,
    help="List missed emergencies and false alarms, or print only the figures.",
)
def eval_command(
    knowledge: Path, as_json: bool, folds: int, no_cv: bool, cv_only: bool, details: bool
) -> None:
    """Cross-validated and held-out figures (each set apart); exit 1 when a held-out bar is missed.

    With ``--cv-only`` the held-out sets are not read and the exit status is 0.
    """
    if no_cv and cv_only:
        raise click.UsageError("--no-cv and --cv-only leave nothing to measure; give one of them")
    report = evaluate(knowledge, folds=folds, cross=not no_cv, heldout=not cv_only)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_report(report, details=details))
    if not cv_only and not report.passed:
        raise SystemExit(1)


@click.command("export-rasa")
@_knowledge_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def export_rasa_command(knowledge: Path, out: Path | None) -> None:
    """Write every training example in Rasa's NLU YAML format."""
    text = export_rasa_yaml(load_training_data(knowledge))
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
