"""Danger phrases looked up by their first word before any regular expression runs.

A lexicon group (the danger phrases of one kind, the calm frames, the urgent markers) used to be one
alternation of hundreds of phrases, searched for at every word of every message. A phrase can only match
where the message has one of its possible first words (every phrase starts at a word start and each of its
words ends with a space), so :class:`PhraseIndex` joins the phrases that can start with a word into one
pattern for that word, and tries it only where the message has that word; the few phrases whose first word
cannot be known (one starting with ``*``) are searched for as before. The answer is the alternation's,
found several times faster; ``tests/nlu/test_phrase_index.py`` checks it against the alternation on every
example and on generated text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

Joiner = Callable[[list[re.Pattern[str]]], re.Pattern[str]]


def word_positions(text: str) -> Iterator[tuple[str, int]]:
    """Each word of a text (words are separated by spaces) and where it starts, in order."""
    position = 0
    for word in text.split(" "):
        if word:
            yield word, position
        position += len(word) + 1


def word_starts(text: str) -> dict[str, list[int]]:
    """Where each word of a text starts."""
    starts: dict[str, list[int]] = {}
    for word, position in word_positions(text):
        starts.setdefault(word, []).append(position)
    return starts


class PhraseIndex:
    """Whether any of a group's phrases occurs in a normalised text, trying only where one can start."""

    def __init__(
        self, phrases: Iterable[tuple[frozenset[str] | None, re.Pattern[str]]], join: Joiner
    ) -> None:
        """``phrases``: each phrase's possible first words (None when unknown) and its compiled pattern;
        ``join`` makes one pattern of several (the lexicon's alternation)."""
        always: list[re.Pattern[str]] = []
        by_word: dict[str, list[re.Pattern[str]]] = {}
        for first, pattern in phrases:
            if first is None:
                always.append(pattern)
                continue
            for word in sorted(first):
                by_word.setdefault(word, []).append(pattern)
        self.always = join(always) if always else None
        self.by_word = {word: join(patterns) for word, patterns in by_word.items()}

    def search(self, text: str, starts: Mapping[str, Sequence[int]]) -> bool:
        """True when a phrase occurs in ``text`` (normalised, ending with a space); ``starts`` is
        :func:`word_starts` of it."""
        if self.always is not None and self.always.search(text):
            return True
        for word, positions in starts.items():
            pattern = self.by_word.get(word)
            if pattern is not None:
                for position in positions:
                    if pattern.match(text, position):
                        return True
        return False


class PhraseGroups:
    """Several groups' indexes searched in one pass over the message's words.

    Which groups have a phrase in the text: the same answer as each group's :meth:`PhraseIndex.search`,
    with one dictionary lookup per word of the message instead of one per word and group (a message is
    searched for the danger phrases of every kind and the signs of harm: most have none of them).
    """

    def __init__(self, indexes: Mapping[str, PhraseIndex]) -> None:
        """``indexes``: each group's index, by the group's name."""
        by_word: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        for name, index in indexes.items():
            for word, pattern in index.by_word.items():
                by_word.setdefault(word, []).append((name, pattern))
        self._by_word = {word: tuple(entries) for word, entries in by_word.items()}
        self._always = tuple(
            (name, index.always) for name, index in indexes.items() if index.always is not None
        )

    def found(self, text: str, starts: Mapping[str, Sequence[int]]) -> set[str]:
        """The names of the groups with a phrase in ``text`` (normalised, ending with a space);
        ``starts`` is :func:`word_starts` of it."""
        found = {name for name, pattern in self._always if pattern.search(text)}
        for word, positions in starts.items():
            entries = self._by_word.get(word)
            if entries is None:
                continue
            for name, pattern in entries:
                if name not in found and any(pattern.match(text, position) for position in positions):
                    found.add(name)
        return found
