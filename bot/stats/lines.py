"""The cells of a count table and its additive lines: what suppression hides and its audit checks."""

from __future__ import annotations

from dataclasses import dataclass

Key = tuple[str, str]
"""A cell: (row, column)."""


@dataclass(frozen=True)
class Line:
    """An additive relation: the ``parts`` add up to ``total``."""

    parts: tuple[Key, ...]
    total: Key

    @property
    def cells(self) -> tuple[Key, ...]:
        return (*self.parts, self.total)
