"""What the engine codes against: :class:`Understanding` and the :class:`NLU` protocol (the topic labels: :mod:`bot.topics`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
    articles: tuple[tuple[str, float], ...]  # the best article matches, best first; may be empty
    confident: bool = True  # the first article is a sure answer; if not, offer ``articles`` to choose
    level: str = ""  # emergency | possible | none; "" means: from ``emergency`` alone

    @property
    def danger_level(self) -> str:
        """``emergency``, ``possible`` (ask the person first) or ``none``."""
        if self.emergency:
            return "emergency"
        return self.level if self.level in ("possible", "none") else "none"


class NLU(Protocol):
    """Anything that understands a message: the built-in model, or a Rasa server with it as fallback."""

    async def understand(self, text: str) -> Understanding:
        """Understand one message."""
        ...
