"""Figures for ``hotline eval``: cross-validation on the training content, and each held-out set.

Cross-validation trains on k-1 parts of the content and tests on the rest, for the topic classifier, the
article matcher and the emergency detector. Folds are grouped by source: the messages of one file written
next to each other (a message and its spelling variants, one writer's run of similar messages) stay in
one fold, so a message is never tested against its own twin; random folds said recall 0.99 while people
who had never seen the data found 0.75.

The held-out figures train on all the content and test on each ``nlu/heldout*.yaml``, never trained or
tuned on; the issue's bar applies to each set separately.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.model_selection import StratifiedGroupKFold

from bot.nlu.data import Case, EmergencyExamples, HeldOut, TrainingData, load_heldouts, load_training_data
from bot.nlu.emergency import EMERGENCY, NONE
from bot.nlu.lexicon import Lexicon
from bot.nlu.model import BuiltinNLU, Settings
from bot.nlu.normalize import normalize
from bot.topics import LABELS

BAR_RECALL = 0.98  # emergencies found at level ``emergency``
BAR_RECALL_ANY = 0.99  # emergencies found at level ``emergency`` or ``possible``
BAR_FALSE_ALARMS = 0.03  # non-emergencies at level ``emergency``
BAR_POSSIBLE = 0.15  # non-emergencies at level ``possible``
BAR_TOPIC_ACCURACY = 0.88
GROUP_RUN = 6
"""Messages of one source written next to each other form one cross-validation group of this size."""


@dataclass
class Figures:
    """Topic accuracy, emergency recall and false alarms (and the matcher's, for cross-validation)."""

    topic_n: int = 0
    topic_correct: int = 0
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    emergency_n: int = 0
    emergency_found: int = 0
    emergency_asked: int = 0  # emergencies at level ``possible`` (the person is asked, not lost)
    kind_right: int = 0  # emergencies found with the kind the set gives (where it gives one)
    kind_n: int = 0
    possible_alarms: int = 0  # non-emergencies at level ``possible``
    hard_n: int = 0  # hard negatives (nlu/emergency.yaml not_emergency, or heldout not_emergency)
    hard_alarms: int = 0
    calm_n: int = 0  # all non-emergency messages: hard negatives and topic examples
    calm_alarms: int = 0
    match_n: int = 0
    match_top1: int = 0
    match_top3: int = 0
    match_answered: int = 0
    match_answered_right: int = 0
    # the messages themselves stay out of the repr: a failing floor test must not show a held-out set
    misses: list[str] = field(default_factory=list, repr=False)
    false_alarms: list[str] = field(default_factory=list, repr=False)

    @property
    def topic_accuracy(self) -> float:
        """Share of topic examples classified right."""
        return self.topic_correct / self.topic_n if self.topic_n else 0.0

    @property
    def emergency_recall(self) -> float:
        """Share of emergencies detected."""
        return self.emergency_found / self.emergency_n if self.emergency_n else 0.0

    @property
    def emergency_recall_any(self) -> float:
        """Share of emergencies at level ``emergency`` or ``possible``."""
        found = self.emergency_found + self.emergency_asked
        return found / self.emergency_n if self.emergency_n else 0.0

    @property
    def possible_rate(self) -> float:
        """Share of all non-emergency messages at level ``possible`` (asked, not paged)."""
        return self.possible_alarms / self.calm_n if self.calm_n else 0.0

    @property
    def kind_accuracy(self) -> float:
        """Share of found emergencies given the right kind."""
        return self.kind_right / self.kind_n if self.kind_n else 0.0

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

    def add_emergency(self, text: str, expected: bool, level: str, *, hard: bool) -> None:
        """Count one verdict at ``level`` (``hard``: the message is a hard negative)."""
        predicted = level == EMERGENCY
        if expected:
            self.emergency_n += 1
            self.emergency_found += predicted
            self.emergency_asked += level not in (EMERGENCY, NONE)
            if not predicted:
                self.misses.append(text)
            return
        self.calm_n += 1
        self.calm_alarms += predicted
        self.possible_alarms += level not in (EMERGENCY, NONE)
        if hard:
            self.hard_n += 1
            self.hard_alarms += predicted
            if predicted:
                self.false_alarms.append(text)

    def add_match(self, expected: str, ranked: Sequence[tuple[str, float]], confident: bool) -> None:
        """Count one article-matcher ranking for an example of article ``expected``."""
        self.match_n += 1
        ids = [article_id for article_id, _ in ranked]
        self.match_top1 += ids[:1] == [expected]
        self.match_top3 += expected in ids[:3]
        if confident:
            self.match_answered += 1
            self.match_answered_right += ids[0] == expected

    def summary(self) -> dict[str, Any]:
        """The figures as plain data (for ``--json``)."""
        out: dict[str, Any] = {
            "topic_accuracy": round(self.topic_accuracy, 4),
            "topic_n": self.topic_n,
            "emergency_recall": round(self.emergency_recall, 4),
            "emergency_recall_with_possible": round(self.emergency_recall_any, 4),
            "emergency_n": self.emergency_n,
            "kind_accuracy": round(self.kind_accuracy, 4),
            "possible_rate": round(self.possible_rate, 4),
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
    group: str = ""  # cross-validation group: items of one group are always in the same fold

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
    return _grouped(items, data.sources)


def _grouped(items: list[_Item], sources: dict[str, str]) -> list[_Item]:
    """Give each item its group: a run of ``GROUP_RUN`` neighbours of one source and stratum.

    Writers put a message and its variants (with and without diacritics, chat spelling) next to each
    other; a run keeps them in one fold. Messages equal once normalised share a group wherever they are.
    """
    position: Counter[tuple[str, str]] = Counter()
    by_form: dict[str, str] = {}
    out: list[_Item] = []
    for item in items:
        source = sources.get(item.text, "?")
        key = (source, item.stratum)
        group = f"{source}|{item.stratum}|{position[key] // GROUP_RUN}"
        position[key] += 1
        group = by_form.setdefault(normalize(item.text), group)
        out.append(dataclasses.replace(item, group=group))
    return out


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
        sources=data.sources,
        topic_vocabulary=data.topic_vocabulary,
    )


def _score(model: BuiltinNLU, item: _Item, figures: Figures, *, match: bool = True) -> None:
    normalized = normalize(item.text)
    topic, _, verdict = model.classify(normalized)
    if item.topic is not None:
        figures.add_topic(item.topic, topic)
    if item.emergency is not None:
        figures.add_emergency(item.text, item.emergency, verdict.level, hard=item.hard)
        if item.emergency and item.kind is not None and verdict.emergency:
            figures.kind_n += 1
            figures.kind_right += verdict.kind == item.kind
    if match and item.article is not None:
        ranked = model.matcher.scores(normalized, model.topic(normalized)[0])
        figures.add_match(item.article, ranked, model.matcher.confident(ranked))


def cross_validate(
    data: TrainingData, lexicon: Lexicon, *, folds: int = 5, settings: Settings | None = None
) -> Figures:
    """Cross-validation over all labelled training content, stratified and grouped by source."""
    settings = settings or Settings()
    items = _items(data)
    figures = Figures()
    strata = [item.stratum for item in items]
    smallest = min(Counter(strata).values(), default=0)
    splits = min(folds, smallest) if smallest >= 2 else 0
    if splits < 2 or len({item.group for item in items}) < splits:
        return figures
    splitter = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=7)
    for train, test in splitter.split(strata, strata, groups=[item.group for item in items]):
        model = BuiltinNLU(_subset(data, set(train.tolist()), items), lexicon, settings)
        for i in test:
            _score(model, items[i], figures)
    return figures


