"""The Telegram channel: updates in (webhook or long polling) -> engine; replies out through the outbox.

The engine queues a ``deliver`` event with the person's encrypted address and replies in the same
transaction as the conversation state; the outbox dispatcher calls :meth:`TelegramChannel.send`, which
renders them (inline keyboards, long texts split), paces them and reports Telegram's answers as
``Retry`` (a 429 with its ``retry_after``) or ``GiveUp`` (the person blocked the bot).

The person is the chat id: the engine keeps only its HMAC as the key, and the id itself, encrypted, as
the address to reply to. Names, usernames and the person's language setting are never read or kept,
and nothing here logs a chat id or a text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Sequence

from aiogram import Bot
from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from fastapi import APIRouter

from bot.channels.door import ChannelStore, Door
from bot.channels.telegram.client import TelegramClient, build_bot, webhook_secret
from bot.channels.telegram.deferred import warm
from bot.channels.telegram.handlers import build_dispatcher
from bot.channels.telegram.inbound import NAME
from bot.channels.telegram.render import RenderError, render
from bot.channels.telegram.shown import CLEANUP_KIND, ShownMessages
from bot.channels.telegram.webhook import webhook_router
from bot.errors import BadInput
from bot.escalation.desk import Desk
from bot.messages import InboundMessage, Outcome, Reply
from bot.outbox.dispatcher import GiveUp

log = logging.getLogger(__name__)


class TelegramChannel:
    """A push channel: the webhook (or ``hotline telegram poll``) feeds updates, the outbox sends replies."""

    name = NAME
    push = True

    def __init__(
        self, door: Door, client: TelegramClient, *, secret: str | None, store: ChannelStore, desk: Desk
    ) -> None:
        self.door = door
        self.desk = desk  # for counsellors on Telegram (bot/channels/telegram/staff.py)
        self.client = client
        self.secret = secret
        self.shown = ShownMessages(store.sessionmaker, store.crypto, store.clock, client)
        self.dispatcher = build_dispatcher(self)
        # A delivery cut short (a 429 on its third message) resumes where it stopped: address -> (which
        # replies, how many messages went). In memory: after a restart the first messages may go twice.
        self._resume: dict[str, tuple[str, int]] = {}

    @property
    def bot(self) -> Bot:
        return self.client.bot

    def warm(self) -> None:
        """Build the aiogram validators an emergency uses (:func:`bot.channels.telegram.deferred.warm`)."""
        warm()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.client.close()

    def router(self) -> APIRouter:
        return webhook_router(self)

    def secret_matches(self, given: str | None) -> bool:
        """Whether a webhook request carries the configured secret (compared in constant time)."""
        if self.secret is None or given is None:
            return False
        return secrets.compare_digest(given.encode(), self.secret.encode())

    # ------------------------------------------------------------------ in

    async def feed(self, update: Update) -> None:
        """Handle one update from the webhook or from polling; raises only when it should be tried again."""
        try:
            _ = update.event_type
        except UpdateTypeLookupError:
            # A newer Bot API than this aiogram knows. (aiogram would warn with the whole update in the
            # message, chat ids and text included, so it is stopped here.) Its field names only are logged.
            names = sorted(name[:40] for name in (update.model_extra or {}))[:3]
            log.info("telegram update of an unknown type (%s) ignored", ",".join(names) or "no type")
            return
        await self.dispatcher.feed_update(self.bot, update)

    async def receive(self, message: InboundMessage, *, message_id: int | None = None) -> Outcome | None:
        """Give one message to the engine; remember the person's message id for a later clean-up."""
        try:
            outcome = await self.door.handle(message)
        except BadInput as exc:
            log.info("telegram message not taken: %s", exc)
            return None
        if message_id is not None and not await self.shown.remember(message.user_id, [message_id]):
            # The conversation is gone: this very message asked to delete it. Clear it from the chat too.
            await self.shown.forget_now(message.user_id, [message_id])
        self.door.wake()
        return outcome

    async def string_for(self, chat_id: str, key: str) -> str:
        """One of the engine's strings (flows/strings.yaml) in the person's language."""
        return self.door.strings[key].get(await self.door.locale(chat_id))

    # ------------------------------------------------------------------ out

    async def send(self, address: str, replies: Sequence[Reply]) -> None:
        """Send replies to a chat, in order; remember the ids of what was sent (for "delete my data")."""
        try:
            chat_id = int(address)
        except ValueError:
            raise GiveUp("the stored Telegram address is not a chat id") from None
        try:
            messages = render(replies)
        except RenderError as exc:
            log.error("telegram reply cannot be shown: %s", exc)
            raise GiveUp(str(exc)) from None
        fingerprint = hashlib.sha256(json.dumps([r.to_json() for r in replies]).encode()).hexdigest()
        done_before, start = self._resume.pop(address, ("", 0))
        if done_before != fingerprint:
            start = 0
        sent: list[int] = []
        try:
            for outgoing in messages[start:]:
                sent.append(await self.client.send_text(chat_id, outgoing.text, outgoing.keyboard))
        finally:
            if start + len(sent) < len(messages):
                self._resume[address] = (fingerprint, start + len(sent))
            if sent:
                await self._remember_sent(address, sent)

    async def _remember_sent(self, address: str, message_ids: list[int]) -> None:
        try:
            await self.shown.remember(address, message_ids)
        except Exception as exc:
            # Sent is sent: failing here would send it again. These few cannot be cleared later.
            log.warning("telegram: could not remember sent message ids (%s)", type(exc).__name__)


def build(door: Door, *, store: ChannelStore, desk: Desk) -> TelegramChannel | None:
    """The channel when ``HOTLINE_TELEGRAM_TOKEN`` is set (None otherwise); checks the token and the secret."""
    settings = door.settings
    if settings.telegram_token is None:
        return None
    secret = webhook_secret(settings)
    client = TelegramClient(build_bot(settings))
    channel = TelegramChannel(door, client, secret=secret, store=store, desk=desk)
    door.on_event(CLEANUP_KIND, channel.shown.run_cleanup)
    door.on_forget(channel.shown.before_delete)
    if secret is None:
        log.warning(
            "HOTLINE_TELEGRAM_WEBHOOK_SECRET is not set, so /telegram/webhook refuses every request: "
            "fine with `hotline telegram poll`; for a webhook, set it and run `hotline telegram set-webhook`."
        )
    return channel
