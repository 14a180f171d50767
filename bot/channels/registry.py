"""The channels the service knows, by name. Each is built only when its settings are given.

A channel's module is imported only then: aiogram alone takes seconds to import, and twilio's REST
client most of a second, so a service with only the web chat starts without them. Each entry names
the factory (``module:function``) and the settings that switch it on; the factory itself still checks
its settings in full (and returns None, or raises a :class:`~bot.errors.ConfigError`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.channels import webchat

if TYPE_CHECKING:
    from bot.runtime import Services


@dataclass(frozen=True)
class Lazy:
    """A factory imported on first use, and only when ``wanted(services)`` says its settings are there."""

    name: str
    target: str  # "package.module:function"
    wanted: Callable[[Services], bool]

    def __call__(self, services: Services) -> Any:
        if not self.wanted(services):
            return None
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function)(services)


def _twilio(services: Services) -> bool:
    settings = services.settings
    return bool(settings.twilio_account_sid and settings.twilio_auth_token)


CHANNEL_FACTORIES: list[Callable[[Services], Any]] = [
    webchat.build,
    Lazy("telegram", "bot.channels.telegram.channel:build", lambda s: s.settings.telegram_token is not None),
    Lazy("phone", "ivr.channel:build", lambda s: s.settings.twilio_auth_token is not None),
    Lazy("zalo", "bot.channels.zalo.bot_platform:build", lambda s: s.settings.zalo_bot_token is not None),
    Lazy("zalo_oa", "bot.channels.zalo.oa:build", lambda s: bool(s.settings.zalo_oa_app_id)),
]
# Ways of paging staff (each returns None when its settings are absent): Telegram, SMS, voice.
PAGER_FACTORIES: list[object] = [
    Lazy("telegram", "bot.channels.telegram.staff:build_pager", lambda s: "telegram" in s.channels),
    Lazy("sms", "bot.escalation.twilio_pager:build_sms", _twilio),
    Lazy("voice", "bot.escalation.twilio_pager:build_voice", _twilio),
]
