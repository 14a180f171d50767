"""The safety check: runs on every message, in every state, before anything else.

The engine asks a :class:`SafetyCheck` whether a message means a person is in danger, at one of three
levels: ``emergency`` (the emergency flow and a page), ``possible`` (ask "are you in danger right now?"
first; listed in the console, nobody paged) or ``none``. The default reads the verdict of the language
model (:mod:`bot.nlu`): a reviewed lexicon plus a classifier, tuned for recall. Another detector plugs in
by implementing the one method.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.nlu import Understanding


EMERGENCY, POSSIBLE, NONE = "emergency", "possible", "none"


@dataclass(frozen=True)
class SafetyVerdict:
    emergency: bool
    score: float
    kind: str | None = None
    level: str = ""  # emergency | possible | none ("" means: from ``emergency`` alone)

    @property
    def danger_level(self) -> str:
        """``emergency``, ``possible`` or ``none``."""
        if self.emergency:
            return EMERGENCY
        return POSSIBLE if self.level == POSSIBLE else NONE


class SafetyCheck(Protocol):
    def check(self, understanding: Understanding) -> SafetyVerdict: ...


class NluSafetyCheck:
    """Trust the language model's emergency verdict."""

    def check(self, understanding: Understanding) -> SafetyVerdict:
        return SafetyVerdict(
            emergency=understanding.emergency,
            score=understanding.emergency_score,
            kind=understanding.emergency_kind,
            level=understanding.danger_level,
        )
