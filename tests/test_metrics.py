"""The in-process counters an exporter will read: Prometheus names, fixed labels, only going up."""

from __future__ import annotations

import pytest

from bot.metrics import Counter, collect


def test_a_counter_counts_by_label_and_is_collected() -> None:
    counter = Counter("hotline_test_things", "Things counted by a test.", ["channel"])
    counter.labels(channel="webchat").inc()
    counter.labels(channel="webchat").inc(2)
    counter.labels(channel="telegram").inc()
    assert counter.value(channel="webchat") == 3
    assert counter.value(channel="zalo") == 0
    samples = {(s.name, s.labels): s.value for s in collect() if s.name == "hotline_test_things_total"}
    assert samples == {
        ("hotline_test_things_total", (("channel", "webchat"),)): 3,
        ("hotline_test_things_total", (("channel", "telegram"),)): 1,
    }


def test_names_labels_and_direction_are_checked() -> None:
    with pytest.raises(ValueError, match="start with hotline_"):
        Counter("things", "No prefix.")
    counter = Counter("hotline_test_checked", "Checked.", ["cap"])
    with pytest.raises(ValueError, match="declared twice"):
        Counter("hotline_test_checked", "Again.")
    with pytest.raises(ValueError, match="takes the labels"):
        counter.labels(channel="webchat")
    with pytest.raises(ValueError, match="only goes up"):
        counter.labels(cap="alert").inc(-1)
