"""Replies as plain Zalo texts: choices as a numbered list, long texts split under the platform's limit.

Neither Zalo door has buttons. The last list of choices in a batch is numbered: those are the choices of
the node the conversation now waits on, and the engine maps a typed ``2`` (or the label itself) to the
second of them. Earlier lists in the same batch (related articles) are shown as bullets, so that a
number is never ambiguous.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import Reply

TEXT_LIMIT = 2000  # characters per message, on both Zalo doors (counted as UTF-16 units, like Zalo)
SEPARATORS = ("\n\n", "\n", " ")


def units(text: str) -> int:
    """The length as Zalo counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def block(reply: Reply, *, numbered: bool) -> str:
    """One reply as text, with its choices below it."""
    if not reply.choices:
        return reply.text
    if numbered:
        lines = [f"{n}. {choice.label}" for n, choice in enumerate(reply.choices, start=1)]
    else:
        lines = [f"• {choice.label}" for choice in reply.choices]
    return reply.text.rstrip() + "\n\n" + "\n".join(lines)


def blocks(replies: Sequence[Reply]) -> list[str]:
    """Each reply as text; only the last list of choices is numbered."""
    last = max((i for i, reply in enumerate(replies) if reply.choices), default=-1)
    return [
        block(reply, numbered=i == last) for i, reply in enumerate(replies) if reply.text or reply.choices
    ]


def split(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut a text into parts of at most ``limit`` units, at a paragraph, line or word where possible."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if units(rest) <= limit:
            parts.append(rest)
            break
        cut = limit
        while units(rest[:cut]) > limit:  # emoji take two units
            cut -= 1
        head = rest[:cut]
        for separator in SEPARATORS:
            at = head.rfind(separator)
            if at > limit // 3:
                head = head[:at]
                break
        parts.append(head.rstrip())
        rest = rest[len(head) :].strip()
    return [part for part in parts if part]


def messages(replies: Sequence[Reply], limit: int = TEXT_LIMIT, *, pack: bool = False) -> list[str]:
    """The texts to send for one batch of replies.

    Without ``pack`` each reply is its own message (split when too long). With ``pack`` replies are
    joined into as few messages as fit, for a door that counts every message (the OA's free-reply window).
    """
    texts = blocks(replies)
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
