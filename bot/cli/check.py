"""``hotline check``: every content mistake with its file and line, and what still needs a review."""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import click

from bot.errors import ContentErrors
from bot.settings import Settings


def run_check(
    flows_dir: Path, knowledge_dir: Path, echo: Callable[[str], None], *, today: dt.date | None = None
) -> int:
    """Check the content; print the findings; return the exit code (1 on any mistake; warnings do not fail)."""
    from bot.content.freshness import stale_legal
    from bot.engine.content import load_content

    try:
        content = load_content(flows_dir, knowledge_dir)
    except ContentErrors as exc:
        for error in exc.errors:
            echo(f"error: {error}")
        echo(f"{len(exc.errors)} mistake(s) found.")
        return 1
    nlu_error = _nlu_mistake(knowledge_dir)
    if nlu_error is not None:
        echo(f"error: {nlu_error}")
        echo("1 mistake(s) found.")
        return 1
    knowledge = content.knowledge
    by_topic = Counter(a.topic for a in knowledge.articles.values())
    by_review = Counter(a.review_status for a in knowledge.articles.values())
    echo(
        f"ok: {len(content.flows.nodes)} flow nodes, {len(knowledge.articles)} articles "
        f"({', '.join(f'{t} {n}' for t, n in sorted(by_topic.items()))}), "
        f"{len(knowledge.services)} directory entries, {len(knowledge.provinces)} provinces."
    )
    for warning in stale_legal(knowledge.articles.values(), today or dt.date.today()):
        echo(f"warning: {warning}")
    echo(f"review: {by_review.get('reviewed', 0)} reviewed, {by_review.get('needed', 0)} need a review:")
    for article in knowledge.review_needed:
        echo(f"  needs review: {article.path}: {article.review_check}")
    saved = knowledge.saved_replies
    echo(f"saved replies: {len(saved)} ({', '.join(r.shortcut for r in saved)}); "
         f"{sum(r.review_status == 'needed' for r in saved)} need a review:")  # fmt: skip
    for reply in saved:
        if reply.review_status == "needed":
            echo(
                f"  needs review: knowledge/saved_replies.yaml:{reply.line} ({reply.id}): {reply.review_check}"
            )
    return 0


def _nlu_mistake(knowledge_dir: Path) -> str | None:
    """The first mistake in the language model's files (the lexicon, the training examples), or None.

    The files are read as ``hotline train`` reads them, without training: a malformed example, an
    unknown key or a lexicon entry the lexicon refuses (a ``no_content`` word that is a danger phrase).
    """
    from bot.nlu.data import load_training_data
    from bot.nlu.errors import NLUError
    from bot.nlu.lexicon import Lexicon

    try:
        Lexicon.load(knowledge_dir / "nlu" / "lexicon.yaml")
        load_training_data(knowledge_dir)
    except NLUError as exc:
        return str(exc)
    return None


@click.command()
@click.option("--flows", "flows_dir", type=click.Path(path_type=Path), default=None)
@click.option("--knowledge", "knowledge_dir", type=click.Path(path_type=Path), default=None)
def check(flows_dir: Path | None, knowledge_dir: Path | None) -> None:
    """Check flows/ and knowledge/; print file:line for each mistake (exit 1 on any)."""
    settings = Settings()
    code = run_check(flows_dir or settings.flows_dir, knowledge_dir or settings.knowledge_dir, click.echo)
    sys.exit(code)
