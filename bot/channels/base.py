"""What a channel is: one module per transport, one small interface.

A channel turns its transport's requests into :class:`~bot.messages.InboundMessage` and calls
the engine; it renders :class:`~bot.messages.Reply` into its transport's payload. Channels that
answer later (Telegram, Zalo) are *push* channels: the engine queues their replies in the outbox, and
the dispatcher calls :meth:`Channel.send`. Channels that answer inside the HTTP response (web chat,
the phone) collect the replies and render them at once.

What a channel is given, and the two halves of this interface on their own (inbound, push), are in
:mod:`bot.channels.door`; the runtime holds every built channel as a :class:`Channel`.
"""

from __future__ import annotations

from typing import Protocol

from bot.channels.door import InboundChannel, PushChannel


class Channel(InboundChannel, PushChannel, Protocol):
    """One transport as the runtime holds it: its routes and life (:class:`InboundChannel`), and
    :meth:`send` (:class:`PushChannel`), which only ``push`` channels implement for real."""
