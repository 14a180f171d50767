"""What the chat on the person's phone shows, so that "delete my data" can clear it there too.

Telegram lets a bot delete, for 48 hours, its own messages and the person's messages in a private chat.
To do that when the person deletes their conversation, the channel remembers the ids of the messages
of the last 48 hours (the person's and the bot's), encrypted, in the conversation itself (its context,
under :data:`CONTEXT_KEY`). Nothing else is kept: no text, no chat id in clear.

When the conversation is deleted, the engine calls :meth:`ShownMessages.before_delete` inside the same
transaction (the conversation row is gone afterwards): it queues a ``telegram_cleanup`` outbox event
carrying the chat id and the ids, encrypted like every payload, in the person's delivery order, so the
old messages go before the "deleted" confirmation arrives. The dispatcher then deletes whatever is
still younger than 48 hours (:meth:`ShownMessages.run_cleanup`). The event is written
``erase_when_done``: its row is deleted as soon as it is finished, like the confirmation's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.telegram.client import TelegramClient
from bot.channels.telegram.inbound import NAME
from bot.clock import Clock
from bot.outbox.dispatcher import Event
from bot.store.crypto import Crypto
from bot.store.encrypted import TELEGRAM_SHOWN
from bot.store.locking import for_update
from bot.store.models import Conversation
from bot.store.outbox import enqueue
from bot.store.outbox_kinds import TELEGRAM_CLEANUP

log = logging.getLogger(__name__)

CLEANUP_KIND = TELEGRAM_CLEANUP
CONTEXT_KEY = TELEGRAM_SHOWN  # re-encrypted by a key rotation (bot/store/encrypted.py)
DELETABLE_FOR = timedelta(hours=48)  # Telegram refuses to delete older messages
MAX_REMEMBERED = 500

Entry = tuple[int, float]  # (message id, when it was shown, as a Unix time)


class ShownMessages:
    """Remembers the message ids shown in each person's chat, and deletes them when asked."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        clock: Clock,
        client: TelegramClient,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.crypto = crypto
        self.clock = clock
        self.client = client

    async def remember(self, chat_id: str, message_ids: Sequence[int]) -> bool:
        """Add ids to the person's list; False when they have no conversation (it was just deleted)."""
        now = self.clock.now()
        user_key = self.crypto.user_key(NAME, chat_id)
        async with self.sessionmaker() as session, session.begin():
            query = for_update(
                session,
                select(Conversation).where(Conversation.channel == NAME, Conversation.user_key == user_key),
            )
            conversation = (await session.execute(query)).scalar_one_or_none()
            if conversation is None:
                return False
            known = self._entries(conversation, now)
            seen = {message_id for message_id, _ in known}
            known.extend((m, now.timestamp()) for m in message_ids if m not in seen)
            token = self.crypto.encrypt_json(known[-MAX_REMEMBERED:])
            conversation.context = {**(conversation.context or {}), CONTEXT_KEY: token}
        return True

    async def before_delete(self, session: AsyncSession, conversation: Conversation, now: datetime) -> None:
        """The engine's hook, in the transaction that deletes the conversation: queue the clean-up."""
        entries = self._entries(conversation, now)
        if not entries or conversation.address_enc is None:
            return
        chat_id = self.crypto.decrypt(conversation.address_enc)
        await self._enqueue(session, chat_id, entries, now, ordering_key=_ordering_key(conversation.user_key))

    async def forget_now(self, chat_id: str, message_ids: Sequence[int]) -> None:
        """Queue the deletion of messages the conversation no longer lists (the one that asked to delete)."""
        now = self.clock.now()
        user_key = self.crypto.user_key(NAME, chat_id)
        entries = [(m, now.timestamp()) for m in message_ids]
        async with self.sessionmaker() as session, session.begin():
            await self._enqueue(session, chat_id, entries, now, ordering_key=_ordering_key(user_key))

    async def run_cleanup(self, event: Event) -> None:
        """The outbox handler: delete what Telegram still allows (messages younger than 48 hours)."""
        oldest = (self.clock.now() - DELETABLE_FOR).timestamp()
        ids = [int(m) for m, shown_at in event.payload["messages"] if shown_at > oldest]
        if ids:
            await self.client.delete_messages(int(event.payload["chat_id"]), ids)

    async def _enqueue(
        self, session: AsyncSession, chat_id: str, entries: list[Entry], now: datetime, *, ordering_key: str
    ) -> None:
        await enqueue(
            session,
            self.crypto,
            kind=CLEANUP_KIND,
            channel=NAME,
            payload={"chat_id": chat_id, "messages": [[m, t] for m, t in entries]},
            now=now,
            ordering_key=ordering_key,
            erase_when_done=True,
        )

    def _entries(self, conversation: Conversation, now: datetime) -> list[Entry]:
        """The remembered ids still young enough to delete, oldest first."""
        token = (conversation.context or {}).get(CONTEXT_KEY)
        if not isinstance(token, str):
            return []
        oldest = (now - DELETABLE_FOR).timestamp()
        return [(int(m), float(t)) for m, t in self.crypto.decrypt_json(token) if float(t) > oldest]


def _ordering_key(user_key: str) -> str:
    """The key the engine gives this person's deliveries, so a clean-up goes in line with them."""
    return f"{NAME}:{user_key[:32]}"
