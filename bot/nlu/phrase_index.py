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
from collections.abc import Callable, Iterable, Mapping, Sequence

Joiner = Callable[[list[re.Pattern[str]]], re.Pattern[str]]


def word_starts(text: str) -> dict[str, list[int]]:
    """Where each word of a text starts (words are separated by spaces)."""
    starts: dict[str, list[int]] = {}
    position = 0
    for word in text.split(" "):
        if word:
            starts.setdefault(word, []).append(position)
        position += len(word) + 1
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
        self._always = join(always) if always else None
        self._by_word = {word: join(patterns) for word, patterns in by_word.items()}

    def search(self, text: str, starts: Mapping[str, Sequence[int]]) -> bool:
        """True when a phrase occurs in ``text`` (normalised, ending with a space); ``starts`` is
        :func:`word_starts` of it."""
        if self._always is not None and self._always.search(text):
            return True
        for word, positions in starts.items():
            pattern = self._by_word.get(word)
            if pattern is not None:
                for position in positions:
                    if pattern.match(text, position):
                        return True
        return False