def evaluate_heldout(model: BuiltinNLU, heldout: HeldOut) -> Figures:
    """Figures of a model trained on all the content, on one held-out set."""
    figures = Figures()
    for case in heldout.cases:
        _score(model, _case_item(case), figures, match=False)
    return figures


def _case_item(case: Case) -> _Item:
    return _Item(case.text, case.topic, None, case.emergency, kind=case.kind, hard=case.hard)


def bar_met(figures: Figures) -> bool:
    """The issue's bar on one held-out set (see the ``BAR_*`` constants)."""
    return (
        figures.emergency_recall >= BAR_RECALL
        and figures.emergency_recall_any >= BAR_RECALL_ANY
        and figures.false_alarm_rate_all <= BAR_FALSE_ALARMS
        and figures.possible_rate <= BAR_POSSIBLE
        and figures.topic_accuracy >= BAR_TOPIC_ACCURACY
    )


@dataclass(frozen=True)
class Report:
    """Everything ``hotline eval`` shows."""

    cross_validated: Figures
    heldouts: dict[str, Figures]
    articles: int
    training_examples: int
    flagged_article_examples: tuple[tuple[str, str], ...]  # (article id, example) the detector flags

    @property
    def passed(self) -> bool:
        """Whether every held-out set meets the bar."""
        return bool(self.heldouts) and all(bar_met(figures) for figures in self.heldouts.values())

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "articles": self.articles,
            "training_examples": self.training_examples,
            "cross_validated": self.cross_validated.summary(),
            "heldout": {name: figures.summary() for name, figures in self.heldouts.items()},
            "bar": {
                "emergency_recall": BAR_RECALL,
                "emergency_recall_with_possible": BAR_RECALL_ANY,
                "false_alarm_rate": BAR_FALSE_ALARMS,
                "possible_rate": BAR_POSSIBLE,
                "topic_accuracy": BAR_TOPIC_ACCURACY,
                "passed": {name: bar_met(figures) for name, figures in self.heldouts.items()},
                "all_passed": self.passed,
            },
            "flagged_article_examples": [list(pair) for pair in self.flagged_article_examples],
        }


