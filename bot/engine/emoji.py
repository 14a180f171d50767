"""Messages of emoji only: what they say before any words (issue 16: a lone "👍" got "I can only read text").

The safety check reads every message first, emoji included (the language model maps 😭, 🔪, 💊, 🚑 ... to
words, :mod:`bot.nlu.chat_words`), so an emoji that tells of a danger is handled there. What is left here:

* ``"sos"``: 🆘, or a weapon or blood (🔪 🗡 🔫 🩸), in a message without words. It is the distress
  sign, so it is at least a *possible* danger whatever the model says: the engine asks "are you in
  danger right now?" (the model, today, takes 🆘 as an emergency, which goes further: the emergency flow
  and a page).
* ``"thanks"``: every emoji an acknowledgement (👍 🙏 ❤️ 😊 ...): "ok" or "thank you"; answered kindly,
  with the menu.
* ``"other"`` (😢, 😱, "???"): a friendly prompt to type a few words or pick an option.

Skin tones, variation selectors and joiners do not change the meaning. Nothing here is stored.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from bot.nlu import has_words

SOS, THANKS, OTHER = "sos", "thanks", "other"
SOS_SIGN: Final = "\U0001f198"  # 🆘
DANGER_SIGNS: Final = frozenset("🔪🗡🔫🩸")
"""A weapon or blood with no words: like 🆘, at least a possible danger (never 💀 or ☠: "I'm dead",
laughing). The model scored a lone 🔪 ("dao", which also folds like "dạo") either side of its threshold."""
ACKNOWLEDGEMENT: Final = frozenset(
    "👍👌🙏❤♥💕💖💗💓💞💙💚💛💜🧡🤍🖤🫶😊🙂😀😃😄😁☺🥰😍😘🤗😇👏✅✔🆗🤝💯🌹🌸💐👋🙆"
)
"""Emoji that say "ok" or "thank you" when they come alone."""


def emoji_meaning(text: str) -> str | None:
    """:data:`SOS`, :data:`THANKS` or :data:`OTHER` for a message without a letter or a digit; else None."""
    if has_words(text):
        return None
    if SOS_SIGN in text or not DANGER_SIGNS.isdisjoint(text):
        return SOS
    symbols = [ch for ch in text if unicodedata.category(ch) in {"So", "Cs", "Co"}]
    if symbols and all(ch in ACKNOWLEDGEMENT for ch in symbols):
        return THANKS
    return OTHER
