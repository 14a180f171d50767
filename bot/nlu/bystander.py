"""Is a message about someone else? ``about_other("ban em bi soc thuoc")`` is True.

A bystander ("bạn em bị sốc thuốc", "chị ấy đang bị đánh", "my friend was raped") needs other words than
the person in danger: what *you* can do for your friend, not "are you safe?". The phrases are content,
in ``knowledge/nlu/bystander.yaml``, written like the emergency lexicon's (:func:`compile_phrase`) and
matched on the normalised text (:func:`bot.nlu.normalize.normalize`).

The rule: about someone else when an ``other`` phrase is found and no ``self`` phrase is found in what
is left once the ``other`` phrases are taken out, so that "bạn em đánh em" (my friend hits me) is about
the writer. In doubt the answer is no: a person in danger answered as a bystander is worse off than a
bystander asked whether they are safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.nlu.data import read_yaml
from bot.nlu.errors import NLUDataError
from bot.nlu.lexicon import compile_phrase

BYSTANDER_FILE = Path("nlu") / "bystander.yaml"
"""Where the phrases live, inside the knowledge folder."""


@dataclass(frozen=True)
class Bystander:
    """Compiled ``other`` and ``self`` phrases; :meth:`about_other` runs on a normalised message."""

    other: tuple[re.Pattern[str], ...]
    self_: tuple[re.Pattern[str], ...]

    @classmethod
    def from_data(cls, raw: Any, *, source: str = "bystander") -> Bystander:
        """Build from the parsed YAML mapping (``other`` and ``self``: lists of phrases)."""
        if not isinstance(raw, dict):
            raise NLUDataError(f"{source}: expected a mapping with `other` and `self` lists of phrases")
        unknown = set(raw) - {"spec", "review", "other", "self"}
        if unknown:
            raise NLUDataError(f"{source}: unknown fields {sorted(unknown)}; use `other` and `self`")
        return cls(
            _phrases(raw.get("other"), f"{source}: other"), _phrases(raw.get("self"), f"{source}: self")
        )

    @classmethod
    def empty(cls) -> Bystander:
        """A detector without phrases: every message is about the writer (the safe default)."""
        return cls((), ())

    @classmethod
    def load(cls, knowledge_dir: Path) -> Bystander:
        """Read ``<knowledge>/nlu/bystander.yaml``."""
        path = knowledge_dir / BYSTANDER_FILE
        return cls.from_data(read_yaml(path), source=str(path))

    def about_other(self, normalized: str) -> bool:
        """Whether the message tells of someone else in danger (and not of the writer)."""
        text = normalized + " "  # phrases end with a space: see compile_phrase
        rest = text
        for pattern in self.other:
            rest = pattern.sub("", rest)
        if rest == text:
            return False
        return not any(pattern.search(rest) for pattern in self.self_)


def _phrases(value: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise NLUDataError(f"{where}: expected a list of phrases")
    compiled: list[re.Pattern[str]] = []
    for phrase in value:
        try:
            compiled.append(compile_phrase(phrase))
        except NLUDataError as exc:
            raise NLUDataError(f"{where}: {exc}") from exc
    return tuple(compiled)
