"""Figures for ``hotline eval``: cross-validation on the training content, and the held-out set.

Cross-validation (stratified k-fold) trains on k-1 parts of the content and tests on the rest, for the
topic classifier, the article matcher and the emergency detector. The held-out figures train on all the
content and test on ``nlu/heldout.yaml``, which is never trained on; the issue's bar applies to them.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.model_selection import StratifiedKFold

from bot.nlu.contract import TOPICS
from bot.nlu.data import EmergencyExamples, HeldOut, TrainingData, load_heldout, load_training_data
from bot.nlu.lexicon import Lexicon
from bot.nlu.model import BuiltinNLU, Settings
from bot.nlu.normalize import normalize

BAR_RECALL = 0.98
BAR_FALSE_ALARMS = 0.05
BAR_TOPIC_ACCURACY = 0.85


@dataclass
class Figures:
    """Topic accuracy, emergency recall and false alarms (and the matcher's, for cross-validation)."""

    topic_n: int = 0
    topic_correct: int = 0
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    emergency_n: int = 0
    emergency_found: int = 0
    hard_n: int = 0  # hard negatives (nlu/emergency.yaml not_emergency, or heldout not_emergency)
    hard_alarms: int = 0
    calm_n: int = 0  # all non-emergency messages: hard negatives and topic examples
    calm_alarms: int = 0
    match_n: int = 0
    match_top1: int = 0
    match_top3: int = 0
    match_answered: int = 0
    match_answered_right: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def topic_accuracy(self) -> float:
        """Share of topic examples classified right."""
        return self.topic_correct / self.topic_n if self.topic_n else 0.0

    @property
    def emergency_recall(self) -> float:
        """Share of emergencies detected."""
        return self.emergency_found / self.emergency_n if self.emergency_n else 0.0

    @property
    def false_alarm_rate(self) -> float:
        """Share of hard negatives flagged as emergencies."""
        return self.hard_alarms / self.hard_n if self.hard_n else 0.0

    @property
    def false_alarm_rate_all(self) -> float:
        """Share of all non-emergency messages (hard negatives and topic examples) flagged."""
        return self.calm_alarms / self.calm_n if self.calm_n else 0.0

    def add_topic(self, expected: str, predicted: str) -> None:
        """Count one topic prediction."""
        self.topic_n += 1
        self.topic_correct += expected == predicted
        row = self.confusion.setdefault(expected, {})
        row[predicted] = row.get(predicted, 0) + 1

    def add_emergency(self, text: str, expected: bool, predicted: bool, *, hard: bool) -> None:
        """Count one emergency verdict (``hard``: the message is a hard negative)."""
        if expected:
            self.emergency_n += 1
            self.emergency_found += predicted
            if not predicted:
                self.misses.append(text)
            return
        self.calm_n += 1
        self.calm_alarms += predicted
        if hard:
            self.hard_n += 1
            self.hard_alarms += predicted
            if predicted:
                self.false_alarms.append(text)

    def add_match(self, expected: str, ranked: Sequence[tuple[str, float]], threshold: float) -> None:
        """Count one article-matcher ranking for an example of article ``expected``."""
        self.match_n += 1
        ids = [article_id for article_id, _ in ranked]
        self.match_top1 += ids[:1] == [expected]
        self.match_top3 += expected in ids[:3]
        if ranked and ranked[0][1] >= threshold:
            self.match_answered += 1
            self.match_answered_right += ids[0] == expected

    def summary(self) -> dict[str, Any]:
        """The figures as plain data (for ``--json``)."""
        out: dict[str, Any] = {
            "topic_accuracy": round(self.topic_accuracy, 4),
            "topic_n": self.topic_n,
            "emergency_recall": round(self.emergency_recall, 4),
            "emergency_n": self.emergency_n,
            "false_alarm_rate": round(self.false_alarm_rate, 4),
            "hard_negatives_n": self.hard_n,
            "false_alarm_rate_all": round(self.false_alarm_rate_all, 4),
            "non_emergency_n": self.calm_n,
            "confusion": self.confusion,
            "missed_emergencies": self.misses,
            "false_alarms": self.false_alarms,
        }
        if self.match_n:
            out["matcher"] = {
                "n": self.match_n,
                "top1": round(self.match_top1 / self.match_n, 4),
                "top3": round(self.match_top3 / self.match_n, 4),
                "answered": round(self.match_answered / self.match_n, 4),
                "right_when_answered": round(self.match_answered_right / max(self.match_answered, 1), 4),
            }
        return out


@dataclass(frozen=True)
class _Item:
    text: str
    topic: str | None  # expected topic, None when not a topic example
    article: str | None  # the article whose example this is
    emergency: bool | None  # expected verdict, None when not scored (examples of violence articles)
    kind: str | None = None
    hard: bool = False

    @property
    def stratum(self) -> str:
        return self.topic or (f"emergency_{self.kind}" if self.emergency else "hard_negative")


def _items(data: TrainingData) -> list[_Item]:
    items = [
        _Item(text, article.topic, article.id, None if article.topic == "violence" else False)
        for article in data.articles
        for text in article.examples
    ]
    items += [_Item(text, label, None, False) for label, text in data.extra_topic_examples]
    items += [_Item(text, None, None, True, kind=kind) for kind, text in data.emergency.emergency]
    items += [_Item(text, None, None, False, hard=True) for text in data.emergency.not_emergency]
    return items


def _subset(data: TrainingData, kept: set[int], items: Sequence[_Item]) -> TrainingData:
    """The training data without the test items (by their position in ``items``)."""
    texts = Counter(items[i].text for i in kept)

    def keep(text: str) -> bool:
        if texts[text] > 0:
            texts[text] -= 1
            return True
        return False

    articles = tuple(
        dataclasses.replace(article, examples=tuple(t for t in article.examples if keep(t)))
        for article in data.articles
    )
    extra = tuple((label, text) for label, text in data.extra_topic_examples if keep(text))
    emergency = EmergencyExamples(
        emergency=tuple((kind, text) for kind, text in data.emergency.emergency if keep(text)),
        not_emergency=tuple(text for text in data.emergency.not_emergency if keep(text)),
    )
    from_articles = tuple((a.topic, text) for a in articles for text in a.examples)
    return TrainingData(
        articles=articles,
        topic_examples=from_articles + extra,
        emergency=emergency,
        extra_topic_examples=extra,
    )


def _score(model: BuiltinNLU, item: _Item, figures: Figures) -> None:
    normalized = normalize(item.text)
    topic, _ = model.topic(normalized)
    if item.topic is not None:
        figures.add_topic(item.topic, topic)
    if item.emergency is not None:
        figures.add_emergency(
            item.text, item.emergency, model.emergency(normalized).emergency, hard=item.hard
        )
    if item.article is not None:
        figures.add_match(item.article, model.matcher.scores(normalized, topic), model.matcher.threshold)


def cross_validate(
    data: TrainingData, lexicon: Lexicon, *, folds: int = 5, settings: Settings | None = None
) -> Figures:
    """Stratified k-fold cross-validation over all labelled training content."""
    settings = settings or Settings()
    items = _items(data)
    figures = Figures()
    strata = [item.stratum for item in items]
    smallest = min(Counter(strata).values(), default=0)
    splits = min(folds, smallest) if smallest >= 2 else 0
    if splits < 2:
        return figures
    splitter = StratifiedKFold(n_splits=splits, shuffle=True, random_state=7)
    for train, test in splitter.split(strata, strata):
        model = BuiltinNLU(_subset(data, set(train.tolist()), items), lexicon, settings)
        for i in test:
            _score(model, items[i], figures)
    return figures


def evaluate_heldout(model: BuiltinNLU, heldout: HeldOut) -> Figures:
    """Figures of a model trained on all the content, on the held-out set."""
    figures = Figures()
    for label, text in heldout.topics:
        _score(model, _Item(text, label, None, False), figures)
    for text in heldout.emergency:
        _score(model, _Item(text, None, None, True), figures)
    for text in heldout.not_emergency:
        _score(model, _Item(text, None, None, False, hard=True), figures)
    return figures


def bar_met(figures: Figures) -> bool:
    """The issue's bar: recall >= 0.98, false alarms <= 0.05 (hard negatives and all), topics >= 0.85."""
    return (
        figures.emergency_recall >= BAR_RECALL
        and figures.false_alarm_rate <= BAR_FALSE_ALARMS
        and figures.false_alarm_rate_all <= BAR_FALSE_ALARMS
        and figures.topic_accuracy >= BAR_TOPIC_ACCURACY
    )


@dataclass(frozen=True)
class Report:
    """Everything ``hotline eval`` shows."""

    cross_validated: Figures
    heldout: Figures
    articles: int
    training_examples: int
    flagged_article_examples: tuple[tuple[str, str], ...]  # (article id, example) the detector flags

    @property
    def passed(self) -> bool:
        """Whether the held-out figures meet the bar."""
        return bar_met(self.heldout)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "articles": self.articles,
            "training_examples": self.training_examples,
            "cross_validated": self.cross_validated.summary(),
            "heldout": self.heldout.summary(),
            "bar": {
                "emergency_recall": BAR_RECALL,
                "false_alarm_rate": BAR_FALSE_ALARMS,
                "topic_accuracy": BAR_TOPIC_ACCURACY,
                "passed": self.passed,
            },
            "flagged_article_examples": [list(pair) for pair in self.flagged_article_examples],
        }


