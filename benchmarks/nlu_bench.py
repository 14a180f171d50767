"""Benchmark of the built-in NLU: training time, time per message (median, p99) and memory.

Run from the repository root: ``python benchmarks/nlu_bench.py [--knowledge DIR]``. Prints figures; it
asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc
from pathlib import Path

from bot.nlu import build_builtin, normalize
from bot.nlu.data import load_heldouts, load_training_data

SAMPLES = [
    "ck dang danh e",
    "cuuuu",
    "xét nghiệm hiv ở đâu",
    "bcs bi rach e co bi hiv ko",
    "bán dâm bị phạt bao nhiêu",
    "em đánh rơi điện thoại",
    "minh muon noi chuyen voi nguoi that",
    "he is going to kill me",
    "chao",
]


def main() -> None:
    """Train, then time every held-out and sample message many times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knowledge", type=Path, default=Path("knowledge"))
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    started = time.perf_counter()
    model = build_builtin(args.knowledge)
    training = time.perf_counter() - started
    tracemalloc.start()  # a second training, traced: tracing slows it down, so it is not the one timed
    build_builtin(args.knowledge)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    messages = [case.text for heldout in load_heldouts(args.knowledge) for case in heldout.cases] + SAMPLES
    for text in messages:  # warm up
        model.understand_sync(text)
    timings: list[float] = []
    classify: list[float] = []  # the triage alone: normalise, topic, emergency level and kind
    # The triage alone (what `hotline classify` and the safety check need), then the whole understanding
    # (with the article matcher); every message as if new: no cached pass from an earlier round.
    for _ in range(args.rounds):
        for text in messages:
            model.forget()
            begin = time.perf_counter_ns()
            model.classify(normalize(text))
            classify.append((time.perf_counter_ns() - begin) / 1000)
    for _ in range(args.rounds):
        for text in messages:
            model.forget()
            begin = time.perf_counter_ns()
            model.understand_sync(text)
            timings.append((time.perf_counter_ns() - begin) / 1000)
    timings.sort()
    classify.sort()
    data = load_training_data(args.knowledge)
    print(
        f"articles: {len(data.articles)}, training examples: {len(data.topic_examples)} topic, "
        f"{len(data.emergency.emergency)} emergency, {len(data.emergency.not_emergency)} hard negatives"
    )
    print(f"features: {model.features.size}")
    print(f"training time: {training:.2f} s")
    print(
        f"classification (normalise, topic, level, kind) per message over {len(classify)} calls: "
        f"median {statistics.median(classify):.0f} µs, p99 {classify[int(len(classify) * 0.99) - 1]:.0f} µs"
    )
    print(
        f"understand() (classification and the article matcher) per message over {len(timings)} calls: "
        f"median {statistics.median(timings):.0f} µs, p99 {timings[int(len(timings) * 0.99) - 1]:.0f} µs, "
        f"max {timings[-1]:.0f} µs"
    )
    print(
        f"memory: tracemalloc peak while training {peak / 2**20:.1f} MiB, "
        f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
