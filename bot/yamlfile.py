"""YAML that remembers where things are, so every content error names its file and line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.errors import ContentError


class LineDict(dict[str, Any]):
    """A mapping read from YAML, with the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence read from YAML, with its line and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


# libyaml's parser when PyYAML has it: the service reads every content file at start, ten times faster
# (0.6 s less); nodes carry the same line marks either way.
if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain word", key_node.start_mark
            )
        key = str(key)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def parse_yaml(text: str) -> Any:
    """Parse YAML text into :class:`LineDict` and :class:`LineList` values (plain values otherwise).

    Raises ``yaml.YAMLError`` (a ``yaml.MarkedYAMLError`` carries the line) on malformed text.
    """
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def load_yaml(path: Path, *, relative_to: Path | None = None) -> Any:
    """Read a YAML file; a syntax error becomes a :class:`ContentError` with the file and line."""
    shown = display_path(path, relative_to)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(shown, None, f"not UTF-8 text ({exc.reason})") from exc
    try:
        return parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ContentError(shown, line, f"YAML error: {exc.problem or exc}") from exc


def display_path(path: Path, relative_to: Path | None = None) -> str:
    base = relative_to or Path.cwd()
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def line_of(container: Any, key: str | int) -> int | None:
    """The line of ``container[key]`` where known."""
    if isinstance(container, LineDict) and isinstance(key, str):
        return container.line_of(key)
    if isinstance(container, LineList) and isinstance(key, int):
        return container.line_of(key)
    return getattr(container, "line", None)


def file_lines(path: Path) -> list[str]:
    """A content file's lines (none when it cannot be read), for finding where a text sits in it."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def line_with(lines: list[str], needle: str, after: int = 1, *, any_case: bool = False) -> int | None:
    """The number of the first line at or after line ``after`` that holds ``needle``."""
    if any_case:
        needle = needle.casefold()
    for number in range(max(after, 1), len(lines) + 1):
        line = lines[number - 1].casefold() if any_case else lines[number - 1]
        if needle in line:
            return number
    return None
