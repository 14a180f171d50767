"""Every article can be found: from a menu, or by at least three of its own example questions typed to
the engine (each by a new person, as a first message)."""

from __future__ import annotations

import secrets
from collections import Counter

import pytest

from bot.messages import InboundMessage
from bot.runtime import Services

MIN_EXAMPLES = 3
# Across all example questions, the share answered with their own article (or, for a question that
# describes danger, with the emergency flow). The matcher's cross-validated top-3 figure is ~0.8; on
# its own examples it must do much better.
MIN_OVERALL = 0.9


async def test_every_article_is_reachable(services: Services) -> None:
    if not services.settings.is_sqlite:
        pytest.skip("content, not storage: once is enough")
    knowledge = services.content.knowledge
    hits: Counter[str] = Counter()
    asked = answered = 0
    misses: list[str] = []
    for article in knowledge.articles.values():
        for locale in ("vi", "en"):
            answer = article.answer.get(locale)
            for example in article.examples[locale]:
                asked += 1
                outcome = await services.engine.handle(
                    InboundMessage("test", secrets.token_hex(8), text=example, locale=locale)
                )
                texts = [r.text for r in outcome.replies]
                if answer in texts:
                    hits[article.id] += 1
                    answered += 1
                elif outcome.emergency:
                    answered += 1  # a question that describes danger goes to a person: right too
                else:
                    misses.append(f"{article.id}: {example}")
    unreachable = [a.id for a in knowledge.articles.values() if a.menu is None and hits[a.id] < MIN_EXAMPLES]
    assert not unreachable, f"not in a menu and found by fewer than {MIN_EXAMPLES} examples: {unreachable}"
    rate = answered / asked
    print(f"\n{answered}/{asked} example questions answered right ({rate:.3f}); {len(misses)} misses")
    assert rate >= MIN_OVERALL, f"{rate:.3f} of {asked} examples answered right; misses:\n" + "\n".join(
        misses
    )
