"""Turning Telegram's messages and button taps into the engine's :class:`InboundMessage`.

Only what the engine needs is taken: the chat id (the engine keys the person by its HMAC and encrypts
it as the address to reply to), the words or the chosen button, and an id for de-duplication. The
person's name, username and language are never read.

* Text goes to the engine as it is; a photo's or a document's caption counts as text (someone may write
  about an emergency under a picture). ``/start`` (with or without a deep-link payload) is the
  ``start`` event; other commands (``/menu``, ``/xoa`` ...) are words the flows know.
* Stickers, photos, voice notes, files, locations, shared contacts and the like are ``unsupported``:
  the engine answers that only text can be read. Nothing of them is kept.
* Service messages (a pinned message, a timer change) are not a person writing: None.
"""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message

from bot.messages import InboundMessage

NAME = "telegram"

UNSUPPORTED = frozenset(
    {
        ContentType.ANIMATION,
        ContentType.AUDIO,
        ContentType.CHECKLIST,
        ContentType.CONTACT,
        ContentType.DICE,
        ContentType.DOCUMENT,
        ContentType.GAME,
        ContentType.LIVE_PHOTO,
        ContentType.LOCATION,
        ContentType.PAID_MEDIA,
        ContentType.PHOTO,
        ContentType.POLL,
        ContentType.STICKER,
        ContentType.STORY,
        ContentType.VENUE,
        ContentType.VIDEO,
        ContentType.VIDEO_NOTE,
        ContentType.VOICE,
    }
)


def from_message(message: Message, *, max_chars: int) -> InboundMessage | None:
    """The engine's message for a person's Telegram message, or None when it is not one to answer."""
    chat_id = str(message.chat.id)
    transport_id = f"{chat_id}:{message.message_id}"
    words = message.text if message.text is not None else message.caption
    if words is not None and words.strip():
        words = _bare_command(words.strip())
        if words == "/start" or words.startswith("/start "):
            return InboundMessage(NAME, chat_id, transport_id=transport_id, address=chat_id, kind="start")
        return InboundMessage(
            NAME, chat_id, text=words[:max_chars], transport_id=transport_id, address=chat_id, kind="text"
        )
    if message.content_type in UNSUPPORTED:
        return InboundMessage(NAME, chat_id, transport_id=transport_id, address=chat_id, kind="unsupported")
    return None


def from_callback(query: CallbackQuery) -> InboundMessage | None:
    """The engine's ``choice`` for a tap on one of the bot's buttons, or None when it cannot be one."""
    if not query.data or query.message is None:
        return None
    chat_id = str(query.message.chat.id)
    return InboundMessage(
        NAME, chat_id, choice=query.data, transport_id=f"cb:{query.id}", address=chat_id, kind="choice"
    )


def _bare_command(text: str) -> str:
    """``/help@SomeBot rest`` -> ``/help rest``: the bot's name after a command is not part of it."""
    if not text.startswith("/"):
        return text
    command, space, rest = text.partition(" ")
    return command.split("@", 1)[0] + space + rest