def evaluate(knowledge_dir: Path, *, folds: int = 5, settings: Settings | None = None) -> Report:
    """Cross-validated and held-out figures for the content of ``knowledge_dir``."""
    settings = settings or Settings()
    data = load_training_data(knowledge_dir)
    lexicon = Lexicon.load(knowledge_dir / "nlu" / "lexicon.yaml")
    model = BuiltinNLU(data, lexicon, settings)
    flagged = tuple(
        (article.id, text)
        for article in data.articles
        for text in article.examples
        if model.emergency(normalize(text)).emergency
    )
    return Report(
        cross_validated=cross_validate(data, lexicon, folds=folds, settings=settings),
        heldout=evaluate_heldout(model, load_heldout(knowledge_dir)),
        articles=len(data.articles),
        training_examples=len(data.topic_examples)
        + len(data.emergency.emergency)
        + len(data.emergency.not_emergency),
        flagged_article_examples=flagged,
    )


def format_report(report: Report) -> str:
    """The report as a readable table."""
    cv, held = report.cross_validated, report.heldout
    lines = [
        f"Content: {report.articles} articles, {report.training_examples} training examples",
        "",
        f"{'':32}{'cross-validated':>18}{'held-out':>12}{'bar':>10}",
        _row("topic accuracy", cv.topic_accuracy, held.topic_accuracy, f">= {BAR_TOPIC_ACCURACY}"),
        _row("emergency recall", cv.emergency_recall, held.emergency_recall, f">= {BAR_RECALL}"),
        _row(
            "false alarms (hard negatives)",
            cv.false_alarm_rate,
            held.false_alarm_rate,
            f"<= {BAR_FALSE_ALARMS}",
        ),
        _row(
            "false alarms (all calm)",
            cv.false_alarm_rate_all,
            held.false_alarm_rate_all,
            f"<= {BAR_FALSE_ALARMS}",
        ),
        f"{'  messages: topics / emerg. / hard':32}{_counts(cv):>18}{_counts(held):>12}",
    ]
    if cv.match_n:
        lines.append(
            f"{'article matcher (cross-val.)':32}top-1 {cv.match_top1 / cv.match_n:.3f}, "
            f"top-3 {cv.match_top3 / cv.match_n:.3f}, confident {cv.match_answered / cv.match_n:.3f} "
            f"(right {cv.match_answered_right / max(cv.match_answered, 1):.3f})"
        )
    lines += [
        "",
        "Topic confusion (held-out; rows: expected, columns: predicted)",
        *_confusion(held.confusion),
    ]
    lines += ["", "Topic confusion (cross-validated)", *_confusion(cv.confusion)]
    for title, texts in (
        ("Missed emergencies (held-out)", held.misses),
        ("False alarms (held-out)", held.false_alarms),
        ("Missed emergencies (cross-validated)", cv.misses),
        ("False alarms (cross-validated)", cv.false_alarms),
    ):
        if texts:
            lines += ["", f"{title}:", *(f"  - {text}" for text in texts)]
    if report.flagged_article_examples:
        lines += [
            "",
            "Article examples the detector treats as emergencies (the emergency flow answers them):",
        ]
        lines += [f"  - {article}: {text}" for article, text in report.flagged_article_examples]
    lines += ["", f"Held-out bar: {'MET' if report.passed else 'MISSED'}"]
    return "\n".join(lines)


def _row(name: str, cv: float, held: float, bar: str) -> str:
    return f"{name:32}{cv:>18.3f}{held:>12.3f}{bar:>10}"


def _counts(figures: Figures) -> str:
    return f"{figures.topic_n}/{figures.emergency_n}/{figures.hard_n}"


def _confusion(confusion: dict[str, dict[str, int]]) -> list[str]:
    labels = [
        label for label in TOPICS if label in confusion or any(label in row for row in confusion.values())
    ]
    short = {label: label[:8] for label in labels}
    lines = [f"{'':16}" + "".join(f"{short[label]:>9}" for label in labels)]
    for expected in labels:
        row = confusion.get(expected, {})
        lines.append(f"{expected:16}" + "".join(f"{row.get(predicted, 0):>9}" for predicted in labels))
    return lines
