"""The emergency detector: the reviewed lexicon first, a classifier for what the lexicon does not know.

Recall comes first. A danger phrase that no calm frame explains away is an emergency whatever the
classifier says. A danger phrase inside a calm frame (a question about the law, a definition, a past long
gone) is an emergency only if the classifier is fairly sure. With no danger phrase at all, the classifier
alone decides, with a threshold set low on purpose.

Between "emergency" and "none" lies ``possible``: a message the detector cannot call either way (a
score above a low threshold, a danger phrase inside a calm frame, or a sign of harm the lexicon lists under
``possible``: an injury, a harm verb with no time). The engine asks such a person, with one tap, whether
they are in danger right now; nobody is paged unless they say yes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.nlu.concepts import WithConcepts
from bot.nlu.data import EMERGENCY_KINDS
from bot.nlu.features import Features
from bot.nlu.lexicon import HELP, Lexicon, LexiconHit
from bot.nlu.topics import TopicClassifier

LEXICON_SCORE = 0.95
"""The score of an emergency found by an uncancelled lexicon phrase (at least)."""

EMERGENCY, POSSIBLE, NONE = "emergency", "possible", "none"
LEVELS: tuple[str, ...] = (EMERGENCY, POSSIBLE, NONE)
"""The three levels of triage: page now; ask first ("are you in danger right now?"); go on."""


@dataclass(frozen=True)
class Thresholds:
    """Classifier probabilities above which a message is an emergency, and how the classifier is trained.

    Chosen with ``benchmarks/triage_tune.py`` (leave one writer out: trained on six writers' examples,
    scored on the seventh's), the highest recall with false alarms at most 0.03 and ``possible`` on calm
    messages at most 0.15 there; never on a held-out set. Leaving one writer out on 2026-12-06 gave recall
    0.906 (0.978 counting ``possible``), false alarms 0.030, possible 0.146.

    ``plain`` 0.6 to 0.55 on 2026-12-07 (issue 12, recall), once the concept classes covered danger by
    meaning: grouped cross-validation (``hotline eval --cv-only``) recall 0.954 to 0.962, false alarms 0.022
    to 0.024, possible on calm 0.113 to 0.111; leaving one writer out, recall 0.945 to 0.952, false alarms
    0.027 to 0.029, possible 0.151 to 0.148. ``veto`` 0.25 gained 0.002 of recall in cross-validation but
    put leaving one writer out at 0.030 false alarms; per-kind thresholds gained 0.002, too little to trust.
    Back to 0.6 the same day: at 0.55 a bad-client report's "what happened" ("Đòi không dùng bao, rồi đánh
    và lấy tiền", last week) paged in the middle of the report, and "em bị chảy máu" (an injury with no
    time: the issue asks for the question, ``possible``) paged too (tests/escalation/test_alerts.py,
    tests/engine/test_triage_levels.py). Behaviour the product asks for comes before a figure.

    ``bayes`` 1.0 on 2026-12-07 (issue 12, emergencies that stopped at ``possible``): naive Bayes scores
    as an input of the classifier, the thresholds unchanged. Leaving one writer out (detector only, as
    ``benchmarks/triage_tune.py`` scores it) recall 0.939 to 0.958, counting ``possible`` 0.990 to 0.991,
    false alarms 0.029 to 0.028, possible on calm 0.149 to 0.139; ``hotline eval --cv-only`` recall
    0.942 to 0.962, 0.989 to 0.990, false alarms 0.024 to 0.023 (hard negatives 0.049 to 0.044),
    possible 0.121 to 0.115 (a detector-only run of the same folds said 0.955, 0.021, 0.117). Retuned
    there the best was plain 0.55 (recall 0.961 and 0.964), too little to give up the behaviour above.
    Naive Bayes added after the fit (``naive_bayes`` 0.1 to 0.3) gained about 0.009 of recall at plain
    0.7 but paged "e vừa đánh răng xong", a calm training message.
    """

    plain: float = 0.6  # no danger phrase in the message
    calm: float = 0.95  # a danger phrase inside a calm frame
    veto: float = 0.3  # a danger phrase the classifier gives less than this is asked about, not paged
    possible: float = 0.2  # below an emergency, above this: ask the person (level ``possible``)
    possible_calm: float = 0.15  # the same for a danger phrase inside a calm frame
    c: float = 10.0  # the classifier's inverse regularisation strength
    balanced: bool = False  # weigh emergencies and calm messages equally in training
    bayes: float = 1.0  # naive Bayes as an input of the classifier (``TopicClassifier(stacked_bayes=)``)


@dataclass(frozen=True)
class Verdict:
    """The detector's answer for one message."""

    emergency: bool
    score: float
    kind: str | None
    lexicon: LexiconHit
    level: str = NONE  # emergency | possible | none


