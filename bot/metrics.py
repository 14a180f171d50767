"""In-process counters, named and labelled as Prometheus names them (``hotline_*``).

A deliberately tiny registry: the code that counts something declares a :class:`Counter` at module
level and calls ``.labels(...).inc()``; an exporter (issue 18) reads :func:`collect`. The calls mirror
``prometheus_client``'s, so moving to that library later changes the import, not the callers.
Counts are per process (each process has its own registry), as Prometheus counters are; a scraper
adds them up. Labels must never carry anything that identifies a person (no address, no id, no text):
only fixed words such as a channel name or what was capped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

_REGISTRY: dict[str, Counter] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Sample:
    """One labelled value of a counter, as an exporter would print it."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


class _Child:
    """One set of label values of a counter."""

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        with _LOCK:
            self.value += amount


class Counter:
    """A monotonic count, optionally split by fixed label names (``Counter(name, help, ["channel"])``)."""

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] | list[str] = ()) -> None:
        if not name.startswith("hotline_"):
            raise ValueError(f"metric names start with hotline_: {name!r}")
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._children: dict[tuple[str, ...], _Child] = {}
        with _LOCK:
            if name in _REGISTRY:
                raise ValueError(f"the metric {name!r} is declared twice")
            _REGISTRY[name] = self

    def labels(self, **values: str) -> _Child:
        if set(values) != set(self.labelnames):
            raise ValueError(f"{self.name} takes the labels {self.labelnames}, not {tuple(values)}")
        key = tuple(str(values[name]) for name in self.labelnames)
        with _LOCK:
            child = self._children.get(key)
            if child is None:
                child = self._children[key] = _Child()
        return child

    def inc(self, amount: float = 1.0) -> None:
        """Count one (for a counter without labels)."""
        self.labels().inc(amount)

    def value(self, **values: str) -> float:
        """The current count for these label values (0 if never counted)."""
        key = tuple(str(values.get(name, "")) for name in self.labelnames)
        child = self._children.get(key)
        return child.value if child is not None else 0.0

    def samples(self) -> Iterator[Sample]:
        for key, child in list(self._children.items()):
            yield Sample(f"{self.name}_total", tuple(zip(self.labelnames, key, strict=True)), child.value)


def collect() -> list[Sample]:
    """Every sample of every counter in this process (for an exporter)."""
    with _LOCK:
        counters = list(_REGISTRY.values())
    return [sample for counter in counters for sample in counter.samples()]
