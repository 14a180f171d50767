"""Topic accuracy for a new writer: leave one writer out, and the grouped cross-validation beside it.

Each file of ``knowledge/nlu/training/`` was written by a different writer. For each one, the topic
classifier is trained on everything else (as ``benchmarks/triage_tune.py`` does for the emergency
detector) and classifies that file's topic questions: how it will do on people who never saw the data,
which grouped cross-validation over-estimates (neighbouring groups of one writer share their phrasing).
Only the topic classifier is trained (the shared features, then the topic model, as ``BuiltinNLU`` does),
so the emergency verdict does not override a topic here; ``--cv`` adds the grouped folds of ``hotline
eval --cv-only`` measured the same way. The held-out sets are never read. Run from the repository root:

    python benchmarks/topic_tune.py [--cv] [--c 20] [--words 1.5] [--bayes 0.7] [--balanced] [--no-concepts]
"""

from __future__ import annotations

import argparse
import dataclasses
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from sklearn.model_selection import StratifiedGroupKFold

from benchmarks.triage_tune import without
from bot.nlu.data import TrainingData, load_training_data
from bot.nlu.evaluate import _items, _subset
from bot.nlu.lexicon import Lexicon
from bot.nlu.model import Settings, TrainingTexts, train_topics
from bot.nlu.normalize import normalize


def writers(data: TrainingData) -> Iterator[tuple[str, TrainingData, list[tuple[str, str]]]]:
    """For each training file with topic questions: its name, the data without it, its (topic, text)."""
    for source in sorted({s for s in data.sources.values() if s.startswith("training/")}):
        mine = [
            (label, text) for label, text in data.extra_topic_examples if data.sources.get(text) == source
        ]
        if mine:
            yield source, without(data, source), mine


def folds(data: TrainingData, count: int = 5) -> Iterator[tuple[str, TrainingData, list[tuple[str, str]]]]:
    """The grouped folds of ``hotline eval --cv-only``: the data without the fold, the fold's topic items."""
    items = _items(data)
    strata = [item.stratum for item in items]
    splitter = StratifiedGroupKFold(n_splits=count, shuffle=True, random_state=7)
    for number, (train, test) in enumerate(splitter.split(strata, strata, groups=[i.group for i in items])):
        mine = [(items[i].topic or "", items[i].text) for i in test if items[i].topic is not None]
        yield f"fold {number + 1}", _subset(data, set(train.tolist()), items), mine


def accuracy(
    splits: Iterator[tuple[str, TrainingData, list[tuple[str, str]]]], lexicon: Lexicon, settings: Settings
) -> tuple[float, Counter[tuple[str, str]]]:
    """Accuracy over every split's messages (printing each split's) and the confusion counts."""
    confusion: Counter[tuple[str, str]] = Counter()
    for name, data, tests in splits:
        texts = TrainingTexts.of(data, lexicon)
        _, classifier = train_topics(texts.features(), texts, data, lexicon, settings)
        right = 0
        for expected, text in tests:
            predicted, _ = classifier.predict(normalize(text))
            confusion[expected, predicted] += 1
            right += predicted == expected
        print(f"  {name:36}{right / len(tests):8.4f}  ({right}/{len(tests)})", flush=True)
    total = sum(confusion.values())
    right = sum(n for (expected, predicted), n in confusion.items() if expected == predicted)
    return right / total, confusion


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knowledge", type=Path, default=Path("knowledge"))
    parser.add_argument("--cv", action="store_true", help="also the grouped cross-validation")
    parser.add_argument("--c", type=float, default=Settings.topic_c)
    parser.add_argument("--words", type=float, default=Settings.topic_words, help="word n-gram weight")
    parser.add_argument("--bayes", type=float, default=Settings.topic_bayes, help="0: no naive Bayes")
    parser.add_argument("--balanced", action="store_true", default=Settings.topic_balanced)
    parser.add_argument(
        "--no-concepts", dest="concepts", action="store_false", default=Settings.topic_concepts
    )
    args = parser.parse_args()
    settings = dataclasses.replace(
        Settings(),
        topic_c=args.c,
        topic_words=args.words,
        topic_bayes=args.bayes,
        topic_balanced=args.balanced,
        topic_concepts=args.concepts,
    )
    data = load_training_data(args.knowledge)
    lexicon = Lexicon.load(args.knowledge / "nlu" / "lexicon.yaml")
    runs = [("leave one writer out", writers(data))]
    if args.cv:
        runs.append(("grouped cross-validation", folds(data)))
    for title, splits in runs:
        print(f"{title}:")
        value, confusion = accuracy(splits, lexicon, settings)
        print(f"{title}: topic accuracy {value:.4f}")
        print(
            "  largest confusions: "
            + ", ".join(f"{e}->{p} {n}" for (e, p), n in confusion.most_common() if e != p and n >= 10)
        )


if __name__ == "__main__":
    main()
