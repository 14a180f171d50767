"""What the engine codes against: the topic labels, :class:`Understanding` and the :class:`NLU` protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

TOPICS: tuple[str, ...] = ("hiv_sti", "harm_reduction", "legal", "violence", "support", "other")


@dataclass(frozen=True)
class Understanding:
    """What the bot understood of one message."""

    text: str
    normalized: str
    has_words: bool
    topic: str
    topic_score: float
    emergency: bool
    emergency_score: float
    emergency_kind: str | None
    articles: tuple[tuple[str, float], ...]  # confident article matches, best first; may be empty


class NLU(Protocol):
    """Anything that understands a message: the built-in model, or a Rasa server with it as fallback."""

    async def understand(self, text: str) -> Understanding:
        """Understand one message."""
        ...
