"""The service's Prometheus metrics (``prometheus_client``), all named ``hotline_*``, in a registry of our own.

The code that counts something declares a :class:`Counter` (or :class:`Histogram`, :class:`Gauge`) at module
level and calls ``.labels(...).inc()``; ``GET /metrics`` (:mod:`bot.web.metrics`) renders :data:`REGISTRY`.
The registry is the service's, not the library's global one: the tests read exactly what the service
exports, and nothing a library registers by itself (process or platform collectors) is mixed in.

Counts are per process, as Prometheus counters are; a scraper adds them up. **Labels never carry anything
that identifies a person** (no address, id, key or text): only fixed words such as a channel name, a
level, a kind, a status or a reason. :func:`word` keeps a label to such a word.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIServer

import prometheus_client
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# No ``*_created`` series (the time each counter was first used): noise for this service's alerts.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST

# A label value must be a short lowercase word: a channel, a level, a kind, a status, a reason.
_WORD = re.compile(r"[a-z][a-z_]{0,31}")


def word(value: object, *, other: str = "other") -> str:
    """``value`` if it is a short lowercase word (letters and ``_``), else ``other``: a label can never
    carry a number, a key or free text, whatever a caller passes by mistake."""
    text = str(value) if value is not None else ""
    return text if _WORD.fullmatch(text) else other


def _named(name: str) -> None:
    if not name.startswith("hotline_"):
        raise ValueError(f"metric names start with hotline_: {name!r}")


class Counter(prometheus_client.Counter):
    """A count that only goes up (``Counter(name, help, ["channel"])``), in :data:`REGISTRY`."""

    def __init__(self, name: str, documentation: str, labelnames: Any = (), **kwargs: Any) -> None:
        _named(name)
        kwargs.setdefault("registry", REGISTRY)
        super().__init__(name, documentation, labelnames, **kwargs)

    def value(self, **labels: str) -> float:
        """The current count for these label values (0 if never counted)."""
        return REGISTRY.get_sample_value(f"{self._name}_total", labels) or 0.0


class Histogram(prometheus_client.Histogram):
    """A distribution of durations (seconds), in :data:`REGISTRY`."""

    def __init__(self, name: str, documentation: str, labelnames: Any = (), **kwargs: Any) -> None:
        _named(name)
        kwargs.setdefault("registry", REGISTRY)
        super().__init__(name, documentation, labelnames, **kwargs)


class Gauge(prometheus_client.Gauge):
    """A value that goes up and down (set at scrape time here), in :data:`REGISTRY`."""

    def __init__(self, name: str, documentation: str, labelnames: Any = (), **kwargs: Any) -> None:
        _named(name)
        kwargs.setdefault("registry", REGISTRY)
        super().__init__(name, documentation, labelnames, **kwargs)


@dataclass(frozen=True)
class Sample:
    """One labelled value, as ``GET /metrics`` prints it."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


def collect() -> list[Sample]:
    """Every sample of every metric in :data:`REGISTRY`."""
    return [
        Sample(s.name, tuple(sorted(s.labels.items())), s.value)
        for family in REGISTRY.collect()
        for s in family.samples
    ]


def serve_in_thread(port: int, host: str = "127.0.0.1") -> tuple[WSGIServer, threading.Thread]:
    """Serve :data:`REGISTRY` on ``host:port`` from a thread (``hotline dispatch``, which has no web server).

    No token here: this is the "separate bind address" way, for a loopback or private address only."""
    return prometheus_client.start_http_server(port, addr=host, registry=REGISTRY)


def render() -> bytes:
    """The registry in the Prometheus text format."""
    return generate_latest(REGISTRY)


# -- the families observed across the code (declared here, so they all show up even before a first count) --

MESSAGES = Counter("hotline_messages", "Messages from people handled by the engine, by channel.", ["channel"])
EMERGENCIES = Counter(
    "hotline_emergencies",
    "Escalations opened: level is emergency, counsellor or callback; kind the danger named (or none).",
    ["level", "kind"],
)
POSSIBLE_RISKS = Counter(
    "hotline_possible_risks",
    'Conversations the safety check first called possible (asked "are you in danger right now?", nobody '
    "paged), by kind; a yes then counts under hotline_emergencies.",
    ["kind"],
)
SAFETY_REPLY_SECONDS = Histogram(
    "hotline_emergency_safety_reply_seconds",
    "From an emergency message to the safety reply: answered in the request, or sent through the outbox.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
FIRST_PAGE_SECONDS = Histogram(
    "hotline_escalation_first_page_seconds",
    "From an escalation opened to its first page sent to a counsellor, by level (emergency, counsellor).",
    ["level"],
    buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
)
TAKEN_SECONDS = Histogram(
    "hotline_escalation_taken_seconds",
    "From an escalation opened to a counsellor taking it, by level (emergency, counsellor, callback).",
    ["level"],
    buckets=(10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200),
)
WEBHOOK_REFUSED = Counter(
    "hotline_webhook_refused",
    "Webhook calls refused, by channel and reason (unauthenticated, forbidden, bad_request, too_large, "
    "unavailable).",
    ["channel", "reason"],
)
_STATUS_REASONS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    413: "too_large",
    503: "unavailable",
}


def webhook_refused(channel: str, status: int) -> None:
    """Count one refused webhook call (the reason is the kind of refusal, never the request's content)."""
    WEBHOOK_REFUSED.labels(channel=word(channel), reason=_STATUS_REASONS.get(status, "other")).inc()


def level_of(kind: str | None) -> str:
    """An escalation's kind as a label: one of the fixed levels."""
    return kind if kind in ("emergency", "counsellor", "callback") else "other"
