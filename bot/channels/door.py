"""The narrow door between the runtime and a channel: all a channel is given, and all it must offer.

A channel factory receives a :class:`Door` (and, where the registry says so, one or two named extras:
the web chat's :class:`~bot.engine.inbox.Inbox`, the counsellor :class:`~bot.escalation.desk.Desk` for
Telegram's staff, a :class:`ChannelStore` for a channel that keeps state of its own). It never sees the
runtime's ``Services``, the engine's tables or another channel; the runtime is the one place that builds
doors and calls factories, so nothing under ``bot/channels``, ``ivr`` or ``bot/escalation`` imports it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.content.fields import LocalText
from bot.engine.deps import ForgetHook
from bot.messages import InboundMessage, Outcome, Reply
from bot.outbox.dispatcher import Event
from bot.settings import Settings
from bot.store.crypto import Crypto


@runtime_checkable
class InboundChannel(Protocol):
    """A channel that takes HTTP requests (webhooks, pages); it answers in the response or later."""

    name: str
    push: bool

    def router(self) -> APIRouter | None:
        """The HTTP routes of this channel, or None."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@runtime_checkable
class PushChannel(Protocol):
    """A channel the outbox dispatcher sends replies through (``push`` is True)."""

    name: str
    push: bool

    async def send(self, address: str, replies: Sequence[Reply]) -> None:
        """Deliver replies to an address (raise ``Retry`` to be tried again later, ``GiveUp`` to stop)."""
        ...


@dataclass(frozen=True)
class ChannelStore:
    """For a channel that keeps state of its own (Telegram's shown messages, Zalo OA's tokens, the phone
    line's calls): its sessions, the keys that make its ids pseudonymous, and the clock."""

    sessionmaker: async_sessionmaker[AsyncSession]
    crypto: Crypto
    clock: Clock


@dataclass(frozen=True)
class Door:
    """What the runtime gives one channel."""

    name: str
    settings: Settings
    # The engine: one message in, the outcome out (raises BadInput, writing nothing, when refused).
    handle: Callable[[InboundMessage], Awaitable[Outcome]]
    check: Callable[[InboundMessage], None]
    # Whether a message that would open a new conversation is under its client's cap (web chat).
    admit: Callable[[InboundMessage], Awaitable[bool]]
    is_choice: Callable[[str], bool]
    # The language of a person's conversation (None when there is none): (channel, user id) -> locale.
    locale_of: Callable[[str, str], Awaitable[str | None]]
    # Look at the outbox now (something was just queued).
    wake: Callable[[], None]
    # The strings the channel renders (flows/strings.yaml), by key.
    strings: Mapping[str, LocalText]
    # Pseudonymous keys and encryption: a channel hashes ids before it keeps or compares them.
    crypto: Crypto
    clock: Clock
    # Handlers for outbox event kinds of the channel's own (Telegram's clean-up of shown messages).
    on_event: Callable[[str, Callable[[Event], Awaitable[None]]], None]
    # Called inside the transaction that deletes one of the channel's conversations (by its id).
    on_forget: Callable[[ForgetHook], None]
    # A person asked, outside the conversation, that everything kept about them be deleted (Zalo's
    # user_withdraw): (channel, user id) -> whether anything was kept.
    forget: Callable[[str, str], Awaitable[bool]]
    # The safety check's level for words (the phone line asks "in danger right now?" on "possible").
    danger_level: Callable[[str], Awaitable[str]]

    def string(self, key: str, locale: str, **values: object) -> str:
        """One string in ``locale``, with ``{name}`` values filled in."""
        return self.strings[key].format(locale, **values)

    async def locale(self, user_id: str) -> str:
        """The language of this person's conversation on this channel, or the default one."""
        return await self.locale_of(self.name, user_id) or self.settings.default_locale
