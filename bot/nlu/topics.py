"""The topic classifier: logistic regression over the shared TF-IDF features."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.nlu.features import FeatureSpace
from bot.nlu.linear import FeatureWeights


class TopicClassifier:
    """Multinomial logistic regression; :meth:`predict` runs on one message without scikit-learn."""

    def __init__(
        self,
        features: FeatureSpace,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        c: float = 10.0,
        balanced: bool = True,
        tol: float = 1e-4,
    ) -> None:
        """Train on normalised ``texts`` with their ``labels`` (at least two distinct labels).

        ``c`` is the inverse regularisation strength; ``balanced`` weighs every label equally; a larger
        ``tol`` stops the solver sooner (the topic model trains four times faster with 1e-3).
        """
        from sklearn.linear_model import LogisticRegression  # to train only: predicting needs numpy alone

        self._features = features
        model = LogisticRegression(C=c, max_iter=3000, tol=tol, class_weight="balanced" if balanced else None)
        matrix = features.transform(texts)
        model.fit(matrix, list(labels))
        self.labels: tuple[str, ...] = tuple(str(label) for label in model.classes_)
        seen = np.diff(matrix.tocsc().indptr) > 0
        self._coef = FeatureWeights(np.asarray(model.coef_).T, seen)  # (features, classes)
        self._intercept = np.asarray(model.intercept_, dtype=np.float64)
        self._binary = len(self.labels) == 2

    def probabilities(self, normalized: str) -> np.ndarray:
        """Probability of each label in :attr:`labels` order."""
        indices, values = self._features.one(normalized)
        scores = self._coef.dot(indices, values) + self._intercept
        if self._binary:
            positive = 1.0 / (1.0 + np.exp(-scores[0]))
            return np.asarray([1.0 - positive, positive])
        scores = scores - scores.max()
        exp = np.exp(scores)
        return np.asarray(exp / exp.sum())

    def predict(self, normalized: str) -> tuple[str, float]:
        """The most likely label and its probability."""
        probabilities = self.probabilities(normalized)
        best = int(np.argmax(probabilities))
        return self.labels[best], float(probabilities[best])
