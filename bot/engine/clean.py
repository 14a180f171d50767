"""Cleaning what people send before anything else reads it.

A message may carry characters that no database, log or encryption layer should ever see: a lone UTF-16
surrogate (a broken emoji from a cheap phone's keyboard, or a JSON ``"\\ud83d"`` escape), NUL and other
control characters, Unicode direction marks that reorder the text on a counsellor's screen, zero-width
characters that split words so that "cứu" no longer matches. Before this module existed, a lone surrogate
inside an emergency gave a 500 at the first encryption and **no escalation was recorded**.

:func:`clean_text` removes them and keeps everything a person meant: letters, digits, punctuation, emoji
(including zero-width joiners inside emoji sequences), line breaks and tabs.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from bot.messages import InboundMessage

# Direction marks and embeddings/isolates (LRM, RLM, ALM, LRE..RLO, LRI..PDI), word joiners and
# invisible operators, the byte-order mark / zero-width no-break space, and zero-width space / non-joiner.
_INVISIBLE = re.compile("[\u061c\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NONCHARACTER = re.compile("[\ufffe\uffff\ufdd0-\ufdef]")
_KEEP_CONTROLS = frozenset("\n\t")


def clean_text(text: str) -> str:
    """``text`` without lone surrogates, control characters, direction marks and noncharacters.

    ``\\r\\n`` and ``\\r`` become ``\\n``; other control characters become a space (so that words they
    separated stay apart); the result is NFC. A surrogate *pair* written as two code points (as some JSON
    encoders do) is joined into the character it encodes first, so a real emoji survives.
    """
    if _SURROGATE.search(text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace("\ufffd", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", _NONCHARACTER.sub("", text))
    if any(unicodedata.category(ch) == "Cc" and ch not in _KEEP_CONTROLS for ch in text):
        text = "".join(
            " " if unicodedata.category(ch) == "Cc" and ch not in _KEEP_CONTROLS else ch for ch in text
        )
    return unicodedata.normalize("NFC", text)


def cleaned(message: InboundMessage) -> InboundMessage:
    """The message with its text cleaned (the same object when there was nothing to clean)."""
    if message.text is None:
        return message
    text = clean_text(message.text)
    return message if text == message.text else dataclasses.replace(message, text=text)
