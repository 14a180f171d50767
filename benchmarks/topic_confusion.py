"""Where the topic classifier goes wrong: the cross-validation of ``hotline eval --cv-only``, message by message.

The same grouped folds as ``hotline eval`` (so the same accuracy), but every topic prediction is kept:
the confusion matrix, the largest confusions by source file, and with ``--show PAIR`` the messages of
one confusion (``--show legal:violence`` lists messages labelled legal that came out violence, with
their file and the probability). Only the training content is read, never a held-out set. Run from the
repository root:

    python benchmarks/topic_confusion.py [--show legal:violence] [--save preds.tsv]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from sklearn.model_selection import StratifiedGroupKFold

from bot.nlu.data import load_training_data
from bot.nlu.evaluate import _items, _subset
from bot.nlu.lexicon import Lexicon
from bot.nlu.model import BuiltinNLU
from bot.nlu.normalize import normalize
from bot.topics import LABELS


def predictions(knowledge: Path, folds: int = 5) -> list[tuple[str, str, str, str, float]]:
    """``(source, expected, predicted, text, probability)`` for every topic example, out of fold."""
    data = load_training_data(knowledge)
    lexicon = Lexicon.load(knowledge / "nlu" / "lexicon.yaml")
    items = _items(data)
    strata = [item.stratum for item in items]
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=7)
    out: list[tuple[str, str, str, str, float]] = []
    for train, test in splitter.split(strata, strata, groups=[item.group for item in items]):
        model = BuiltinNLU(_subset(data, set(train.tolist()), items), lexicon)
        for i in test:
            item = items[i]
            if item.topic is None:
                continue
            topic, probability, _ = model.classify(normalize(item.text))
            out.append((data.sources.get(item.text, "?"), item.topic, topic, item.text, probability))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knowledge", type=Path, default=Path("knowledge"))
    parser.add_argument("--show", action="append", default=[], help="expected:predicted, e.g. legal:violence")
    parser.add_argument("--save", type=Path, help="write every prediction here (tab-separated)")
    args = parser.parse_args()
    rows = predictions(args.knowledge)
    right = sum(expected == predicted for _, expected, predicted, _, _ in rows)
    print(f"topic accuracy {right / len(rows):.4f} ({right}/{len(rows)})")
    confusion = Counter((expected, predicted) for _, expected, predicted, _, _ in rows)
    labels = [label for label in LABELS if any(label in pair for pair in confusion)]
    print(f"{'':16}" + "".join(f"{label[:8]:>9}" for label in labels))
    for expected in labels:
        print(f"{expected:16}" + "".join(f"{confusion[expected, p]:>9}" for p in labels))
    print("\nlargest confusions (expected -> predicted: count; by source)")
    for (expected, predicted), count in confusion.most_common():
        if expected == predicted or count < 5:
            continue
        sources = Counter(
            s.split("/")[0] if s.startswith("articles") else s
            for s, e, p, _, _ in rows
            if (e, p) == (expected, predicted)
        )
        where = ", ".join(f"{s} {n}" for s, n in sources.most_common(5))
        print(f"  {expected} -> {predicted}: {count} ({where})")
    for pair in args.show:
        expected, predicted = pair.split(":")
        print(f"\n{pair}:")
        for source, e, p, text, probability in rows:
            if (e, p) == (expected, predicted):
                print(f"  {probability:.2f} {source}: {text}")
    if args.save:
        args.save.write_text(
            "".join(f"{s}\t{e}\t{p}\t{pr:.4f}\t{t}\n" for s, e, p, t, pr in rows), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
