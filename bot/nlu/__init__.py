"""Language understanding (placeholder until the trained model lands: keyword matching only)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

TOPICS: tuple[str, ...] = ("hiv_sti", "harm_reduction", "legal", "violence", "support", "other")


@dataclass(frozen=True)
class Understanding:
    text: str
    normalized: str
    has_words: bool
    topic: str
    topic_score: float
    emergency: bool
    emergency_score: float
    emergency_kind: str | None
    articles: tuple[tuple[str, float], ...]


class NLU(Protocol):
    async def understand(self, text: str) -> Understanding: ...


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join(re.findall(r"\w+", text))


_EMERGENCY = ("cuu", "help", "danh em", "muon chet", "hiep", "giet", "kill me")


class _KeywordNLU:
    def __init__(self, examples: dict[str, tuple[str, list[str]]]) -> None:
        self._examples = examples

    async def understand(self, text: str) -> Understanding:
        norm = normalize(text)
        words = set(norm.split())
        best: list[tuple[str, float]] = []
        topic = "other"
        for article_id, (_article_topic, examples) in self._examples.items():
            score = max(
                (len(words & set(normalize(e).split())) / max(len(words), 1) for e in examples), default=0
            )
            if score >= 0.6:
                best.append((article_id, score))
        best.sort(key=lambda x: -x[1])
        if best:
            topic = self._examples[best[0][0]][0]
        emergency = any(f" {k} " in f" {norm} " for k in _EMERGENCY)
        return Understanding(
            text,
            norm,
            bool(norm),
            topic,
            0.5,
            emergency,
            1.0 if emergency else 0.0,
            "violence_now" if emergency else None,
            tuple(best[:3]),
        )


def build_nlu(knowledge_dir: Path, *, rasa_url: str | None = None) -> NLU:
    examples: dict[str, tuple[str, list[str]]] = {}
    for path in sorted((knowledge_dir / "articles").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        ex = data.get("examples", {})
        examples[data["id"]] = (data["topic"], [*ex.get("vi", []), *ex.get("en", [])])
    return _KeywordNLU(examples)
