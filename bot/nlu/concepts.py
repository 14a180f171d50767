"""Danger by meaning: the emergency classifier also sees which concept classes a message has.

A TF-IDF model knows only the words of its examples: "hành hung" means nothing to it if every example said
"đánh". The lexicon's ``concepts`` list danger vocabulary by meaning (injury, weapon, confinement,
overdose sign, present time...), and :class:`WithConcepts` adds one feature per class found and one per
pair of classes found together ("present" with "injury" is not "past" with "injury"), so a word that is in
a class but in no example still counts for what it means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from bot.nlu.errors import NLUDataError
from bot.nlu.features import Features, rows_to_csr
from bot.nlu.lexicon import Lexicon
from bot.nlu.normalize import normalize

if TYPE_CHECKING:
    import scipy.sparse as sp

CONCEPT_WEIGHT = 0.6
"""The value of a concept feature (the TF-IDF blocks are each normalised to length 1)."""


class TopicVocabulary:
    """More topic vocabulary by meaning (``nlu/topic_concepts.yaml``): classes the topic classifier sees
    besides the lexicon's ``topic_concepts`` (abuse, a question of rights, work abroad, the chat service,
    everyday life...), each entry a word or a run of words, looked up in the normalised message."""

    def __init__(self, classes: Mapping[str, Sequence[str]] | None = None) -> None:
        classes = classes or {}
        self.names: tuple[str, ...] = tuple(classes)
        self._forms: dict[str, frozenset[int]] = {}
        for index, entries in enumerate(classes.values()):
            for entry in entries:
                form = normalize(entry)
                if form:
                    self._forms[form] = self._forms.get(form, frozenset()) | {index}
        self._longest: dict[str, int] = {}  # for each first word, the most words an entry has
        for form in self._forms:
            first, *rest = form.split()
            self._longest[first] = max(self._longest.get(first, 0), len(rest) + 1)

    def check(self, lexicon: Lexicon) -> None:
        """Fail when a class has the name of one of the lexicon's."""
        clash = sorted(set(self.names) & set(lexicon.all_concept_names))
        if clash:
            raise NLUDataError(f"topic_concepts.yaml: {', '.join(clash)} is already a class of the lexicon")

    def find(self, normalized: str) -> tuple[str, ...]:
        """The classes with an entry in the normalised message, in class order."""
        if not self._forms:
            return ()
        words = normalized.split()
        found: set[int] = set()
        for start, word in enumerate(words):
            span = self._longest.get(word)
            if span is None:
                continue
            for end in range(start + 1, min(start + span, len(words)) + 1):
                classes = self._forms.get(" ".join(words[start:end]))
                if classes:
                    found |= classes
        return tuple(self.names[index] for index in sorted(found))


class WithConcepts:
    """The shared TF-IDF features followed by concept-class and class-pair indicators.

    By default the lexicon's danger concepts (the emergency detector's view); with ``topics``, its topic
    concepts too (the topic classifier's view: police custody, a question of law, drug use...) and the
    classes of ``vocabulary``.
    """

    def __init__(
        self,
        features: Features,
        lexicon: Lexicon,
        *,
        weight: float = CONCEPT_WEIGHT,
        topics: bool = False,
        vocabulary: TopicVocabulary | None = None,
    ) -> None:
        self._features = features
        names = lexicon.all_concept_names if topics else lexicon.concept_names
        self._find: Callable[[str], tuple[str, ...]] = lexicon.all_concepts if topics else lexicon.concepts
        if topics and vocabulary is not None and vocabulary.names:
            vocabulary.check(lexicon)
            names = names + vocabulary.names
            self._find = _Both(lexicon.all_concepts, vocabulary.find)
        self._single = {name: features.size + i for i, name in enumerate(names)}
        offset = features.size + len(names)
        self._pair = {pair: offset + i for i, pair in enumerate(combinations(names, 2))}
        self.size = offset + len(self._pair)
        self._weight = weight
        self._cached_one = lru_cache(maxsize=512)(self._one)

    def one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Sparse features of one normalised text as ``(indices, values)`` (read-only arrays)."""
        return self._cached_one(text)

    def forget(self) -> None:
        """Drop the cached passes (benchmarks measure a new message each time)."""
        self._cached_one.cache_clear()
        self._features.forget()

    def _one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        indices, values = self._features.one(text)
        if not self._single:
            return indices, values
        found = self._find(text)
        extra = [self._single[name] for name in found] + [self._pair[pair] for pair in combinations(found, 2)]
        if not extra:
            return indices, values
        index_array = np.concatenate([indices, np.asarray(extra, dtype=np.int64)])
        value_array = np.concatenate([values, np.full(len(extra), self._weight)])
        index_array.flags.writeable = False
        value_array.flags.writeable = False
        return index_array, value_array

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """A CSR matrix with one row per normalised text."""
        return rows_to_csr((self.one(text) for text in texts), self.size)


class _Both:
    """The classes the lexicon finds, then the vocabulary's (a class, not a closure: the model pickles)."""

    def __init__(
        self, first: Callable[[str], tuple[str, ...]], second: Callable[[str], tuple[str, ...]]
    ) -> None:
        self._first = first
        self._second = second

    def __call__(self, text: str) -> tuple[str, ...]:
        return self._first(text) + self._second(text)