def evaluate(
    knowledge_dir: Path,
    *,
    folds: int = 5,
    settings: Settings | None = None,
    cross: bool = True,
    heldout: bool = True,
) -> Report:
    """Cross-validated (unless ``cross`` is false) and held-out figures for ``knowledge_dir``.

    With ``heldout`` false the held-out sets are not even read: the figures to tune by (cross-validation
    only), so that nobody working on the model sees how it does on the sets that judge it.
    """
    settings = settings or Settings()
    data = load_training_data(knowledge_dir)
    lexicon = Lexicon.load(knowledge_dir / "nlu" / "lexicon.yaml")
    model = BuiltinNLU(data, lexicon, settings)
    heldouts = load_heldouts(knowledge_dir) if heldout else ()
    flagged = tuple(
        (article.id, text)
        for article in data.articles
        for text in article.examples
        if model.emergency(normalize(text)).emergency
    )
    return Report(
        cross_validated=cross_validate(data, lexicon, folds=folds, settings=settings) if cross else Figures(),
        heldouts={one.name: evaluate_heldout(model, one) for one in heldouts},
        articles=len(data.articles),
        training_examples=len(data.topic_examples)
        + len(data.emergency.emergency)
        + len(data.emergency.not_emergency),
        flagged_article_examples=flagged,
    )


def format_report(report: Report, *, details: bool = True) -> str:
    """The report as a readable table (``details``: list the misses and false alarms too)."""
    columns: dict[str, Figures] = {"cross-validated": report.cross_validated, **report.heldouts}
    width = max(16, *(len(name) + 2 for name in columns))

    def row(name: str, values: list[str], bar: str = "") -> str:
        return f"{name:34}" + "".join(f"{value:>{width}}" for value in values) + f"{bar:>10}"

    def figures_row(name: str, value: Any, bar: str) -> str:
        return row(name, [f"{value(f):.3f}" for f in columns.values()], bar)

    lines = [
        f"Content: {report.articles} articles, {report.training_examples} training examples",
        "",
        row("", list(columns), "bar"),
        figures_row("topic accuracy", lambda f: f.topic_accuracy, f">= {BAR_TOPIC_ACCURACY}"),
        figures_row("emergency recall (emergency)", lambda f: f.emergency_recall, f">= {BAR_RECALL}"),
        figures_row(
            "recall (emergency or possible)", lambda f: f.emergency_recall_any, f">= {BAR_RECALL_ANY}"
        ),
        figures_row("false alarms (all calm)", lambda f: f.false_alarm_rate_all, f"<= {BAR_FALSE_ALARMS}"),
        figures_row("false alarms (hard negatives)", lambda f: f.false_alarm_rate, ""),
        figures_row("possible on calm messages", lambda f: f.possible_rate, f"<= {BAR_POSSIBLE}"),
        figures_row("kind right (found emergencies)", lambda f: f.kind_accuracy, ""),
        row(
            "  messages: topics/emerg./calm",
            [f"{f.topic_n}/{f.emergency_n}/{f.calm_n}" for f in columns.values()],
        ),
    ]
    cv = report.cross_validated
    if cv.match_n:
        lines.append(
            f"{'article matcher (cross-val.)':34}top-1 {cv.match_top1 / cv.match_n:.3f}, "
            f"top-3 {cv.match_top3 / cv.match_n:.3f}, answered directly {cv.match_answered / cv.match_n:.3f} "
            f"(right {cv.match_answered_right / max(cv.match_answered, 1):.3f}; the rest offered 3 choices)"
        )
    for name, figures in columns.items():
        if figures.topic_n:
            lines += ["", f"Topic confusion ({name}; rows: expected, columns: predicted)"]
            lines += _confusion(figures.confusion)
    if details:
        for name, figures in columns.items():
            for title, texts in (
                ("Missed emergencies", figures.misses),
                ("False alarms", figures.false_alarms),
            ):
                if texts:
                    lines += ["", f"{title} ({name}):", *(f"  - {text}" for text in texts)]
        if report.flagged_article_examples:
            lines += [
                "",
                "Article examples the detector treats as emergencies (the emergency flow answers them):",
            ]
            lines += [f"  - {article}: {text}" for article, text in report.flagged_article_examples]
    verdicts = ", ".join(f"{name} {'MET' if bar_met(f) else 'MISSED'}" for name, f in report.heldouts.items())
    lines += ["", f"Held-out bar: {verdicts or 'no held-out set'}"]
    return "\n".join(lines)


def _confusion(confusion: dict[str, dict[str, int]]) -> list[str]:
    labels = [
        label for label in LABELS if label in confusion or any(label in row for row in confusion.values())
    ]
    short = {label: label[:8] for label in labels}
    lines = [f"{'':16}" + "".join(f"{short[label]:>9}" for label in labels)]
    for expected in labels:
        row = confusion.get(expected, {})
        lines.append(f"{expected:16}" + "".join(f"{row.get(predicted, 0):>9}" for predicted in labels))
    return lines
