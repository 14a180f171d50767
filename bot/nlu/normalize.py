"""Normalisation shared by everything that reads what people type.

``normalize("Cứuuu e vs, ck đang đánh e 😭")`` gives ``"cuu em voi chong dang danh em buon"``: Unicode NFC,
lower case, emoji mapped to words or dropped, punctuation to spaces, letters repeated three times or more
squeezed, chat abbreviations expanded, diacritics folded (``đ`` to ``d``). Training examples, lexicon
phrases and incoming messages all pass through the same function, so they meet on the same form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bot.nlu.chat_words import ABBREVIATIONS, DOUBLE_LETTER_WORDS, EMOJI

__all__ = ["fold", "has_words", "normalize", "tokens"]

_REPEATED_LETTER = re.compile(r"([^\W\d_])\1{2,}")
_NOT_WORD = re.compile(r"[\W_]+")
# Everyday words that fold into a danger word, told apart while their diacritics are still there: "từ từ"
# (slowly, "từ từ rồi tính") folds to "tu tu", like "tự tử" (suicide). Typed with its accents it is never
# the danger word, so it becomes a synonym that folds to nothing dangerous. Without accents the two stay
# the same words, and the lexicon and the classifier decide from the rest of the message.
#
# The other way round, a danger word typed with its accents is never the everyday word it folds like:
# "tự vẫn" (suicide) folds to "tu van", like "tư vấn" (counselling), which is in half of all questions, so
# "em muốn tự vẫn" was only asked about. Typed with accents, it and "tự tử" become "tự sát", which folds
# to nothing everyday.
#
# Two more forms meet their plain words here. "đánh thức" (wake) becomes "gọi dậy": "đánh" in it is no
# beating, and "không đánh thức được" (cannot be woken, a sign of overdose) then reads like "gọi không
# dậy". A word censored with a star or an at sign ("r*ped", "r@pe") is the word itself. "bị bạn" (by a
# friend) folds like "bị bán" (sold): typed with its accents it becomes "bị người bạn", so "em bị bạn làm
# phiền hoài" no longer shares "bi ban" with "em bị bán sang Trung Quốc" (the classifier paged it, 0.85).
#
# Each pattern comes with the strings one of which any match holds: a message with none of them (nearly
# every message) is not searched.
_EVERYDAY_ALIKE: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = (
    (re.compile(r"(?<!\w)từ từ(?!\w)"), "thong thả", ("từ từ",)),
    (re.compile(r"(?<!\w)tự (vẫn|tử)(?!\w)"), "tự sát", ("tự ",)),
    (re.compile(r"(?<!\w)(?:đánh|danh) (?:thức|thuc)(?!\w)"), "gọi dậy", ("nh th",)),
    (re.compile(r"(?<!\w)r[*@]p(e|ed|es|ing|ist)(?!\w)"), r"rap\1", ("r*p", "r@p")),
    (re.compile(r"(?<!\w)bị bạn(?!\w)"), "bị người bạn", ("bị bạn",)),
)
# "bị hỏng" (broken) is folded to "bi hong", which is also chat for "không": keep it after these words.
_HONG_KEPT_AFTER = frozenset({"bi", "da", "lam", "hu", "roi"})


def fold(text: str) -> str:
    """Remove Vietnamese (and other Latin) diacritics; ``đ``/``Đ`` become ``d``/``D``. Case is kept."""
    return _fold_word(text) if len(text) <= _CACHED_LENGTH else _fold(text)


_CACHED_LENGTH = 32
"""Words up to this length are folded once and remembered: people type the same few thousand words."""


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped.replace("đ", "d").replace("Đ", "D"))


_fold_word = lru_cache(maxsize=16384)(_fold)


def has_words(text: str) -> bool:
    """True when the text has at least one letter or digit (not only emoji, punctuation or space)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


# Letters, digits, punctuation and Vietnamese diacritics: no emoji or other symbol can be among them, so a
# message made only of these skips the character-by-character pass (a symbol here that is not a word
# character becomes a space with the rest of the punctuation anyway).
_MAYBE_EMOJI = re.compile(r"[^\x00-\u024f\u0300-\u036f\u1e00-\u1eff]")


def _map_emoji(text: str) -> str:
    if not _MAYBE_EMOJI.search(text):
        return text
    out: list[str] = []
    for ch in text:
        word = EMOJI.get(ch)
        if word is not None:
            out.append(f" {word} ")
        elif ch in "\ufe0f\u200d" or unicodedata.category(ch) in {"So", "Sk", "Cs", "Co"}:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def _squeeze(token: str) -> str:
    """Squeeze letters repeated three times or more, keeping a double where the word has one."""
    if not _REPEATED_LETTER.search(token):
        return token
    double = _REPEATED_LETTER.sub(r"\1\1", token)
    if fold(double) in DOUBLE_LETTER_WORDS:
        return double
    return _REPEATED_LETTER.sub(r"\1", token)


def _word(raw: str) -> tuple[bool, tuple[str, ...]]:
    """Whether a word as typed is "hong" (kept after some words, see :func:`tokens`), and its words:
    repeats squeezed, an abbreviation expanded, diacritics folded."""
    token = raw if raw in ABBREVIATIONS else _squeeze(raw)
    expanded = ABBREVIATIONS.get(token)
    return token in {"hong", "hông"}, tuple((expanded if expanded is not None else fold(token)).split())


_cached_word = lru_cache(maxsize=16384)(_word)
"""Each word is normalised once and remembered (as :func:`fold`: people type the same few thousand)."""


def tokens(text: str) -> list[str]:
    """The normalised words of ``text`` (see :func:`normalize`)."""
    text = unicodedata.normalize("NFC", text).casefold()
    for pattern, everyday, needles in _EVERYDAY_ALIKE:
        if any(needle in text for needle in needles):
            text = pattern.sub(everyday, text)
    text = _map_emoji(text)
    out: list[str] = []
    for raw in _NOT_WORD.sub(" ", text).split():
        hong, words = _cached_word(raw) if len(raw) <= _CACHED_LENGTH else _word(raw)
        if hong and out and out[-1] in _HONG_KEPT_AFTER:
            out.append("hong")
            continue
        out.extend(words)
    return out


def normalize(text: str) -> str:
    """Normalise a message: NFC, case, emoji, punctuation, repeats, abbreviations, diacritics folded."""
    return " ".join(tokens(text))
