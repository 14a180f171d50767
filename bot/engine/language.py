"""A first guess at the language of a person who has not chosen one."""

from __future__ import annotations

import re

_ENGLISH_WORDS = (
    "i i'm im my you your he she they we his her him them is are was were been have has had will would "
    "could should can't don't won't doesn't didn't isn't not and but or if what how where when why who "
    "which does did get got took take please want need help know tell talk person someone somebody "
    "anyone real hello hi thanks thank yes there this that these those of for with from about after "
    "before because tested condom police safe money work doctor clinic pregnant pills passport boss "
    "friend boyfriend husband client clients hurt scared afraid kill raped"
)
_ENGLISH = frozenset(_ENGLISH_WORDS.split())
_VIETNAMESE_MARKS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)


def looks_english(text: str) -> bool:
    """True when a message is clearly English (Vietnamese without diacritics is not).

    Words that are also Vietnamese without their marks ("the" = thế, "can" = cần, "me" = mẹ,
    "it" = ít, "do" = đó, "on" = ổn, "an" = ăn) are left out of the word list on purpose, and it takes
    two English words to decide ("my" alone may be Mỹ Tho).
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
