"""Loading the training content from a knowledge folder.

Reads ``<knowledge>/articles/*.yaml`` (their ``topic`` and example questions) and the files of
``<knowledge>/nlu/``: ``topics.yaml``, ``emergency.yaml`` and, for evaluation only, ``heldout.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.nlu.contract import TOPICS
from bot.nlu.errors import NLUDataError

EMERGENCY_KINDS: tuple[str, ...] = (
    "violence_now",
    "sexual_assault",
    "held_trafficked",
    "threat_to_life",
    "suicide_self_harm",
    "overdose",
)


@dataclass(frozen=True)
class Article:
    """What the matcher needs of one article: its id, topic, titles and example questions."""

    id: str
    topic: str
    titles: tuple[str, ...]
    examples: tuple[str, ...]


@dataclass(frozen=True)
class EmergencyExamples:
    """Labelled messages for the emergency detector."""

    emergency: tuple[tuple[str, str], ...]  # (kind, message)
    not_emergency: tuple[str, ...]


@dataclass(frozen=True)
class TrainingData:
    """Everything the built-in model learns from."""

    articles: tuple[Article, ...]
    topic_examples: tuple[tuple[str, str], ...]  # (label, message): articles' examples and topics.yaml
    emergency: EmergencyExamples
    extra_topic_examples: tuple[tuple[str, str], ...] = field(default=())  # topics.yaml only


@dataclass(frozen=True)
class HeldOut:
    """The held-out evaluation set (``nlu/heldout.yaml``): never trained on."""

    topics: tuple[tuple[str, str], ...]
    emergency: tuple[str, ...]
    not_emergency: tuple[str, ...]


def read_yaml(path: Path) -> Any:
    """Parse one YAML file, turning syntax errors into :class:`NLUDataError` naming the file."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as exc:
        raise NLUDataError(f"{path}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise NLUDataError(f"{path}: not valid YAML: {exc}") from exc


def _messages(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str | int | float) for item in value):
        raise NLUDataError(f"{where}: expected a list of messages")
    return tuple(str(item).strip() for item in value if str(item).strip())


def _languages(value: Any, where: str) -> tuple[str, ...]:
    """Texts of a ``{vi: ..., en: ...}`` field; each value a string or a list of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),)
    if isinstance(value, list):
        return _messages(value, where)
    if not isinstance(value, dict):
        raise NLUDataError(f"{where}: expected {{vi: ..., en: ...}}")
    out: list[str] = []
    for lang, texts in value.items():
        out.extend(_languages(texts, f"{where}.{lang}"))
    return tuple(out)


def load_article(path: Path) -> Article:
    """Read one article file; only the fields the NLU needs are checked here."""
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise NLUDataError(f"{path}: an article is a mapping with id, topic, title, examples...")
    topic = raw.get("topic")
    if topic not in TOPICS or topic == "other":
        raise NLUDataError(f"{path}: topic {topic!r} is not one of {', '.join(TOPICS[:-1])}")
    article_id = str(raw.get("id") or path.stem)
    titles = _languages(raw.get("title"), f"{path}: title") + _languages(raw.get("short"), f"{path}: short")
    examples = _languages(raw.get("examples"), f"{path}: examples")
    return Article(id=article_id, topic=str(topic), titles=titles, examples=examples)


def load_articles(knowledge_dir: Path) -> tuple[Article, ...]:
    """All articles of ``<knowledge_dir>/articles/*.yaml``, sorted by file name (none is fine)."""
    folder = knowledge_dir / "articles"
    if not folder.is_dir():
        return ()
    return tuple(load_article(path) for path in sorted(folder.glob("*.yaml")))


def _labelled(raw: Any, labels: tuple[str, ...], where: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise NLUDataError(f"{where}: expected {{label: [messages]}}")
    out: list[tuple[str, str]] = []
    for label, messages in raw.items():
        if label not in labels:
            raise NLUDataError(f"{where}: unknown label {label!r}; use one of {', '.join(labels)}")
        out.extend((str(label), text) for text in _messages(messages, f"{where}: {label}"))
    return tuple(out)


def load_topic_examples(path: Path) -> tuple[tuple[str, str], ...]:
    """``nlu/topics.yaml``: ``{label: [messages]}``."""
    if not path.exists():
        return ()
    return _labelled(read_yaml(path), TOPICS, str(path))


def load_emergency_examples(path: Path) -> EmergencyExamples:
    """``nlu/emergency.yaml``: ``emergency: {kind: [messages]}`` and ``not_emergency: [messages]``."""
    if not path.exists():
        return EmergencyExamples(emergency=(), not_emergency=())
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise NLUDataError(f"{path}: expected the keys emergency and not_emergency")
    return EmergencyExamples(
        emergency=_labelled(raw.get("emergency"), EMERGENCY_KINDS, f"{path}: emergency"),
        not_emergency=_messages(raw.get("not_emergency"), f"{path}: not_emergency"),
    )


def load_training_data(knowledge_dir: Path) -> TrainingData:
    """Articles, topic examples and emergency examples of a knowledge folder (never the held-out set)."""
    articles = load_articles(knowledge_dir)
    extra = load_topic_examples(knowledge_dir / "nlu" / "topics.yaml")
    from_articles = tuple((article.topic, text) for article in articles for text in article.examples)
    return TrainingData(
        articles=articles,
        topic_examples=from_articles + extra,
        emergency=load_emergency_examples(knowledge_dir / "nlu" / "emergency.yaml"),
        extra_topic_examples=extra,
    )


def load_heldout(knowledge_dir: Path) -> HeldOut:
    """``nlu/heldout.yaml``: ``topics: {label: [...]}``, ``emergency: [...]``, ``not_emergency: [...]``."""
    path = knowledge_dir / "nlu" / "heldout.yaml"
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise NLUDataError(f"{path}: expected the keys topics, emergency and not_emergency")
    return HeldOut(
        topics=_labelled(raw.get("topics"), TOPICS, f"{path}: topics"),
        emergency=_messages(raw.get("emergency"), f"{path}: emergency"),
        not_emergency=_messages(raw.get("not_emergency"), f"{path}: not_emergency"),
    )
