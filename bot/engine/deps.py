"""What the engine needs from the outside, built once per process and passed in (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.content.flows import Flows
from bot.content.knowledge import Knowledge
from bot.engine.safety import SafetyCheck
from bot.nlu import NLU
from bot.settings import Settings
from bot.store.crypto import Crypto


@dataclass
class EngineDeps:
    """The engine's collaborators. ``push_channels`` deliver replies through the outbox."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    crypto: Crypto
    clock: Clock
    flows: Flows
    knowledge: Knowledge
    nlu: NLU
    safety: SafetyCheck
    push_channels: frozenset[str] = field(default_factory=frozenset)
    after_commit: Callable[[], None] | None = None  # e.g. wake the outbox dispatcher
