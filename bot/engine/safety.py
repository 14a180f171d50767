"""The safety check: runs on every message, in every state, before anything else.

The engine asks a :class:`SafetyCheck` whether a message means a person is in danger. The default
reads the emergency verdict of the language model (:mod:`bot.nlu`): a reviewed lexicon plus a
classifier, tuned for recall. Another detector plugs in by implementing the one method.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.nlu import Understanding


@dataclass(frozen=True)
class SafetyVerdict:
    emergency: bool
    score: float
    kind: str | None = None


class SafetyCheck(Protocol):
    def check(self, understanding: Understanding) -> SafetyVerdict: ...


class NluSafetyCheck:
    """Trust the language model's emergency verdict."""

    def check(self, understanding: Understanding) -> SafetyVerdict:
        return SafetyVerdict(
            emergency=understanding.emergency,
            score=understanding.emergency_score,
            kind=understanding.emergency_kind,
        )
