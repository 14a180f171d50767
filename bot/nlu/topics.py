"""The topic classifier: logistic regression over the shared TF-IDF features, optionally with naive Bayes.

With ``naive_bayes`` the scores of a Complement Naive Bayes model trained on the same rows are added to
the logistic regression's (a product of the two experts, still one linear model: the same cost to
predict). Naive Bayes counts each n-gram per topic without fitting the training messages' exact
phrasing, so it carries over better to a writer the model never saw.

With ``stacked_bayes`` (two labels only) the naive Bayes score is instead one more input of the logistic
regression, which learns its weight and corrects it where it is wrong: a calm training message that naive
Bayes reads as danger ("em vừa đánh răng xong") is still fitted as calm. The column is the score of naive
Bayes models trained without the row (five folds), so the regression does not trust an in-sample score;
predicting uses naive Bayes trained on every row, folded into the same linear weights.
"""

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
        naive_bayes: float = 0.0,
        stacked_bayes: float = 0.0,
        column_weights: np.ndarray | None = None,
    ) -> None:
        """Train on normalised ``texts`` with their ``labels`` (at least two distinct labels).

        ``c`` is the inverse regularisation strength; ``balanced`` weighs every label equally; a larger
        ``tol`` stops the solver sooner (the topic model trains four times faster with 1e-3);
        ``naive_bayes`` is the weight of the Complement Naive Bayes scores added to the logistic
        regression's log-probabilities (0: none); ``stacked_bayes`` is the scale of the naive Bayes score
        given to the regression as an input (0: none; two labels only); ``column_weights`` multiply the
        feature columns the models learn from, and are folded into the weights afterwards, so
        :meth:`predict` reads the unweighted features at the same cost (a weight above 1 lets a block
        count more for the same regularisation).
        """
        from sklearn.linear_model import LogisticRegression  # to train only: predicting needs numpy alone

        self._features = features
        model = LogisticRegression(C=c, max_iter=3000, tol=tol, class_weight="balanced" if balanced else None)
        matrix = features.transform(texts)
        if column_weights is not None:
            import scipy.sparse as sp

            matrix = (matrix @ sp.diags(column_weights)).tocsr()
        seen = np.diff(matrix.tocsc().indptr) > 0
        if stacked_bayes:
            coef = _stacked(model, matrix, list(labels), seen, stacked_bayes)
        else:
            model.fit(matrix, list(labels))
            coef = np.asarray(model.coef_, dtype=np.float64).T  # (features, classes)
        self.labels: tuple[str, ...] = tuple(str(label) for label in model.classes_)
        self._binary = len(self.labels) == 2
        if naive_bayes:
            coef = coef + naive_bayes * _complement_bayes(
                matrix, labels, self.labels, seen, binary=self._binary
            )
        if column_weights is not None:
            coef = coef * np.asarray(column_weights, dtype=np.float64)[:, None]
        self._coef = FeatureWeights(coef, seen)
        self._intercept = np.asarray(model.intercept_, dtype=np.float64)

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
        probabilities: list[float] = self.probabilities(normalized).tolist()
        # the first of the most likely, as numpy's argmax (its call costs more than this on six labels)
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        return self.labels[best], probabilities[best]


BAYES_ALPHA = 0.1
"""Complement Naive Bayes smoothing (grouped CV and leave-one-writer-out alike for 0.03 to 0.1)."""


def _complement_bayes(
    matrix: object, labels: Sequence[str], order: tuple[str, ...], seen: np.ndarray, *, binary: bool
) -> np.ndarray:
    """Complement Naive Bayes weights ``(features, classes)`` in ``order`` (for two labels, one column:
    the second's minus the first's, as a logistic regression's); zero for features no text has."""
    from sklearn.naive_bayes import ComplementNB

    bayes = ComplementNB(alpha=BAYES_ALPHA).fit(matrix, list(labels))
    if tuple(str(label) for label in bayes.classes_) != order:
        raise ValueError("naive Bayes and logistic regression order the labels differently")
    weights = np.where(seen[:, None], np.asarray(bayes.feature_log_prob_, dtype=np.float64).T, 0.0)
    return weights[:, 1:] - weights[:, :1] if binary else weights


STACK_FOLDS = 5


def _stacked(model: object, matrix: object, labels: list[str], seen: np.ndarray, scale: float) -> np.ndarray:
    """Fit ``model`` on ``matrix`` plus a column of out-of-fold naive Bayes scores (times ``scale``);
    the weights ``(features, 1)`` with naive Bayes on every row folded in."""
    import scipy.sparse as sp
    from sklearn.model_selection import KFold

    order = tuple(sorted(set(labels)))
    if len(order) != 2:
        raise ValueError("stacked naive Bayes needs exactly two labels")
    rows = matrix.shape[0]  # type: ignore[attr-defined]
    column = np.zeros(rows)
    for train, test in KFold(STACK_FOLDS, shuffle=True, random_state=1).split(np.arange(rows)):
        part = matrix[train]  # type: ignore[index]
        part_seen = np.diff(part.tocsc().indptr) > 0
        weights = _complement_bayes(part, [labels[i] for i in train], order, part_seen, binary=True)
        column[test] = matrix[test] @ weights[:, 0]  # type: ignore[index]
    stacked = sp.hstack([matrix, sp.csr_matrix(column[:, None] * scale)]).tocsr()
    model.fit(stacked, labels)  # type: ignore[attr-defined]
    fitted = np.asarray(model.coef_, dtype=np.float64)[0]  # type: ignore[attr-defined]
    bayes = _complement_bayes(matrix, labels, order, seen, binary=True)[:, 0]
    return np.asarray((fitted[:-1] + fitted[-1] * scale * bayes)[:, None], dtype=np.float64)
