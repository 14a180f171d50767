"""The built-in model: topic classifier, article matcher and emergency detector, trained together."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from bot.nlu.concepts import TopicVocabulary, WithConcepts
from bot.nlu.contract import Understanding
from bot.nlu.data import KIND_TOPICS, TrainingData
from bot.nlu.emergency import EmergencyDetector, Thresholds, Verdict
from bot.nlu.features import Features
from bot.nlu.lexicon import Lexicon
from bot.nlu.matcher import DEFAULT_THRESHOLD, ArticleMatcher
from bot.nlu.normalize import has_words, normalize
from bot.nlu.topics import TopicClassifier
from bot.topics import OTHER

OTHER_IS_SURE = 0.6
"""When the topic classifier is this sure a message is small talk or off-topic, no article is offered."""


@dataclass(frozen=True)
class Settings:
    """The model's tunable numbers."""

    topic_c: float = 20.0  # grouped CV topic accuracy with topic_words 1.5: 0.9149 at 15, 0.9158 at 20
    topic_words: float = 1.5  # weight of the word n-gram block for the topic model (1: as the others see it)
    topic_concepts: bool = True  # the topic classifier also sees the lexicon's concept classes
    topic_balanced: bool = False  # weigh every topic equally (grouped CV: 0.867 balanced, 0.871 not)
    topic_bayes: float = 0.7  # naive Bayes added to the topic model (0: none; grouped CV 0.891 to 0.901)
    thresholds: Thresholds = field(default_factory=Thresholds)
    match_threshold: float = DEFAULT_THRESHOLD


def emergency_negatives(data: TrainingData, lexicon: Lexicon | None = None) -> list[str]:
    """Messages the emergency classifier learns as "not an emergency".

    The hard negatives, the curated ``topics.yaml`` examples, and the articles' examples except those of
    violence articles (questions like "what do I do, I was just raped" belong to the emergency flow) and
    those in which the lexicon finds a danger no calm frame explains ("I am abroad and in trouble, who
    can help me" is an example of an article, but taught as calm it would lower the score of real cries
    for help). Hard negatives are written to be calm on purpose; articles' examples are written to find
    the article, so only the plainly calm ones are taught as calm.
    """
    from_articles = [text for a in data.articles if a.topic != "violence" for text in a.examples]
    if lexicon is not None:
        from_articles = [text for text in from_articles if not lexicon.scan(normalize(text)).danger]
    return [*data.emergency.not_emergency, *(text for _, text in data.extra_topic_examples), *from_articles]


SENTENCE = re.compile(r"[.?!;\n]+")
MIN_PART_WORDS = 3


def sentences(text: str) -> list[str]:
    """The normalised sentences of a message that has more than one (each of at least three words)."""
    pieces = SENTENCE.split(text)
    if len(pieces) < 2:  # one sentence (most messages): nothing to normalise again
        return []
    parts = [normalize(part) for part in pieces]
    parts = [part for part in parts if len(part.split()) >= MIN_PART_WORDS]
    return parts if len(parts) >= 2 else []


@dataclass(frozen=True)
class TrainingTexts:
    """The normalised texts the models learn from (the shared features are fitted on all of them)."""

    topic_texts: list[str]
    emergencies: list[tuple[str, str]]  # (kind, text)
    negatives: list[str]
    titles: list[str]

    @classmethod
    def of(cls, data: TrainingData, lexicon: Lexicon) -> TrainingTexts:
        """The texts of ``data``, normalised."""
        return cls(
            topic_texts=[normalize(text) for _, text in data.topic_examples],
            emergencies=[(kind, normalize(text)) for kind, text in data.emergency.emergency],
            negatives=[normalize(text) for text in emergency_negatives(data, lexicon)],
            titles=[normalize(title) for article in data.articles for title in article.titles],
        )

    def features(self) -> Features:
        """The shared TF-IDF features, fitted on every text and the articles' titles."""
        emergencies = (text for _, text in self.emergencies)
        return Features([*self.topic_texts, *emergencies, *self.negatives, *self.titles])


