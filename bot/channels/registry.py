"""The channels the service knows, by name. Each factory returns None when its settings are absent."""

from __future__ import annotations

from bot.channels import telegram, webchat
from bot.channels.telegram import staff as telegram_staff
from bot.channels.zalo import bot_platform, oa
from bot.escalation import twilio_pager
from ivr import channel as phone

CHANNEL_FACTORIES = [webchat.build, telegram.build, phone.build, bot_platform.build, oa.build]
# Ways of paging staff (each returns None when its settings are absent): Telegram, SMS, voice.
PAGER_FACTORIES: list[object] = [telegram_staff.build_pager, twilio_pager.build_sms, twilio_pager.build_voice]