ONE_WORD = 1
"""A message with no danger phrase and at most this many words beyond ``no_content`` ones is at most
``possible``: the classifier had one word to judge ("nó tới rồi", "nó bỏ em rồi", "em nhảy đây"), and a
short message's few features carry extreme weights, so it paged for a partner who left. The person is
asked, one tap, whether they are in danger now. Grouped cross-validation on 2026-12-07: 2 of 6,336
emergencies go from ``emergency`` to ``possible`` (both still asked), 1 false alarm of 14,424 goes."""


SHORT = 3
"""A danger phrase in a message of at most this many words beyond ``no_content`` ones is never vetoed:
the phrase is most of what the person said ("quá liều", "muốn nhảy lầu", "bị lừa sang cam rồi"), and the
classifier, with so few features, answers from its prior (0.04 to 0.29 for those). Detector-only grouped
cross-validation on 2026-12-07 (five folds as ``hotline eval``): recall 0.9429 to 0.9467, false alarms
0.0241 to 0.0243, on hard negatives 0.0490 to 0.0495; at 4 words false alarms rose three times as fast."""


def triage(hit: LexiconHit, probability: float, limits: Thresholds, words: int) -> str:
    """The level of a message from what the lexicon found, the classifier's probability and how many
    ``words`` it has beyond ``no_content`` ones (:meth:`~bot.nlu.lexicon.Lexicon.content_words`).

    A danger phrase is an emergency unless the classifier finds nothing else that reads as danger (below
    ``veto``): then it is asked about. A cry for help ("cứu", "tôi đang gặp nguy hiểm"), a phrase with
    an urgent marker ("đang", "vừa", "ngay") and a phrase in a message of at most :data:`SHORT` words are
    never vetoed. With no danger phrase and at most :data:`ONE_WORD` word, the classifier alone never
    makes an emergency.
    """
    if hit.danger:
        trusted = hit.urgent or HELP in hit.kinds or probability >= limits.veto or words <= SHORT
        if trusted:
            return EMERGENCY
    elif hit.kinds:
        if probability >= limits.calm:
            return EMERGENCY
    elif probability >= limits.plain and words > ONE_WORD:
        return EMERGENCY
    if (
        hit.possible
        or hit.danger
        or probability >= limits.possible
        or (bool(hit.kinds) and probability >= limits.possible_calm)
    ):
        return POSSIBLE
    return NONE


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
        self.features = WithConcepts(features, lexicon)
        self._binary = (
            TopicClassifier(
                self.features,
                texts,
                labels,
                c=thresholds.c,
                balanced=thresholds.balanced,
                stacked_bayes=thresholds.bayes,
            )
            if len(set(labels)) == 2
            else None
        )
        kinds = [kind for kind, _ in emergencies]
        self._kinds = (
            TopicClassifier(self.features, [text for _, text in emergencies], kinds, c=10.0)
            if len(set(kinds)) >= 2
            else None
        )

    def probability(self, normalized: str) -> float:
        """The classifier's probability that the message is an emergency (idioms blanked out first)."""
        if self._binary is None or not normalized:
            return 0.0
        probabilities = self._binary.probabilities(self.lexicon.without_idioms(normalized))
        return float(probabilities[self._binary.labels.index("yes")])

    def forget(self) -> None:
        """Drop every per-message cache (benchmarks measure a new message each time)."""
        self.features.forget()
        self.lexicon.forget()

    def kind(self, normalized: str) -> str:
        """The most likely kind of emergency, by the kind classifier."""
        if self._kinds is None:
            return EMERGENCY_KINDS[0]
        return self._kinds.predict(self.lexicon.without_idioms(normalized))[0]

    def detect(self, normalized: str) -> Verdict:
        """Emergency or not, a score in 0..1 and, for an emergency, its kind."""
        hit = self.lexicon.scan(normalized)
        words = self.lexicon.content_words(normalized)
        if not hit.kinds and not hit.possible and words == 0:  # only no_content words: not asked
            return Verdict(emergency=False, score=0.0, kind=None, lexicon=hit, level=NONE)
        probability = self.probability(normalized)
        level = triage(hit, probability, self.thresholds, words)
        emergency = level == EMERGENCY
        score = max(probability, LEXICON_SCORE) if emergency and hit.danger else probability
        kind: str | None = None
        if level != NONE:
            specific = [k for k in hit.kinds if k != HELP]
            kind = specific[0] if specific else self.kind(normalized)
        return Verdict(
            emergency=emergency,
            score=round(min(max(float(score), 0.0), 1.0), 4),
            kind=kind,
            lexicon=hit,
            level=level,
        )
