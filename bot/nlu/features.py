"""TF-IDF features of normalised text: character n-grams within words plus word n-grams.

Fitted with scikit-learn, then applied to one message by a small pure-Python path (the same analyzers,
written here, the same vocabulary, the same weights) that avoids scikit-learn's per-call overhead: a
message is turned into features in tens of microseconds. :meth:`Features.transform` gives the same rows as
scikit-learn would. A fitted object holds only Python and numpy values, so the service loads a trained
model without importing scikit-learn or SciPy (tens of megabytes and most of a second); those are
imported only to train.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

Analyzer = Callable[[str], list[str]]
WORD = r"(?u)\b\w+\b"
"""What a word is for the word n-grams (scikit-learn's ``token_pattern``, one-letter words kept)."""


@dataclass(frozen=True)
class CharNgramsInWords:
    """scikit-learn's ``char_wb`` analyzer (no preprocessing): character n-grams inside each word padded
    with a space on both sides; a word shorter than an n-gram counts once, whole."""

    low: int
    high: int

    def __call__(self, text: str) -> list[str]:
        grams: list[str] = []
        for word in text.split():
            padded = f" {word} "
            length = len(padded)
            for n in range(self.low, self.high + 1):
                if length <= n:
                    grams.append(padded)
                    break
                grams.extend(padded[i : i + n] for i in range(length - n + 1))
        return grams


@dataclass(frozen=True)
class WordNgrams:
    """scikit-learn's ``word`` analyzer (no preprocessing, no stop words): words, then word n-grams."""

    low: int
    high: int
    pattern: re.Pattern[str] = re.compile(WORD)

    def __call__(self, text: str) -> list[str]:
        words = self.pattern.findall(text)
        grams: list[str] = list(words) if self.low == 1 else []
        for n in range(max(self.low, 2), min(self.high, len(words)) + 1):
            grams.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        return grams


_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
for _array in _EMPTY:
    _array.flags.writeable = False


class FeatureSpace(Protocol):
    """What a classifier needs of its features: one message, or many as a matrix."""

    size: int

    def one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Sparse features of one normalised text as ``(indices, values)``."""
        ...

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """A CSR matrix with one row per normalised text."""
        ...


def rows_to_csr(rows: Iterable[tuple[np.ndarray, np.ndarray]], size: int) -> sp.csr_matrix:
    """Stack sparse rows given as ``(indices, values)`` into a CSR matrix of ``size`` columns (to train)."""
    import scipy.sparse as sp

    data: list[np.ndarray] = []
    columns: list[np.ndarray] = []
    indptr = [0]
    for index, value in rows:
        columns.append(index)
        data.append(value)
        indptr.append(indptr[-1] + len(index))
    count = len(indptr) - 1
    if not data:
        return sp.csr_matrix((count, size), dtype=np.float64)
    return sp.csr_matrix(
        (np.concatenate(data), np.concatenate(columns), np.asarray(indptr)), shape=(count, size)
    )


@dataclass(frozen=True)
class _Block:
    analyzer: Analyzer
    vocabulary: dict[str, int]
    """Each n-gram's column among all the features (the block's ``offset`` added)."""
    idf: np.ndarray
    offset: int
    words: dict[str, tuple[int, ...]] | None = None
    """For character n-grams within words: each word of the fitted texts with the vocabulary columns of
    its n-grams (repeats kept), so a known word costs one lookup instead of a dozen slices and lookups."""

    def columns(self, text: str) -> list[int]:
        """The feature columns of ``text``'s n-grams, once per occurrence (unknown n-grams left out)."""
        if self.words is None:
            return [index for index in map(self.vocabulary.get, self.analyzer(text)) if index is not None]
        known: list[int] = []
        for word in text.split():
            columns = self.words.get(word)
            known.extend(self._word_columns(word) if columns is None else columns)
        return known

    def _word_columns(self, word: str) -> tuple[int, ...]:
        return tuple(index for index in map(self.vocabulary.get, self.analyzer(word)) if index is not None)


class Features:
    """Fitted TF-IDF features: ``char_wb`` 2-5-grams and word 1-2-grams, each block L2-normalised."""

    def __init__(self, texts: Sequence[str], *, char_ngrams: tuple[int, int] = (2, 5)) -> None:
        """Fit on already-normalised ``texts``."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        analyzers: list[Analyzer] = [CharNgramsInWords(*char_ngrams), WordNgrams(1, 2)]
        vectorizers = [TfidfVectorizer(analyzer=analyzer, sublinear_tf=True) for analyzer in analyzers]
        blocks: list[_Block] = []
        offset = 0
        corpus = list(texts) or [""]
        for analyzer, vectorizer in zip(analyzers, vectorizers, strict=True):
            try:
                vectorizer.fit(corpus)
            except ValueError:  # empty vocabulary: nothing to learn from
                vectorizer.fit(["_"])
            vocabulary = {str(key): int(value) + offset for key, value in vectorizer.vocabulary_.items()}
            block = _Block(
                analyzer=analyzer,
                vocabulary=vocabulary,
                idf=np.asarray(vectorizer.idf_, dtype=np.float64),
                offset=offset,
            )
            if isinstance(analyzer, CharNgramsInWords):  # n-grams never cross a word: a table per word
                known = {word for text in corpus for word in text.split()}
                table = {word: block._word_columns(word) for word in sorted(known)}
                block = replace(block, words=table)
            blocks.append(block)
            offset += len(vocabulary)
        self._blocks = tuple(blocks)
        self._idf = np.concatenate([block.idf for block in blocks])
        self._offsets = np.asarray([block.offset for block in blocks], dtype=np.int64)
        self.size = offset
        self._cached_one = lru_cache(maxsize=512)(self._one)

    @property
    def word_columns(self) -> range:
        """The columns of the word n-gram block (the character n-grams come first)."""
        return range(int(self._offsets[-1]), self.size)

    def one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Sparse features of one normalised text as ``(indices, values)`` (read-only arrays).

        The topic classifier, the matcher and the emergency classifier all ask for the same message in
        turn, so the last few hundred answers are kept: one feature pass per message instead of three.
        """
        return self._cached_one(text)

    def forget(self) -> None:
        """Drop the cached feature passes (benchmarks measure a new message each time)."""
        self._cached_one.cache_clear()

    def _one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        # every block's columns in one array, counted once (numpy's per-call cost dominates short messages)
        known: list[int] = []
        for block in self._blocks:
            known.extend(block.columns(text))
        if not known:
            return _EMPTY
        index_array, counts = np.unique(np.asarray(known, dtype=np.int64), return_counts=True)
        # sublinear tf (1 + log count) times idf, each block normalised to length 1
        value_array = (1.0 + np.log(counts)) * self._idf[index_array]
        bounds = [*np.searchsorted(index_array, self._offsets).tolist(), len(index_array)]
        for start, end in itertools.pairwise(bounds):
            if end > start:
                block_values = value_array[start:end]
                block_values /= math.sqrt(float(block_values @ block_values))
        index_array.flags.writeable = False  # shared through the cache: nobody may change them
        value_array.flags.writeable = False
        return index_array, value_array

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """A CSR matrix with one row per normalised text."""
        return rows_to_csr((self.one(text) for text in texts), self.size)
