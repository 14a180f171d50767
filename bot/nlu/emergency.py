"""The emergency detector: the reviewed lexicon first, a classifier for what the lexicon does not know.

Recall comes first. A danger phrase that no calm frame explains away is an emergency whatever the
classifier says. A danger phrase inside a calm frame (a question about the law, a definition, a past long
gone) is an emergency only if the classifier is fairly sure. With no danger phrase at all, the classifier
alone decides, with a threshold set low on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.nlu.data import EMERGENCY_KINDS
from bot.nlu.features import Features
from bot.nlu.lexicon import HELP, Lexicon, LexiconHit
from bot.nlu.topics import TopicClassifier

LEXICON_SCORE = 0.95
"""The score of an emergency found by an uncancelled lexicon phrase (at least)."""


@dataclass(frozen=True)
class Thresholds:
    """Classifier probabilities above which a message is an emergency, and how the classifier is trained.

    Chosen on the cross-validated figures (recall first, then false alarms), never on the held-out set.
    """

    plain: float = 0.7  # no danger phrase in the message
    calm: float = 0.85  # a danger phrase inside a calm frame
    c: float = 10.0  # the classifier's inverse regularisation strength
    balanced: bool = False  # weigh emergencies and calm messages equally in training


@dataclass(frozen=True)
class Verdict:
    """The detector's answer for one message."""

    emergency: bool
    score: float
    kind: str | None
    lexicon: LexiconHit


class EmergencyDetector:
    """Lexicon plus two classifiers: emergency or not, and which kind."""

    def __init__(
        self,
        features: Features,
        lexicon: Lexicon,
        emergencies: Sequence[tuple[str, str]],
        negatives: Sequence[str],
        *,
        thresholds: Thresholds | None = None,
    ) -> None:
        """Train on normalised ``emergencies`` as ``(kind, text)`` and normalised ``negatives``."""
        self.lexicon = lexicon
        self.thresholds = thresholds = thresholds or Thresholds()
        emergencies = [(kind, lexicon.without_idioms(text)) for kind, text in emergencies]
        negatives = [lexicon.without_idioms(text) for text in negatives]
        texts = [text for _, text in emergencies] + negatives
        labels = ["yes"] * len(emergencies) + ["no"] * len(negatives)
        self._binary = (
            TopicClassifier(features, texts, labels, c=thresholds.c, balanced=thresholds.balanced)
            if len(set(labels)) == 2
            else None
        )
        kinds = [kind for kind, _ in emergencies]
        self._kinds = (
            TopicClassifier(features, [text for _, text in emergencies], kinds, c=10.0)
            if len(set(kinds)) >= 2
            else None
        )

    def probability(self, normalized: str) -> float:
        """The classifier's probability that the message is an emergency (idioms blanked out first)."""
        if self._binary is None or not normalized:
            return 0.0
        probabilities = self._binary.probabilities(self.lexicon.without_idioms(normalized))
        return float(probabilities[self._binary.labels.index("yes")])

    def kind(self, normalized: str) -> str:
        """The most likely kind of emergency, by the kind classifier."""
        if self._kinds is None:
            return EMERGENCY_KINDS[0]
        return self._kinds.predict(normalized)[0]

    def detect(self, normalized: str) -> Verdict:
        """Emergency or not, a score in 0..1 and, for an emergency, its kind."""
        hit = self.lexicon.scan(normalized)
        probability = self.probability(normalized)
        if hit.danger:
            emergency, score = True, max(probability, LEXICON_SCORE)
        elif hit.kinds:
            emergency, score = probability >= self.thresholds.calm, probability
        else:
            emergency, score = probability >= self.thresholds.plain, probability
        kind: str | None = None
        if emergency:
            specific = [k for k in hit.kinds if k != HELP]
            kind = specific[0] if specific else self.kind(normalized)
        return Verdict(
            emergency=emergency, score=round(float(np.clip(score, 0.0, 1.0)), 4), kind=kind, lexicon=hit
        )
