"""What the console needs of the running service: the runtime's ``Services`` gives it, the console never
imports the runtime (the layering contract in pyproject.toml)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.engine.content import Content
from bot.escalation.desk import Desk
from bot.settings import Settings
from bot.store.crypto import Crypto


class Wakes(Protocol):
    def wake(self) -> None:
        """Look at the outbox now (a counsellor's reply is due), not at the next poll."""
        ...


class ConsoleServices(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def crypto(self) -> Crypto: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def desk(self) -> Desk: ...

    @property
    def content(self) -> Content: ...

    @property
    def dispatcher(self) -> Wakes: ...
