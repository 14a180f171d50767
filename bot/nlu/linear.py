"""The weights of a linear model over the TF-IDF features, kept only for the features that have one.

The vocabulary is fitted on every training text, but each model learns from a part of them: the article
matcher from the articles' examples alone, so more than half of its (feature, article) weight rows are
zero. :class:`FeatureWeights` keeps the rows with a weight and a map from feature to row: the same scores
(a zero row adds nothing), less than half the memory and model file.
"""

from __future__ import annotations

import numpy as np


class FeatureWeights:
    """A ``(features, classes)`` weight matrix without its all-zero rows."""

    def __init__(self, dense: np.ndarray, seen: np.ndarray | None = None) -> None:
        """``dense``: one row per feature, one column per class; ``seen``: which features the model's
        training texts have (their rows are kept even when zero, so that the same texts always make the
        same shape: a solver may leave a seen feature's weight at exactly zero one time and not the next).
        """
        used_mask = np.any(dense != 0, axis=1)
        if seen is not None:
            used_mask |= seen
        used = np.flatnonzero(used_mask)
        # one all-zero row at the end stands for every feature without weights: a message's features
        # then need no filtering, one gather and one product
        self.rows = np.zeros((len(used) + 1, dense.shape[1]), dtype=np.float64)
        self.rows[: len(used)] = dense[used]
        self._row_of = np.full(dense.shape[0], len(used), dtype=np.int32)
        self._row_of[used] = np.arange(len(used), dtype=np.int32)
        self.shape = (int(dense.shape[0]), int(dense.shape[1]))

    def dot(self, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The weighted sum over a message's features (``indices`` with their ``values``): one score
        per class, as ``values @ dense[indices]``."""
        return np.asarray(values @ self.rows[self._row_of[indices]])

    def dense(self) -> np.ndarray:
        """The full matrix (for tests)."""
        return self.rows[self._row_of]
