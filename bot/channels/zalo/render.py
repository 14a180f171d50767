"""Replies as plain Zalo texts: choices as a numbered list, long texts split under the platform's limit.

Neither Zalo door has buttons: choices are the kit's numbered text (:func:`bot.channels.kit.blocks`).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels import kit
from bot.messages import Reply

TEXT_LIMIT = 2000  # characters per message, on both Zalo doors (counted as UTF-16 units, like Zalo)


def units(text: str) -> int:
    """The length as Zalo counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def split(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut a text into parts of at most ``limit`` units (:func:`bot.channels.kit.split`)."""
    return kit.split(text, limit, units)


def messages(replies: Sequence[Reply], limit: int = TEXT_LIMIT, *, pack: bool = False) -> list[str]:
    """The texts to send for one batch of replies.

    Without ``pack`` each reply is its own message (split when too long). With ``pack`` replies are
    joined into as few messages as fit, for a door that counts every message (the OA's free-reply window).
    """
    texts = kit.blocks(replies)
    if not pack:
        return [part for text in texts for part in split(text, limit)]
    out: list[str] = []
    current = ""
    for text in texts:
        joined = f"{current}\n\n{text}" if current else text
        if units(joined) <= limit:
            current = joined
            continue
        if current:
            out.append(current)
        *whole, current = split(text, limit) or [""]
        out.extend(whole)
    if current:
        out.append(current)
    return out
