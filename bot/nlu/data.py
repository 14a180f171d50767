"""Loading the training content from a knowledge folder.

Reads ``<knowledge>/articles/*.yaml`` (their ``topic`` and example questions) and the files of
``<knowledge>/nlu/``: ``topics.yaml``, ``emergency.yaml``, ``topic_concepts.yaml`` (topic vocabulary by
meaning), every ``training/*.yaml`` (more examples, one file per source: who wrote them and how) and, for
evaluation only, the held-out sets ``heldout*.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.nlu.errors import NLUDataError
from bot.topics import LABELS, TOPICS
from bot.yamlfile import line_of, parse_yaml

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


KIND_TOPICS: dict[str, str] = {
    "violence_now": "violence",
    "sexual_assault": "violence",
    "held_trafficked": "violence",
    "threat_to_life": "violence",
    "suicide_self_harm": "support",
    "overdose": "harm_reduction",
}
"""The topic an emergency of each kind is counted under (statistics and reports follow the kind)."""


@dataclass(frozen=True)
class TrainingData:
    """Everything the built-in model learns from."""

    articles: tuple[Article, ...]
    topic_examples: tuple[tuple[str, str], ...]  # (label, message): articles' examples and topics.yaml
    emergency: EmergencyExamples
    extra_topic_examples: tuple[tuple[str, str], ...] = field(default=())  # topics.yaml and training/
    sources: dict[str, str] = field(default_factory=dict, compare=False)  # message -> the file it came from
    topic_vocabulary: dict[str, tuple[str, ...]] = field(default_factory=dict)  # nlu/topic_concepts.yaml


@dataclass(frozen=True)
class Case:
    """One labelled message of a held-out set.

    ``topic`` or ``emergency`` is None where the set does not say (the first set labels emergencies
    without a topic). ``hard``: a non-emergency written on purpose to look like one.
    """

    text: str
    topic: str | None
    emergency: bool | None
    kind: str | None = None
    hard: bool = False


@dataclass(frozen=True)
class HeldOut:
    """One held-out evaluation set (``nlu/heldout*.yaml``): never trained on, never tuned on."""

    name: str
    cases: tuple[Case, ...]


def read_yaml(path: Path) -> Any:
    """Parse one YAML file, turning syntax errors into :class:`NLUDataError` naming the file and line.

    Mappings and lists remember their lines (:mod:`bot.yamlfile`), so a mistake found later names them.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NLUDataError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise NLUDataError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    try:
        return parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise NLUDataError(f"{path}{line}: not valid YAML: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise NLUDataError(f"{path}: not valid YAML: {exc}") from exc


def _at(where: str, container: Any, key: str | int) -> str:
    """``where`` ("<file>: <section>: <label>") with the line of ``container[key]`` after the file name,
    as ``hotline check`` prints every mistake: ``<file>:<line>: <section>: <label>``."""
    line = line_of(container, key)
    if not line:
        return where
    path, _, rest = where.partition(": ")
    return f"{path}:{line}: {rest}" if rest else f"{path}:{line}"


def _messages(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise NLUDataError(f"{where}: expected a list of messages")
    for index, item in enumerate(value):
        if not isinstance(item, str | int | float):
            hint = " (a message with ': ' in it must be in quotes)" if isinstance(item, dict) else ""
            raise NLUDataError(f"{_at(where, value, index)}: item {index + 1} is not a message{hint}")
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
    if topic not in TOPICS:
        raise NLUDataError(f"{path}: topic {topic!r} is not one of {', '.join(TOPICS)}")
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
            raise NLUDataError(
                f"{_at(where, raw, str(label))}: unknown label {label!r}; use one of {', '.join(labels)}"
            )
        out.extend((str(label), text) for text in _messages(messages, f"{where}: {label}"))
    return tuple(out)


def load_topic_examples(path: Path) -> tuple[tuple[str, str], ...]:
    """``nlu/topics.yaml``: ``{label: [messages]}``."""
    if not path.exists():
        return ()
    return _labelled(read_yaml(path), LABELS, str(path))


def _emergency_examples(raw: Any, where: str) -> EmergencyExamples:
    if raw is None:
        return EmergencyExamples(emergency=(), not_emergency=())
    if not isinstance(raw, dict):
        raise NLUDataError(f"{where}: expected the keys emergency and not_emergency")
    return EmergencyExamples(
        emergency=_labelled(raw.get("emergency"), EMERGENCY_KINDS, f"{where}: emergency"),
        not_emergency=_messages(raw.get("not_emergency"), f"{where}: not_emergency"),
    )


def load_emergency_examples(path: Path) -> EmergencyExamples:
    """``nlu/emergency.yaml``: ``emergency: {kind: [messages]}`` and ``not_emergency: [messages]``."""
    if not path.exists():
        return EmergencyExamples(emergency=(), not_emergency=())
    return _emergency_examples(read_yaml(path), str(path))


def load_topic_vocabulary(path: Path) -> dict[str, tuple[str, ...]]:
    """``nlu/topic_concepts.yaml``: ``{class: [words or phrases]}`` (none is fine)."""
    if not path.exists():
        return {}
    raw = read_yaml(path)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise NLUDataError(f"{path}: expected {{class: [words or phrases]}}")
    return {str(name): _messages(entries, f"{path}: {name}") for name, entries in raw.items()}


def load_training_file(path: Path) -> tuple[EmergencyExamples, tuple[tuple[str, str], ...]]:
    """One ``nlu/training/*.yaml`` file: ``emergency``, ``not_emergency`` and ``topics``, each optional."""
    raw = read_yaml(path)
    if not isinstance(raw, dict) or set(raw) - {"emergency", "not_emergency", "topics", "source"}:
        raise NLUDataError(f"{path}: expected the keys source, emergency, not_emergency and topics")
    return _emergency_examples(raw, str(path)), _labelled(raw.get("topics"), LABELS, f"{path}: topics")


def load_training_data(knowledge_dir: Path) -> TrainingData:
    """Articles, topic examples and emergency examples of a knowledge folder (never a held-out set)."""
    articles = load_articles(knowledge_dir)
    nlu = knowledge_dir / "nlu"
    sources: dict[str, str] = {}

    def note(source: str, texts: Any) -> None:
        for text in texts:
            sources.setdefault(text, source)

    for article in articles:
        note(f"articles/{article.id}", article.examples)
    extra = load_topic_examples(nlu / "topics.yaml")
    note("topics.yaml", (text for _, text in extra))
    emergency = load_emergency_examples(nlu / "emergency.yaml")
    note("emergency.yaml", [*(text for _, text in emergency.emergency), *emergency.not_emergency])
    for path in sorted((nlu / "training").glob("*.yaml")):
        more, topics = load_training_file(path)
        source = f"training/{path.name}"
        note(source, [*(text for _, text in more.emergency), *more.not_emergency, *(t for _, t in topics)])
        emergency = EmergencyExamples(
            emergency=emergency.emergency + more.emergency,
            not_emergency=emergency.not_emergency + more.not_emergency,
        )
        extra += topics
    from_articles = tuple((article.topic, text) for article in articles for text in article.examples)
    return TrainingData(
        articles=articles,
        topic_examples=from_articles + extra,
        emergency=emergency,
        extra_topic_examples=extra,
        sources=sources,
        topic_vocabulary=load_topic_vocabulary(nlu / "topic_concepts.yaml"),
    )


def _cases(raw: Any, where: str) -> tuple[Case, ...]:
    """The records of a held-out file: the first set's three lists, or ``messages: [{text, ...}]``."""
    if not isinstance(raw, dict):
        raise NLUDataError(f"{where}: expected messages: [...] (or topics, emergency and not_emergency)")
    if "messages" not in raw:
        return (
            *(Case(text, label, False) for label, text in _labelled(raw.get("topics"), LABELS, where)),
            *(Case(text, None, True) for text in _messages(raw.get("emergency"), f"{where}: emergency")),
            *(
                Case(text, None, False, hard=True)
                for text in _messages(raw.get("not_emergency"), f"{where}: not_emergency")
            ),
        )
    records = raw["messages"]
    if not isinstance(records, list):
        raise NLUDataError(f"{where}: messages must be a list of {{text, emergency, kind, topic}}")
    cases: list[Case] = []
    for number, record in enumerate(records, 1):
        at = f"{where}: message {number}"
        if not isinstance(record, dict) or not str(record.get("text") or "").strip():
            raise NLUDataError(f"{at}: expected text, emergency, topic (and kind for an emergency)")
        emergency, kind, topic = record.get("emergency"), record.get("kind"), record.get("topic")
        if not isinstance(emergency, bool) or topic not in LABELS:
            raise NLUDataError(f"{at}: emergency must be true or false and topic one of {', '.join(LABELS)}")
        if emergency and kind not in EMERGENCY_KINDS:
            raise NLUDataError(f"{at}: kind must be one of {', '.join(EMERGENCY_KINDS)}")
        cases.append(
            Case(
                str(record["text"]).strip(),
                str(topic),
                emergency,
                str(kind) if emergency else None,
                not emergency,
            )
        )
    return tuple(cases)


def load_heldout(knowledge_dir: Path, name: str = "heldout") -> HeldOut:
    """One held-out set, ``nlu/<name>.yaml``."""
    path = knowledge_dir / "nlu" / f"{name}.yaml"
    return HeldOut(name=name, cases=_cases(read_yaml(path), str(path)))


def load_heldouts(knowledge_dir: Path) -> tuple[HeldOut, ...]:
    """Every held-out set of the folder (``nlu/heldout*.yaml``), by name."""
    return tuple(
        load_heldout(knowledge_dir, path.stem)
        for path in sorted((knowledge_dir / "nlu").glob("heldout*.yaml"))
    )
