"""The article matcher: which article answers a message, and how sure we are.

Two views of the same TF-IDF features are combined: a linear classifier over the articles (one class
per article, trained on its example questions and titles) and the nearest example question by cosine
similarity. The first is better at the best article, the second at close paraphrases; together they
rank the right article first about 81% of the time and in the first three about 94% (``hotline eval``).

The first article is *confident* when it leads the second by :data:`DEFAULT_MARGIN`; otherwise the
engine offers the first three to choose from instead of answering with what may be the wrong one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.nlu.data import Article
from bot.nlu.features import Features
from bot.nlu.linear import FeatureWeights
from bot.nlu.normalize import normalize

DEFAULT_THRESHOLD = -0.2
"""Below this combined score the matcher has no article at all (the message is about something else).

Below zero on purpose: a question wrapped in greetings, places and fillers ("chị ơi cho em hỏi ..., em ở
quận 7") scores lower than the bare question. Cross-validated with such fillers added to the questions,
-0.2 leaves 21% of them with no article (0.0: 38%), answers 63% with the right one (0.0: 56%) and 8%
with a wrong one (0.0: 4%). Left-out small talk offered articles: 10% (0.0: 5%); most small talk never
gets that far (``OTHER_IS_SURE`` in ``model.py``)."""
DEFAULT_MARGIN = 0.3
"""The lead over the second article that makes the first a confident answer (cross-validated: 77% of
questions answered directly, 92% of those right; 0.4 answers 72% with 94% right, 0.2 83% with 89%)."""
NEAREST_WEIGHT = 0.5
"""How much the nearest-example similarity counts next to the classifier's score."""
OFF_TOPIC_FACTOR = 0.85
"""Nearest-example similarities of articles outside the predicted topic are multiplied by this."""


class ArticleMatcher:
    """Finds the articles whose example questions look most like a message."""

    def __init__(
        self,
        features: Features,
        articles: Sequence[Article],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
        exclude: frozenset[str] = frozenset(),
    ) -> None:
        """Index and learn the articles' examples and titles; ``exclude`` leaves texts out (for tests)."""
        self._features = features
        self.threshold = threshold
        self.margin = margin
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
        # to train only: the fitted matcher keeps numpy arrays, and answers without SciPy or scikit-learn
        import scipy.sparse as sp
        from sklearn.svm import LinearSVC

        matrix = features.transform(texts) if texts else sp.csr_matrix((0, features.size))
        # The examples by feature, as the arrays of a CSR matrix (features x examples): for a message's
        # features, the examples that have them and their weights.
        by_feature = sp.csr_matrix(matrix.T)
        self._starts = np.asarray(by_feature.indptr, dtype=np.int64)
        self._examples = np.asarray(by_feature.indices, dtype=np.int64)
        self._weights = np.asarray(by_feature.data, dtype=np.float64)
        self._coef: FeatureWeights | None = None
        if len(set(owners)) >= 2:
            model = LinearSVC(C=0.5)
            model.fit(matrix, self._owners)
            coef = np.zeros((len(self._ids), features.size))
            intercept = np.full(len(self._ids), -10.0)  # an article with no examples is never chosen
            for row, owner in enumerate(model.classes_):
                coef[int(owner)] = model.coef_[row]
                intercept[int(owner)] = model.intercept_[row]
            seen = np.diff(matrix.tocsc().indptr) > 0  # the features of the articles' texts
            self._coef = FeatureWeights(coef.T, seen)  # (features, articles), rows with a weight only
            self._intercept = intercept

    def scores(self, normalized: str, topic: str | None = None) -> list[tuple[str, float]]:
        """Every article with its combined score, best first (no threshold)."""
        if not self._ids or not len(self._owners):
            return []
        indices, values = self._features.one(normalized)
        if not len(indices):
            return []
        similarity = self.similarity(indices, values)
        nearest = np.zeros(len(self._ids))
        np.maximum.at(nearest, self._owners, similarity)
        if topic is not None:
            nearest = np.where(self._topics == topic, nearest, nearest * OFF_TOPIC_FACTOR)
        combined = NEAREST_WEIGHT * nearest
        if self._coef is not None:
            combined = combined + self._coef.dot(indices, values) + self._intercept
        order = np.argsort(-combined, kind="stable")
        return [(self._ids[i], round(float(combined[i]), 4)) for i in order]

    def similarity(self, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The cosine similarity of a message (its features' ``indices`` and ``values``) to every example."""
        starts = self._starts[indices]
        lengths = self._starts[indices + 1] - starts
        total = int(lengths.sum())
        if not total:
            return np.zeros(len(self._owners))
        # the positions of every (feature, example) entry of the message's features, in one array
        first = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        positions = np.arange(total) + first
        products = self._weights[positions] * np.repeat(values, lengths)
        return np.bincount(self._examples[positions], weights=products, minlength=len(self._owners))

    def confident(self, ranked: Sequence[tuple[str, float]]) -> bool:
        """Whether the first article of a ranking leads the second clearly enough to answer with it."""
        if not ranked or ranked[0][1] < self.threshold:
            return False
        return len(ranked) == 1 or ranked[0][1] - ranked[1][1] >= self.margin

    def match(
        self, normalized: str, topic: str | None = None, *, limit: int = 3, parts: Sequence[str] = ()
    ) -> tuple[tuple[tuple[str, float], ...], bool]:
        """The best articles (at most ``limit``, above the threshold) and whether the first is confident.

        ``parts`` are the message's sentences (normalised), when it has several: a question told after a
        story ("my husband drinks and hits me, for years now... is there a line open at night?") scores
        low as a whole, since the story's words belong to no article; each article keeps its best score
        over the whole message and each sentence.
        """
        ranked = self.scores(normalized, topic)
        if parts:
            by_article = dict(ranked)
            for part in parts:
                for article_id, score in self.scores(part, topic):
                    by_article[article_id] = max(score, by_article.get(article_id, score))
            ranked = sorted(by_article.items(), key=lambda item: -item[1])
        best = tuple(item for item in ranked[:limit] if item[1] >= self.threshold)
        return best, self.confident(ranked)
