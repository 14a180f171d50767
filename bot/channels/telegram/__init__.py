"""The Telegram channel (aiogram 3): private chats with the bot, served by webhook or long polling.

* :mod:`.channel`: the channel itself (in: updates -> engine; out: the outbox's deliveries -> messages)
* :mod:`.client`: the aiogram Bot from settings, paced, with errors the outbox understands (reused for
  paging counsellors)
* :mod:`.render`: replies -> messages with inline keyboards, split at Telegram's length limit
* :mod:`.inbound`, :mod:`.handlers`: Telegram messages and button taps -> the engine's messages
* :mod:`.webhook`, :mod:`.polling`, :mod:`.commands`: the two ways updates arrive, and the CLI
* :mod:`.shown`: clearing the chat on the phone when the person deletes their data
* :mod:`.limits`: pacing under Telegram's rate limits

The channel registry imports this package only when ``HOTLINE_TELEGRAM_TOKEN`` is set. aiogram is
imported here, first, with its types' validators built when first used (:mod:`.deferred`: about 100 MiB
and seconds less than aiogram's own import); the modules above are imported when a name below is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bot.channels.telegram.deferred import import_aiogram

import_aiogram()

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel, build
    from bot.channels.telegram.inbound import NAME

__all__ = ["NAME", "TelegramChannel", "build"]
_WHERE = {"TelegramChannel": "channel", "build": "channel", "NAME": "inbound"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
