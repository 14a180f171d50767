"""A first guess at the language of a person who has not chosen one."""

from __future__ import annotations

import re

_ENGLISH = frozenset(
    [
        "i",
        "you",
        "is",
        "are",
        "was",
        "what",
        "how",
        "where",
        "when",
        "does",
        "have",
        "has",
        "need",
        "help",
        "please",
        "want",
        "get",
        "tested",
        "condom",
        "police",
        "safe",
        "hello",
        "hi",
        "thanks",
        "thank",
        "who",
        "why",
        "which",
        "should",
        "would",
        "could",
        "there",
        "this",
        "that",
        "of",
        "for",
        "with",
        "your",
        "yes",
    ]
)
_VIETNAMESE_MARKS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)


def looks_english(text: str) -> bool:
    """True when a message is clearly English (Vietnamese without diacritics is not).

    Words that are also Vietnamese without their marks ("the" = thế, "can" = cần, "me" = mẹ,
    "it" = ít, "my" = mỹ, "do" = đó) are left out of the word list on purpose.
    """
    if _VIETNAMESE_MARKS.search(text):
        return False
    words = re.findall(r"[a-z']+", text.lower())
    if not words:
        return False
    hits = sum(1 for w in words if w in _ENGLISH)
    return hits >= 2 or (len(words) == 1 and words[0] in {"hello", "hi", "help", "english"})


def guess_locale(text: str) -> str | None:
    """``en`` for clear English, ``vi`` for text with Vietnamese marks, None when it cannot tell."""
    if _VIETNAMESE_MARKS.search(text):
        return "vi"
    return "en" if looks_english(text) else None
