"""The channels the service knows, by name. Each factory returns None when its settings are absent."""

from __future__ import annotations

from bot.channels import telegram, webchat

CHANNEL_FACTORIES = [webchat.build, telegram.build]
