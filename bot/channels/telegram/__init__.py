"""The Telegram channel (aiogram 3): private chats with the bot, served by webhook or long polling.

* :mod:`.channel`: the channel itself (in: updates -> engine; out: the outbox's deliveries -> messages)
* :mod:`.client`: the aiogram Bot from settings, paced, with errors the outbox understands (reused for
  paging counsellors)
* :mod:`.render`: replies -> messages with inline keyboards, split at Telegram's length limit
* :mod:`.inbound`, :mod:`.handlers`: Telegram messages and button taps -> the engine's messages
* :mod:`.webhook`, :mod:`.polling`, :mod:`.commands`: the two ways updates arrive, and the CLI
* :mod:`.shown`: clearing the chat on the phone when the person deletes their data
* :mod:`.limits`: pacing under Telegram's rate limits
"""

from __future__ import annotations

from bot.channels.telegram.channel import TelegramChannel, build
from bot.channels.telegram.inbound import NAME

__all__ = ["NAME", "TelegramChannel", "build"]
