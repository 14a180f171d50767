"""Choosing the triage thresholds honestly: leave one writer out, then try thresholds on what it wrote.

Each file of ``knowledge/nlu/training/`` was written by a different writer. For each one, the model is
trained on everything else and scores that file's messages (emergencies, hard negatives, calm topic
questions): a new writer's phrasing, as people who never saw the data will write. The script keeps, per
message, the classifier's probability and what the lexicon found, then prints the figures that each set
of thresholds would give. The held-out sets are never read here. Run from the repository root:

    python benchmarks/triage_tune.py [--knowledge DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import pickle
from pathlib import Path

from bot.nlu.data import EmergencyExamples, TrainingData, load_training_data
from bot.nlu.emergency import EMERGENCY, POSSIBLE, Thresholds, triage
from bot.nlu.lexicon import Lexicon, LexiconHit
from bot.nlu.model import BuiltinNLU
from bot.nlu.normalize import normalize


@dataclasses.dataclass(frozen=True)
class Scored:
    emergency: bool  # what the writer meant
    probability: float  # the classifier's, trained without this writer
    hit: LexiconHit  # what the lexicon found
    words: int  # beyond the lexicon's no_content words (Lexicon.content_words)


def without(data: TrainingData, source: str) -> TrainingData:
    def keep(text: str) -> bool:
        return data.sources.get(text) != source

    extra = tuple((label, text) for label, text in data.extra_topic_examples if keep(text))
    emergency = EmergencyExamples(
        emergency=tuple((k, t) for k, t in data.emergency.emergency if keep(t)),
        not_emergency=tuple(t for t in data.emergency.not_emergency if keep(t)),
    )
    from_articles = tuple((a.topic, t) for a in data.articles for t in a.examples)
    return TrainingData(
        data.articles, from_articles + extra, emergency, extra, data.sources, data.topic_vocabulary
    )


def score(knowledge: Path) -> list[Scored]:
    data = load_training_data(knowledge)
    lexicon = Lexicon.load(knowledge / "nlu" / "lexicon.yaml")
    sources = sorted({s for s in data.sources.values() if s.startswith("training/")})
    out: list[Scored] = []
    for source in sources:
        model = BuiltinNLU(without(data, source), lexicon)
        mine = [(True, t) for _, t in data.emergency.emergency if data.sources.get(t) == source]
        mine += [(False, t) for t in data.emergency.not_emergency if data.sources.get(t) == source]
        mine += [(False, t) for _, t in data.extra_topic_examples if data.sources.get(t) == source]
        for expected, text in mine:
            normalized = normalize(text)
            probability = model.detector.probability(normalized)
            out.append(
                Scored(expected, probability, lexicon.scan(normalized), lexicon.content_words(normalized))
            )
        print(f"scored {source}: {len(mine)} messages")
    return out


def figures(scored: list[Scored], t: Thresholds) -> tuple[float, float, float, float]:
    """Recall, recall counting possible, false alarms and possible on calm messages, with thresholds ``t``."""
    found = asked = alarms = possible = n_e = n_c = 0
    for s in scored:
        level = triage(s.hit, s.probability, t, s.words)
        emergency, maybe = level == EMERGENCY, level == POSSIBLE
        if s.emergency:
            n_e += 1
            found += emergency
            asked += maybe
        else:
            n_c += 1
            alarms += emergency
            possible += maybe
    return found / n_e, (found + asked) / n_e, alarms / n_c, possible / n_c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knowledge", type=Path, default=Path("knowledge"))
    parser.add_argument("--cache", type=Path, help="keep the scores here and reuse them (same content only)")
    args = parser.parse_args()
    if args.cache and args.cache.exists():
        scored = pickle.loads(args.cache.read_bytes())  # noqa: S301 (a file this script wrote)
    else:
        scored = score(args.knowledge)
        if args.cache:
            args.cache.write_bytes(pickle.dumps(scored))
    current = Thresholds()
    print(f"{'plain':>6}{'calm':>6}{'veto':>6}{'poss':>6}{'recall':>8}{'any':>7}{'alarms':>8}{'possible':>9}")
    rows = []
    for plain, calm, veto, poss in itertools.product(
        (0.4, 0.5, 0.6, 0.7, 0.8),
        (0.7, 0.85, 0.95),
        (0.0, 0.1, 0.2, 0.3, 0.4),
        (0.1, 0.15, 0.2, 0.3),
    ):
        t = dataclasses.replace(
            current, plain=plain, calm=calm, veto=veto, possible=poss, possible_calm=min(poss, 0.15)
        )
        rows.append(((plain, calm, veto, poss), figures(scored, t)))
    # the best recall for each bound on false alarms (possible kept within its bar)
    best = []
    for bound in (0.02, 0.03, 0.04, 0.05, 0.06, 0.08):
        fitting = [r for r in rows if r[1][2] <= bound and r[1][3] <= 0.2]
        best += sorted(fitting, key=lambda r: (-r[1][0], -r[1][1], r[1][3]))[:3]
    for (plain, calm, veto, poss), (recall, recall_any, alarms, possible) in best:
        print(
            f"{plain:>6}{calm:>6}{veto:>6}{poss:>6}{recall:>8.3f}{recall_any:>7.3f}{alarms:>8.3f}{possible:>9.3f}"
        )
    print("current:", figures(scored, current))


if __name__ == "__main__":
    main()
