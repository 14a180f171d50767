"""Reading typed fields out of YAML content, collecting errors that name the file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.errors import ContentError
from bot.yamlfile import LineDict, line_of

LOCALES = ("vi", "en")


@dataclass(frozen=True)
class LocalText:
    """A text in every language the service speaks (Vietnamese first)."""

    vi: str
    en: str

    def get(self, locale: str) -> str:
        return self.en if locale == "en" else self.vi

    def format(self, locale: str, **values: object) -> str:
        return self.get(locale).format(**values)


@dataclass
class Errors:
    """Errors found while reading one file."""

    path: str
    found: list[ContentError] = field(default_factory=list)

    def add(self, line: int | None, message: str) -> None:
        self.found.append(ContentError(self.path, line, message))

    def at(self, container: Any, key: str | int, message: str) -> None:
        self.add(line_of(container, key), message)


def get_str(data: LineDict, key: str, errors: Errors, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            errors.add(data.line, f"`{key}` is missing")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value).strip() == "":
        errors.at(data, key, f"`{key}` must be a non-empty text")
        return None
    return str(value)


def get_local(
    data: LineDict, key: str, errors: Errors, *, required: bool = True, max_len: int | None = None
) -> LocalText | None:
    """Read ``key: {vi: ..., en: ...}``; both languages must be there and non-empty."""
    value = data.get(key)
    if value is None:
        if required:
            errors.add(data.line, f"`{key}` is missing (it needs `vi` and `en`)")
        return None
    if not isinstance(value, LineDict):
        errors.at(data, key, f"`{key}` must have a `vi` and an `en` text")
        return None
    texts: dict[str, str] = {}
    for locale in LOCALES:
        text = value.get(locale)
        if not isinstance(text, str) or not text.strip():
            errors.at(value, locale if locale in value else key, f"`{key}` has no `{locale}` text")
            continue
        text = text.strip()
        if max_len is not None and len(text) > max_len:
            errors.at(value, locale, f"`{key}.{locale}` is {len(text)} characters; at most {max_len}")
        texts[locale] = text
    extra = set(value) - set(LOCALES)
    if extra:
        errors.at(value, sorted(extra)[0], f"`{key}` has an unknown language {sorted(extra)[0]!r}")
    if len(texts) != len(LOCALES):
        return None
    return LocalText(vi=texts["vi"], en=texts["en"])


def check_keys(data: LineDict, allowed: set[str] | frozenset[str], errors: Errors, what: str) -> None:
    for key in data:
        if key not in allowed:
            errors.at(data, key, f"unknown field `{key}` in {what} (allowed: {', '.join(sorted(allowed))})")
