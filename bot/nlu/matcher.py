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
DENSE_MIN = 0.2
"""A feature in at least this share of the examples keeps its weights as a dense row (one product per
message instead of gathering thousands of entries one by one: most of a message's entries are in such
common character n-grams); the others keep lists of (example, weight)."""


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
        # The examples of an article are next to each other: where each article's begin (articles without
        # examples have none, and a nearest similarity of 0)
        self._with_examples = np.unique(self._owners)
        self._first_example = np.searchsorted(self._owners, self._with_examples)
        # to train only: the fitted matcher keeps numpy arrays, and answers without SciPy or scikit-learn
        import scipy.sparse as sp
        from sklearn.svm import LinearSVC

        matrix = features.transform(texts) if texts else sp.csr_matrix((0, features.size))
        # The examples by feature, as the arrays of a CSR matrix (features x examples): for a message's
        # features, the examples that have them and their weights.
        by_feature = sp.csr_matrix(matrix.T)
        self._index(
            np.asarray(by_feature.indptr, dtype=np.int64),
            np.asarray(by_feature.indices, dtype=np.int64),
            np.asarray(by_feature.data, dtype=np.float64),
        )
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
        combined = self._combined(normalized, topic)
        if combined is None:
            return []
        order = np.argsort(-combined, kind="stable")
        return [(self._ids[i], round(float(combined[i]), 4)) for i in order]

    def _combined(self, normalized: str, topic: str | None) -> np.ndarray | None:
        """The combined score of every article, in the order of ``self._ids`` (None: no features)."""
        if not self._ids or not len(self._owners):
            return None
        indices, values = self._features.one(normalized)
        if not len(indices):
            return None
        similarity = self.similarity(indices, values)
        nearest = np.zeros(len(self._ids))
        nearest[self._with_examples] = np.maximum.reduceat(similarity, self._first_example)
        if topic is not None:
            nearest = np.where(self._topics == topic, nearest, nearest * OFF_TOPIC_FACTOR)
        combined = NEAREST_WEIGHT * nearest
        if self._coef is not None:
            combined = combined + self._coef.dot(indices, values) + self._intercept
        return combined

    def _index(self, starts: np.ndarray, examples: np.ndarray, weights: np.ndarray) -> None:
        """Keep the (feature, example) weights (CSR arrays, features x examples) for :meth:`similarity`:
        the features in many examples as dense rows, the others as lists of (example, weight)."""
        count = len(self._owners)
        lengths = np.diff(starts)
        common = np.flatnonzero(lengths >= max(DENSE_MIN * count, 1))
        self._dense_row = np.full(len(lengths), -1, dtype=np.int32)
        self._dense_row[common] = np.arange(len(common), dtype=np.int32)
        self._dense = np.zeros((len(common), count), dtype=np.float64)
        for row, feature in enumerate(common):
            self._dense[row, examples[starts[feature] : starts[feature + 1]]] = weights[
                starts[feature] : starts[feature + 1]
            ]
        kept = np.repeat(self._dense_row < 0, lengths)
        rare_lengths = np.where(self._dense_row < 0, lengths, 0)
        self._starts = np.concatenate(([0], np.cumsum(rare_lengths))).astype(np.int64)
        # np.bincount's own index type: an int32 array was converted to it on every message
        self._examples = examples[kept].astype(np.intp)
        self._weights = weights[kept]

    def similarity(self, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The cosine similarity of a message (its features' ``indices`` and ``values``) to every example."""
        rows = self._dense_row[indices]
        common = rows >= 0
        if common.any():  # the features in many examples: one product over their dense rows
            similarity: np.ndarray = values[common] @ self._dense[rows[common]]
            indices, values = indices[~common], values[~common]
        else:
            similarity = np.zeros(len(self._owners))
        starts = self._starts[indices]
        ends = self._starts[indices + 1]
        lengths = ends - starts
        if int(lengths.sum()):
            # every (feature, example) entry of the other features in one array, feature by feature: their
            # slices joined (gathering the entries one by one by their positions cost several times more
            # than the copies); the same entries in the same order, so the same sums
            spans = list(zip(starts.tolist(), ends.tolist(), strict=True))
            examples = np.concatenate([self._examples[start:end] for start, end in spans])
            products = np.concatenate([self._weights[start:end] for start, end in spans])
            products *= np.repeat(values, lengths)
            similarity += np.bincount(examples, weights=products, minlength=len(self._owners))
        return similarity

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
        ranked = self._best(normalized, topic, parts, max(limit, 2))
        best = tuple(item for item in ranked[:limit] if item[1] >= self.threshold)
        return best, self.confident(ranked)  # (ranked has one article only when there is one)

    def _best(
        self, normalized: str, topic: str | None, parts: Sequence[str], count: int
    ) -> list[tuple[str, float]]:
        """The first ``count`` articles of the ranking :meth:`scores` gives, merged over ``parts`` as
        :meth:`match` says (each article's best rounded score; ties in the order of the first ranking),
        without rounding and sorting every article: only those that can be among the first ``count``."""
        scored = [c for c in (self._combined(text, topic) for text in (normalized, *parts)) if c is not None]
        if not scored:
            return []
        merged = np.maximum.reduce(scored) if len(scored) > 1 else scored[0]  # round() is monotonic
        if len(merged) > count:
            # Rounded to 4 decimals, a score moves by at most 0.00005: one lower than the count-th best by
            # more than twice that cannot reach it
            floor = np.partition(merged, len(merged) - count)[len(merged) - count] - 2e-4
            candidates = np.flatnonzero(merged >= floor)
        else:
            candidates = np.arange(len(merged))
        position = np.empty(len(merged), dtype=np.int64)  # ties keep the first ranking's order
        position[np.argsort(-scored[0], kind="stable")] = np.arange(len(merged))
        ranked = sorted(
            ((round(float(merged[i]), 4), int(position[i]), int(i)) for i in candidates),
            key=lambda item: (-item[0], item[1]),
        )
        return [(self._ids[i], score) for score, _, i in ranked[:count]]