def train_topics(
    features: Features, texts: TrainingTexts, data: TrainingData, lexicon: Lexicon, settings: Settings
) -> tuple[Features | WithConcepts, TopicClassifier]:
    """The topic classifier's features and the classifier trained on ``data``'s topic examples.

    Concept classes by meaning (danger and topic vocabulary, a question of law, present or past) are
    features of the topic classifier: "bị công an giữ bao lâu" reads as police custody and a question of
    law, not as violence. The word n-grams weigh ``settings.topic_words`` times what the shared
    features give them (folded into the weights: the same features and cost to predict); a phrase
    ("xét nghiệm", "bị bắt") tells a topic better than the character n-grams it shares with other words.
    Grouped cross-validation: see README (language model).
    """
    topic_features: Features | WithConcepts = (
        WithConcepts(features, lexicon, topics=True, vocabulary=TopicVocabulary(data.topic_vocabulary))
        if settings.topic_concepts
        else features
    )
    weights = None
    if settings.topic_words != 1.0:
        weights = np.ones(topic_features.size)
        columns = features.word_columns
        weights[columns.start : columns.stop] = settings.topic_words
    classifier = TopicClassifier(
        topic_features,
        texts.topic_texts,
        [label for label, _ in data.topic_examples],
        c=settings.topic_c,
        balanced=settings.topic_balanced,
        tol=1e-3,
        naive_bayes=settings.topic_bayes,
        column_weights=weights,
    )
    return topic_features, classifier


class BuiltinNLU:
    """Understands messages with models trained from a knowledge folder's content; no network."""

    def __init__(self, data: TrainingData, lexicon: Lexicon, settings: Settings | None = None) -> None:
        """Train everything (a few seconds at most)."""
        settings = settings or Settings()
        texts = TrainingTexts.of(data, lexicon)
        self.features = texts.features()
        self.topic_features, self.topics = train_topics(self.features, texts, data, lexicon, settings)
        self.matcher = ArticleMatcher(self.features, data.articles, threshold=settings.match_threshold)
        self.detector = EmergencyDetector(
            self.features, lexicon, texts.emergencies, texts.negatives, thresholds=settings.thresholds
        )

    def forget(self) -> None:
        """Drop every per-message cache (benchmarks measure a new message each time)."""
        self.topic_features.forget()
        self.detector.forget()

    def topic(self, normalized: str) -> tuple[str, float]:
        """The topic of a normalised message and its probability (``other`` for an empty one)."""
        if not normalized:
            return OTHER, 1.0
        label, probability = self.topics.predict(normalized)
        return label, round(probability, 4)

    def emergency(self, normalized: str) -> Verdict:
        """The emergency detector's verdict on a normalised message."""
        return self.detector.detect(normalized)

    def classify(self, normalized: str) -> tuple[str, float, Verdict]:
        """Topic, its probability and the emergency verdict; an emergency's topic follows its kind."""
        topic, topic_score = self.topic(normalized)
        verdict = self.detector.detect(normalized)
        if verdict.emergency and verdict.kind in KIND_TOPICS:
            topic = KIND_TOPICS[verdict.kind]
        return topic, topic_score, verdict

    def understand_sync(self, text: str) -> Understanding:
        """Understand one message (synchronously; well under a millisecond)."""
        normalized = normalize(text)
        topic, topic_score, verdict = self.classify(normalized)
        articles: tuple[tuple[str, float], ...] = ()
        confident = False
        # a greeting, thanks, or something else entirely gets no article: not even looked for
        if normalized and not (topic == OTHER and topic_score >= OTHER_IS_SURE):
            articles, confident = self.matcher.match(normalized, topic, parts=sentences(text))
        return Understanding(
            text=text,
            normalized=normalized,
            has_words=has_words(text),
            topic=topic,
            topic_score=topic_score,
            emergency=verdict.emergency,
            emergency_score=verdict.score,
            emergency_kind=verdict.kind,
            articles=articles,
            confident=confident,
            level=verdict.level,
        )

    async def understand(self, text: str) -> Understanding:
        """Understand one message."""
        return self.understand_sync(text)
