"""The aiogram side: a Dispatcher whose handlers turn private-chat messages and button taps into engine calls.

Only private chats are served here. Messages in groups, supergroups and channels, edited messages and
every other update type match no handler and are left alone. Counsellors' taps and messages are
handled first, by the staff router (:mod:`bot.channels.telegram.staff`).
The channel reaches the handlers by injection (``Dispatcher(channel=...)``), not through a global.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from aiogram import Dispatcher, F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from bot.channels.telegram.inbound import from_callback, from_message
from bot.channels.telegram.staff import staff_router

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel

MENU_WORD = "menu"  # a content command (flows/strings.yaml) that opens the main menu


def build_dispatcher(channel: TelegramChannel) -> Dispatcher:
    """A Dispatcher for this channel (no FSM: the engine keeps the conversation state)."""
    dispatcher = Dispatcher(disable_fsm=True, channel=channel)
    dispatcher.include_router(staff_router())
    dispatcher.include_router(private_chats())
    dispatcher.include_router(other_buttons())
    return dispatcher


def private_chats() -> Router:
    """Messages and button taps in one-to-one chats with the bot."""
    router = Router(name="private-chats")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    router.message.register(on_message)
    router.callback_query.register(on_button)
    return router


async def on_message(message: Message, channel: TelegramChannel) -> None:
    """A person wrote (or sent a sticker, a photo ...): hand it to the engine."""
    inbound = from_message(message, max_chars=channel.door.settings.max_text_chars)
    if inbound is not None:
        await channel.receive(inbound, message_id=message.message_id)


async def on_button(query: CallbackQuery, channel: TelegramChannel) -> None:
    """A person tapped a button: their choice goes to the engine, then the button stops spinning.

    A button from an older version of the content (its choice no longer exists) opens the main menu,
    with a short note saying the option is out of date.
    """
    inbound = from_callback(query)
    notice = None
    if inbound is not None:
        if not channel.door.is_choice(inbound.choice or ""):
            inbound = replace(inbound, kind="text", choice=None, text=MENU_WORD)
            notice = await channel.string_for(inbound.user_id, "unknown_choice")
        await channel.receive(inbound)
    await channel.client.answer_callback(query.id, text=notice)


def other_buttons() -> Router:
    """Taps no other router took: answered, so that the button stops spinning, and nothing else.

    A tap on a button of an inline message, or of a message too old for Telegram to send along, comes
    without ``message``: there is no chat to answer in, but the person's button would spin until it
    times out, which looks as if the service had stopped (issue 16).
    """
    router = Router(name="other-buttons")
    router.callback_query.register(on_other_button)
    return router


async def on_other_button(query: CallbackQuery, channel: TelegramChannel) -> None:
    await channel.client.answer_callback(query.id)
