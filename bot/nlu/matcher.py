"""The article matcher: nearest example questions (and titles) by cosine similarity of TF-IDF features."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from bot.nlu.data import Article
from bot.nlu.features import Features
from bot.nlu.normalize import normalize

DEFAULT_THRESHOLD = 0.45
"""Below this similarity the matcher has no confident article (tuned by ``hotline eval``)."""
OFF_TOPIC_FACTOR = 0.85
"""Articles whose topic differs from the predicted topic have their score multiplied by this."""


class ArticleMatcher:
    """Finds the articles whose example questions look most like a message."""

    def __init__(
        self,
        features: Features,
        articles: Sequence[Article],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        exclude: frozenset[str] = frozenset(),
    ) -> None:
        """Index the articles' examples and titles; ``exclude`` removes texts (for leave-one-out tests)."""
        self._features = features
        self.threshold = threshold
        self._ids = tuple(article.id for article in articles)
        self._topics = np.asarray([article.topic for article in articles], dtype=object)
        texts: list[str] = []
        owners: list[int] = []
        for number, article in enumerate(articles):
            for text in (*article.examples, *article.titles):
                normalized = normalize(text)
                if normalized and text not in exclude:
                    texts.append(normalized)
                    owners.append(number)
        self._owners = np.asarray(owners, dtype=np.int64)
        matrix = features.transform(texts) if texts else sp.csr_matrix((0, features.size))
        self._by_feature = sp.csr_matrix(matrix.T)  # (features, examples)

    def scores(self, normalized: str, topic: str | None = None) -> list[tuple[str, float]]:
        """Every article with its best similarity to the message, best first (no threshold)."""
        if not self._ids or not len(self._owners):
            return []
        indices, values = self._features.one(normalized)
        if not len(indices):
            return []
        similarity = np.asarray(self._by_feature[indices].T @ values).ravel()
        best = np.zeros(len(self._ids))
        np.maximum.at(best, self._owners, similarity)
        if topic is not None:
            best = np.where(self._topics == topic, best, best * OFF_TOPIC_FACTOR)
        order = np.argsort(-best, kind="stable")
        return [(self._ids[i], round(float(best[i]), 4)) for i in order if best[i] > 0]

    def match(
        self, normalized: str, topic: str | None = None, *, limit: int = 3
    ) -> tuple[tuple[str, float], ...]:
        """Confident matches (score at least :attr:`threshold`), best first, at most ``limit``."""
        return tuple(
            (article_id, score)
            for article_id, score in self.scores(normalized, topic)[:limit]
            if score >= self.threshold
        )
