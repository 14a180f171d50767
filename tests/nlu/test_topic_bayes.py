"""The topic classifier with naive Bayes scores as scikit-learn's two models multiplied together."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB

from bot.nlu.features import Features
from bot.nlu.topics import BAYES_ALPHA, TopicClassifier

TEXTS = [
    "xet nghiem hiv o dau",
    "bao cao su bi rach co sao khong",
    "bi cong an giu bao lau",
    "ban dam bi phat bao nhieu",
    "chong danh em moi ngay",
    "nguoi yeu doa danh em",
    "chao ban",
    "cam on nhe",
    "hiv lay qua duong nao",
    "luat su mien phi o dau",
]
LABELS = ["hiv", "hiv", "legal", "legal", "violence", "violence", "other", "other", "hiv", "legal"]


@pytest.mark.parametrize("labels", [LABELS, ["hiv" if label == "hiv" else "no" for label in LABELS]])
def test_bayes_adds_its_log_likelihood_to_the_logistic_regression(labels: list[str]) -> None:
    features = Features(TEXTS)
    classifier = TopicClassifier(features, TEXTS, labels, c=10.0, balanced=False, naive_bayes=0.7)
    matrix = features.transform(TEXTS)
    regression = LogisticRegression(C=10.0, max_iter=3000, tol=1e-4).fit(matrix, labels)
    bayes = ComplementNB(alpha=BAYES_ALPHA).fit(matrix, labels)
    queries = [*TEXTS, "hiv o dau", "cong an danh em", "xin chao"]
    rows = features.transform(queries)
    scores = np.log(regression.predict_proba(rows)) + 0.7 * np.asarray(rows @ bayes.feature_log_prob_.T)
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    got = np.asarray([classifier.probabilities(query) for query in queries])
    assert classifier.labels == tuple(regression.classes_)
    assert np.allclose(got, expected, atol=1e-6)


def test_column_weights_are_folded_into_the_weights() -> None:
    """Weighted columns train as scikit-learn on the weighted matrix; prediction reads the plain features."""
    features = Features(TEXTS)
    weights = np.ones(features.size)
    columns = features.word_columns
    assert 0 < columns.start < columns.stop == features.size
    weights[columns.start : columns.stop] = 1.5
    classifier = TopicClassifier(
        features, TEXTS, LABELS, c=20.0, balanced=False, naive_bayes=0.7, column_weights=weights
    )
    matrix = (features.transform(TEXTS) @ sp.diags(weights)).tocsr()
    regression = LogisticRegression(C=20.0, max_iter=3000, tol=1e-4).fit(matrix, LABELS)
    bayes = ComplementNB(alpha=BAYES_ALPHA).fit(matrix, LABELS)
    queries = [*TEXTS, "hiv o dau", "cong an danh em", "xin chao"]
    rows = (features.transform(queries) @ sp.diags(weights)).tocsr()
    scores = np.log(regression.predict_proba(rows)) + 0.7 * np.asarray(rows @ bayes.feature_log_prob_.T)
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    got = np.asarray([classifier.probabilities(query) for query in queries])
    assert np.allclose(got, expected, atol=1e-6)
