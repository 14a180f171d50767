"""How the raw figures are defined: the median and the nearest-rank 90th percentile."""

from __future__ import annotations

from bot.stats.figures import median, percentile


def test_the_90th_percentile_is_the_nearest_rank() -> None:
    assert percentile([60, 90, 120, 150, 600], 0.9) == 600
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile([5], 0.9) == 5


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    assert median([20, 30, 60, 90, 90, 120, 180, 240]) == 90
    assert median([1, 2, 3, 10]) == 2.5
