"""What a channel is: one module per transport, one small interface.

A channel turns its transport's requests into :class:`~bot.engine.messages.InboundMessage` and calls
the engine; it renders :class:`~bot.engine.messages.Reply` into its transport's payload. Channels that
answer later (Telegram, Zalo) are *push* channels: the engine queues their replies in the outbox, and
the dispatcher calls :meth:`Channel.send`. Channels that answer inside the HTTP response (web chat,
the phone) collect the replies and render them at once.

What a channel is given, and the two halves of this interface on their own (inbound, push), are in
:mod:`bot.channels.door`; the runtime holds every built channel as a :class:`Channel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fastapi import APIRouter

from bot.engine.messages import Reply


class Channel(Protocol):
    """One transport. ``push`` channels must implement :meth:`send`."""

    name: str
    push: bool

    def router(self) -> APIRouter | None:
        """The HTTP routes of this channel (webhooks, pages), or None."""
        ...

    async def send(self, address: str, replies: Sequence[Reply]) -> None:
        """Deliver replies to an address (raise ``Retry`` to be tried again later)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
