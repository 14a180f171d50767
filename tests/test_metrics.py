"""The metrics registry: prometheus_client's metrics, named hotline_*, in the service's own registry."""

from __future__ import annotations

import pytest

from bot.metrics import REGISTRY, Counter, collect, render, word


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
    assert 'hotline_test_things_total{channel="webchat"} 3.0' in render().decode()
    assert REGISTRY.get_sample_value("hotline_test_things_total", {"channel": "telegram"}) == 1


def test_names_labels_and_direction_are_checked() -> None:
    with pytest.raises(ValueError, match="start with hotline_"):
        Counter("things", "No prefix.")
    counter = Counter("hotline_test_checked", "Checked.", ["cap"])
    with pytest.raises(ValueError, match="Duplicated"):
        Counter("hotline_test_checked", "Again.")
    with pytest.raises(ValueError, match="label"):
        counter.labels(channel="webchat")
    with pytest.raises(ValueError, match="non-negative"):
        counter.labels(cap="alert").inc(-1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("webchat", "webchat"), ("violence_now", "violence_now"), ("0912345678", "other"), (None, "other"),
     ("a3f9c2", "other"), ("Xin chào", "other"), ("x" * 40, "other")],
)  # fmt: skip
def test_a_label_is_kept_to_a_short_word(value: object, expected: str) -> None:
    assert word(value) == expected


def test_the_dispatch_worker_serves_the_registry_on_a_loopback_port() -> None:
    import socket

    import httpx

    from bot.metrics import MESSAGES, serve_in_thread

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    MESSAGES.labels(channel="telegram").inc(0)
    server, thread = serve_in_thread(port)
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert response.status_code == 200
        assert "# TYPE hotline_escalation_first_page_seconds histogram" in response.text
        assert 'hotline_messages_total{channel="telegram"}' in response.text
        assert server.server_address[0] == "127.0.0.1", "loopback only: no token on this door"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
