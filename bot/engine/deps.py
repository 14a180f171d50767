"""What the engine needs from the outside, built once per process and passed in (no globals)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.content.flows import Flows
from bot.content.knowledge import Knowledge
from bot.engine.safety import SafetyCheck
from bot.nlu import NLU
from bot.nlu.bystander import Bystander
from bot.settings import Settings
from bot.store.crypto import Crypto
from bot.store.models import Conversation

ForgetHook = Callable[[AsyncSession, Conversation, datetime], Awaitable[None]]
"""Run inside the transaction that deletes a person's conversation, just before the delete."""


@dataclass
class EngineDeps:
    """The engine's collaborators. ``push_channels`` deliver replies through the outbox.

    ``forget_hooks`` (by channel name) let a channel act on "delete my data" in the same transaction,
    while the conversation still exists: e.g. queue the removal of messages from the person's device.
    """

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    crypto: Crypto
    clock: Clock
    flows: Flows
    knowledge: Knowledge
    nlu: NLU
    safety: SafetyCheck
    bystander: Bystander = field(default_factory=Bystander.empty)  # "bạn em ...": about someone else
    push_channels: frozenset[str] = field(default_factory=frozenset)
    after_commit: Callable[[], None] | None = None  # e.g. wake the outbox dispatcher
    forget_hooks: dict[str, ForgetHook] = field(default_factory=dict)
