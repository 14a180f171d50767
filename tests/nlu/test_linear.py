"""Weights kept only for the features that have one score exactly as the full matrix does."""

from __future__ import annotations

import numpy as np

from bot.nlu import BuiltinNLU
from bot.nlu.linear import FeatureWeights


def test_the_kept_rows_score_as_the_full_matrix() -> None:
    generator = np.random.default_rng(7)
    dense = generator.normal(size=(500, 6))
    dense[generator.random(500) < 0.6] = 0.0  # most features have no weight
    weights = FeatureWeights(dense)
    assert len(weights.rows) < 300 and np.array_equal(weights.dense(), dense)
    for _ in range(200):
        indices = np.unique(generator.integers(0, 500, size=int(generator.integers(0, 40))))
        values = generator.random(len(indices))
        assert np.allclose(weights.dot(indices, values), values @ dense[indices], rtol=0, atol=1e-12)
    assert np.array_equal(weights.dot(np.zeros(0, dtype=np.int64), np.zeros(0)), np.zeros(6))


def test_the_trained_models_keep_less_than_they_had(model: BuiltinNLU) -> None:
    coef = model.matcher._coef
    assert coef is not None
    assert len(coef.rows) < 0.7 * coef.shape[0], "the article matcher learns from the articles alone"
    assert coef.shape == (model.features.size, len(model.matcher._ids))
