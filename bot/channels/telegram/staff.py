"""Counsellors on Telegram: pages with a "take" button, taking with one tap, talking and closing.

* Pages go to the staff group (``HOTLINE_TELEGRAM_STAFF_CHAT_ID``) and to each counsellor's own chat
  with the bot, with a button whose data is ``take:<escalation id>``. The first tap wins: the group's
  message then shows who took it, and later taps are told.
* A counsellor is recognised by the keyed hash of their Telegram user id (``hotline staff add
  --telegram`` or the rota), never by a name. In their private chat with the bot, what they write goes to
  the person they hold; ``/dong <outcome>`` closes it and the conversation returns to the bot.
* The person's messages reach the counsellor's chat through the outbox (``relay_to_staff``).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.methods import EditMessageText
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.channels.telegram.deferred import warm
from bot.escalation.desk import DeskError
from bot.escalation.paging import Page
from bot.escalation.rota import telegram_user_hash
from bot.settings import Settings
from bot.store.escalations import OUTCOMES
from bot.store.models import Counsellor

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel
    from bot.channels.telegram.client import TelegramClient

log = logging.getLogger(__name__)

TAKE = re.compile(r"^take:(\d{1,12})\Z")  # \Z: "$" would also take "take:1\n"
TAGGED = re.compile(r"#(\d{1,12})\b")
# Outcome words a counsellor may type after /dong, with or without diacritics.
OUTCOME_WORDS = {
    "safe": "safe", "an_toan": "safe", "antoan": "safe", "an toan": "safe",
    "police": "police", "cong_an": "police", "congan": "police", "cong an": "police",
    "health": "health", "y_te": "health", "yte": "health", "y te": "health",
    "shelter": "shelter", "tam_lanh": "shelter", "tamlanh": "shelter", "tam lanh": "shelter",
    "no_contact": "no_contact", "khong_lien_lac": "no_contact", "khong lien lac": "no_contact",
    "other": "other", "khac": "other",
}  # fmt: skip


class TelegramPager:
    """Pages staff through the bot (route ``telegram``): to the staff group and to counsellors' chats."""

    route = "telegram"

    def __init__(self, client: TelegramClient) -> None:
        self.client = client

    def warm(self) -> None:
        """Build the aiogram validators a page uses (:func:`bot.channels.telegram.deferred.warm`)."""
        warm()

    async def page(self, address: str, page: Page) -> None:
        button = InlineKeyboardButton(text=page.button, callback_data=page.take_data)
        await self.client.send_text(int(address), page.text, InlineKeyboardMarkup(inline_keyboard=[[button]]))

    async def notify(self, address: str, text: str) -> None:
        await self.client.send_text(int(address), text)


def build_pager(settings: Settings, *, channel: object) -> TelegramPager | None:
    """The Telegram pager, when the Telegram channel is on (``channel``: the one the runtime built)."""
    from bot.channels.telegram.channel import TelegramChannel

    return TelegramPager(channel.client) if isinstance(channel, TelegramChannel) else None


class _Staff:
    """What the handlers need: the channel's door, the counsellor desk, the client, the staff's language."""

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel
        self.door = channel.door
        self.desk = channel.desk

    def say(self, key: str, **values: object) -> str:
        return self.door.string(key, self.door.settings.staff_locale, **values)

    async def counsellor(self, telegram_user_id: int) -> Counsellor | None:
        return await self.desk.counsellor_by_key(telegram_user_hash(self.door.crypto, str(telegram_user_id)))

    async def held_by(self, counsellor_id: int) -> list[int]:
        return await self.desk.held_by(counsellor_id)


class IsCounsellor(Filter):
    """Passes messages from a registered counsellor, handing the handler the ``counsellor``."""

    async def __call__(self, message: Message, channel: TelegramChannel) -> bool | dict[str, Any]:
        if message.from_user is None:
            return False
        counsellor = await _Staff(channel).counsellor(message.from_user.id)
        return False if counsellor is None else {"counsellor": counsellor}


def staff_router() -> Router:
    """Take buttons anywhere; counsellors' own chats with the bot. Registered before the person-facing router."""
    router = Router(name="staff")
    router.callback_query.register(on_take, F.data.regexp(TAKE.pattern))
    router.message.register(on_counsellor_message, F.chat.type == ChatType.PRIVATE, IsCounsellor())
    router.message.register(ignore_group, F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP}))
    return router


async def ignore_group(message: Message) -> None:
    """Talk in the staff group is for the staff; the bot does not read it."""
    # Debug, not info: every line of the staff's talk comes here. Never the chat id or the text.
    log.debug("telegram: a group message was ignored (the bot reads private chats only)")


