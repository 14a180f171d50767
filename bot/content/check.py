"""``hotline check``: every content mistake with its file and line, and what still needs a review."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bot.errors import ContentErrors


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
    return 0
