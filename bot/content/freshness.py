"""Whether the facts are still current: laws listed as replaced (``knowledge/replaced.yaml``) must not be
cited, and legal articles whose facts were last checked long ago are named.

An article's ``checked:`` date says when its facts were last compared with their sources. Law changes
(Vietnam replaced its decree on administrative fines in 2025 and made some drug use a crime), so
``hotline check`` warns about legal articles checked more than :data:`LEGAL_MAX_AGE_DAYS` ago, and fails on
any sentence that names a replaced instrument without also naming what replaced it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content.fields import Errors, LocalText, get_local, get_str
from bot.errors import ContentError
from bot.yamlfile import LineDict, LineList, file_lines, line_with, load_yaml

if TYPE_CHECKING:
    from bot.content.knowledge import Article

LEGAL_MAX_AGE_DAYS = 365
CHECKED_PARTS = ("title", "answer", "voice", "more")  # examples are what people type: they may cite anything
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Replacement:
    """A law or decree that another replaced."""

    old: tuple[str, ...]
    new: tuple[str, ...]
    since: dt.date
    what: LocalText
    source: str

    def cited_as_current(self, text: str) -> str | None:
        """The first spelling of the old instrument in ``text`` on a sentence that does not name the new one."""
        folded = text.casefold()
        if not any(old.casefold() in folded for old in self.old):
            return None  # most texts never name it: no need to split them into sentences
        for sentence in sentences(text):
            lowered = sentence.casefold()
            if any(new.casefold() in lowered for new in self.new):
                continue
            for old in self.old:
                if old.casefold() in lowered:
                    return old
        return None


def sentences(text: str) -> list[str]:
    """Lines split at a full stop that ends a sentence (not "art. 32" or "e.g. the"): before a capital."""
    result: list[str] = []
    for line in text.splitlines():
        for index, piece in enumerate(SENTENCE_END.split(line)):
            if index and piece[:1] and not piece[:1].isupper():
                result[-1] += " " + piece
            else:
                result.append(piece)
    return result


def read_replaced(path: Path, root: Path, errors: Errors) -> list[Replacement]:
    data = load_yaml(path, relative_to=root)
    items = data.get("replaced") if isinstance(data, LineDict) else None
    if not isinstance(items, LineList):
        errors.add(1, "`replaced` must be a list of {old, new, since, what, source}")
        return []
    result: list[Replacement] = []
    for item in items:
        if not isinstance(item, LineDict):
            errors.add(items.line, "each entry of `replaced` must be a mapping")
            continue
        spellings = {}
        for key in ("old", "new"):
            value = item.get(key)
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                errors.at(item, key, f"`{key}` must list how the instrument is written")
                value = []
            spellings[key] = tuple(value)
        since = item.get("since")
        if not isinstance(since, dt.date):
            errors.at(item, "since", "`since` must be a date written YYYY-MM-DD")
        what = get_local(item, "what", errors)
        source = get_str(item, "source", errors)
        if spellings["old"] and spellings["new"] and isinstance(since, dt.date) and what and source:
            result.append(Replacement(spellings["old"], spellings["new"], since, what, source))
    return result


def replaced_citations(
    articles: Iterable[Article], replacements: list[Replacement], root: Path
) -> list[ContentError]:
    """One error per article text (and source) that cites a replaced instrument as if it were in force."""
    found: list[ContentError] = []
    for article in articles:
        texts = [
            (f"{part}.{locale}", getattr(article, part).get(locale))
            for part in CHECKED_PARTS
            for locale in ("vi", "en")
        ]
        texts += [("sources", source) for source in article.sources]
        for replacement in replacements:
            for where, text in texts:
                old = replacement.cited_as_current(text)
                if old is None:
                    continue
                found.append(
                    ContentError(
                        article.path,
                        _line_with(root / article.path, old, text),
                        f"`{where}` cites {old!r} as if in force; since {replacement.since.isoformat()}: "
                        f"{replacement.what.en} (knowledge/replaced.yaml). Cite the one in force, or name "
                        "both in one sentence to tell the history",
                    )
                )
    return found


def stale_legal(
    articles: Iterable[Article], today: dt.date, max_age_days: int = LEGAL_MAX_AGE_DAYS
) -> list[str]:
    """Warnings for legal articles whose facts were last checked too long ago (or on a day still to come)."""
    warnings: list[str] = []
    for article in articles:
        if article.checked is None:
            continue
        if article.checked > today:
            warnings.append(
                f"{article.path}: `checked` is {article.checked.isoformat()}, a day still to come"
            )
        elif article.topic == "legal" and (today - article.checked).days > max_age_days:
            warnings.append(
                f"{article.path}: legal facts last checked {article.checked.isoformat()}, more than "
                f"{max_age_days // 30} months ago: compare them with the law in force and update `checked`"
            )
    return warnings


def _line_with(path: Path, needle: str, text: str) -> int | None:
    """The file line where ``needle`` appears in ``text`` (folded YAML spreads a text over several lines)."""
    lines = file_lines(path)
    first_words = text.strip().split("\n")[0][:30]
    start = (line_with(lines, first_words, any_case=True) or 1) if first_words else 1
    return line_with(lines, needle, start, any_case=True) or line_with(lines, needle, any_case=True)