async def on_take(query: CallbackQuery, channel: TelegramChannel) -> None:
    """A tap on "take": the first counsellor wins; the group's page shows who took it."""
    staff = _Staff(channel)
    match = TAKE.match(query.data or "")
    assert match is not None
    escalation_id = int(match.group(1))
    counsellor = await staff.counsellor(query.from_user.id)
    if counsellor is None:
        await channel.client.answer_callback(query.id, text=staff.say("staff_not_registered"))
        return
    try:
        result = await staff.desk.take(escalation_id, counsellor.id, via="telegram")
    except DeskError as exc:
        await channel.client.answer_callback(query.id, text=str(exc))
        return
    staff.door.wake()
    if not result.taken:
        await channel.client.answer_callback(
            query.id, text=staff.say("staff_taken_by", id=str(escalation_id), name=result.holder or "?")
        )
        return
    await channel.client.answer_callback(query.id, text=staff.say("staff_you_took", id=str(escalation_id)))
    message = query.message
    if isinstance(message, Message) and message.text:
        taken = staff.say("staff_taken_by", id=str(escalation_id), name=counsellor.display_name)
        try:
            await channel.client.call(
                EditMessageText(
                    chat_id=message.chat.id, message_id=message.message_id, text=f"{message.text}\n✅ {taken}"
                )
            )
        except Exception as exc:  # the page stays as it was; the take itself is done
            log.info("telegram: could not mark the page as taken (%s)", type(exc).__name__)
    await _brief(staff, escalation_id, counsellor)


async def _brief(staff: _Staff, escalation_id: int, counsellor: Counsellor) -> None:
    """Tell the counsellor, in their own chat, how to talk, with a link to the case in the console.

    The conversation so far is not copied into Telegram: its cloud keeps messages beyond our retention
    and "delete my data". An operator may turn the copy on (``HOTLINE_TELEGRAM_STAFF_TRANSCRIPT_COPY``);
    it is then read through the desk, so the read is audited like any other.
    """
    chat = staff.door.crypto.decrypt(counsellor.telegram_chat_enc) if counsellor.telegram_chat_enc else None
    if chat is None:
        return
    settings = staff.door.settings
    text = staff.say("staff_how_to_talk", id=str(escalation_id), outcomes=", ".join(OUTCOMES))
    link = f"{settings.public_url.rstrip('/')}/console/escalations/{escalation_id}"
    text = f"{text}\n{staff.say('staff_console_link', url=link)}"
    if settings.telegram_staff_transcript_copy:
        lines = await staff.desk.transcript(escalation_id, counsellor.id, staff_id=None, via="telegram")
        who = {"in": "👤", "out": "🤖", "staff": "🧑‍⚕️", "note": "ℹ️"}
        history = "\n".join(f"{who.get(d, d)} {line}" for d, line, _ in lines[-20:])
        text = f"{text}\n\n{staff.say('staff_history')}\n{history}"
    await staff.channel.client.send_text(int(chat), text[:4000])


def _pick(held: list[int], message: Message) -> int | None:
    """Which held escalation a counsellor's message is for: a ``#id`` in it or in the message it answers."""
    for source in (
        message.text or "",
        (message.reply_to_message.text or "") if message.reply_to_message else "",
    ):
        tag = TAGGED.search(source)
        if tag and int(tag.group(1)) in held:
            return int(tag.group(1))
    return held[0] if len(held) == 1 else None


async def on_counsellor_message(message: Message, channel: TelegramChannel, counsellor: Counsellor) -> None:
    """A counsellor writes to the bot: to the person they hold, or ``/dong <outcome>`` to close."""
    staff = _Staff(channel)
    text = (message.text or "").strip()
    held = await staff.held_by(counsellor.id)
    reply_to = message.chat.id
    if not text:
        return
    if not held:
        await channel.client.send_text(reply_to, staff.say("staff_holds_nothing"))
        return
    escalation_id = _pick(held, message)
    if escalation_id is None:
        tags = ", ".join(f"#{i}" for i in held)
        await channel.client.send_text(reply_to, staff.say("staff_which_one", ids=tags))
        return
    if text.split()[0].split("@")[0] in ("/dong", "/close"):
        words = TAGGED.sub("", text.partition(" ")[2]).strip().lower().replace("-", "_")
        outcome = OUTCOME_WORDS.get(words)
        if outcome is None:
            await channel.client.send_text(
                reply_to, staff.say("staff_close_how", outcomes=", ".join(OUTCOMES))
            )
            return
        try:
            await staff.desk.close(escalation_id, counsellor.id, outcome)
        except DeskError as exc:
            await channel.client.send_text(reply_to, str(exc))
            return
        staff.door.wake()
        await channel.client.send_text(
            reply_to, staff.say("staff_closed", id=str(escalation_id), outcome=outcome)
        )
        return
    body = TAGGED.sub("", text, count=1).strip() if text.startswith("#") else text
    try:
        await staff.desk.reply(escalation_id, counsellor.id, body)
    except DeskError as exc:
        await channel.client.send_text(reply_to, str(exc))
        return
    staff.door.wake()
