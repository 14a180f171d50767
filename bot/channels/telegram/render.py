"""Rendering the engine's replies as Telegram messages: plain text, split at the length limit, choices as buttons.

Text is sent without a parse mode, so nothing in the content can break Telegram's markup parser. A reply
longer than Telegram's 4,096 characters becomes several messages, cut at a paragraph, a line or a space;
its choices go under the last one as an inline keyboard, one button a row (labels are long and phones
are narrow). A button's callback data is the choice id, which comes back as the person's choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.errors import HotlineError
from bot.messages import Choice, Reply

MAX_TEXT = 4096  # Telegram's limit on a message's text, counted in UTF-16 code units
MAX_CALLBACK_BYTES = 64  # Telegram's limit on a button's callback data
EMPTY_TEXT = "…"  # Telegram refuses an empty message; a menu without words still needs one


class RenderError(HotlineError):
    """A reply Telegram cannot show (a choice id over 64 bytes): a content mistake `hotline check` reports."""


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message to send: its text and, on the last part of a reply, the keyboard."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


def render(replies: Sequence[Reply]) -> list[Outgoing]:
    """The messages for some replies, in order."""
    messages: list[Outgoing] = []
    for reply in replies:
        board = keyboard(reply.choices)
        if not reply.text.strip() and board is None:
            continue
        parts = split_text(reply.text) or [EMPTY_TEXT]
        messages.extend(Outgoing(part) for part in parts[:-1])
        messages.append(Outgoing(parts[-1], board))
    return messages


def keyboard(choices: Sequence[Choice]) -> InlineKeyboardMarkup | None:
    """An inline keyboard with one button a row, or None when there is nothing to choose."""
    if not choices:
        return None
    rows = [[InlineKeyboardButton(text=c.label, callback_data=callback_data(c.id))] for c in choices]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def callback_data(choice_id: str) -> str:
    """The choice id as callback data, refused when Telegram would refuse it (over 64 bytes)."""
    size = len(choice_id.encode("utf-8"))
    if not 1 <= size <= MAX_CALLBACK_BYTES:
        raise RenderError(
            f"choice id of {size} bytes does not fit Telegram's {MAX_CALLBACK_BYTES}-byte button limit; "
            "shorten it in flows/ or knowledge/ (`hotline check` names it)"
        )
    return choice_id


def utf16_length(text: str) -> int:
    """The length Telegram counts: characters outside the basic plane (most emoji) count twice."""
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` UTF-16 units, preferring paragraph, line, then word breaks."""
    text = text.strip()
    parts: list[str] = []
    while utf16_length(text) > limit:
        fit = _longest_prefix(text, limit)
        cut = _break_point(text, fit, minimum=limit // 4)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def _longest_prefix(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _break_point(text: str, fit: int, *, minimum: int) -> int:
    """Where to cut within the first ``fit`` characters: after the last paragraph, line or space break."""
    window = text[:fit]
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at >= minimum:
            return at + len(separator)
    return fit
