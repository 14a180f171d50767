"""The channels the service knows, by name. Each is built only when its settings are given.

A channel's module is imported only then: aiogram alone takes seconds to import, and twilio's REST
client most of a second, so a service with only the web chat starts without them. Each entry names
the factory (``module:function``) and the settings that switch it on; the factory itself still checks
its settings in full (and returns None, or raises a :class:`~bot.errors.ConfigError`).

A ``background`` entry (Telegram: aiogram's import is most of the start-up) is built after the server
listens when the runtime is asked to (``hotline serve``); until then a stand-in answers for it
(:mod:`bot.channels.pending`): its requests and deliveries wait, nothing is refused or lost.
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
    background: bool = False  # may be built after the server listens
    push: bool = False  # a background channel's Channel.push, known before it is built
    prefix: str | None = None  # a background channel's paths, held until it is built
    after: str | None = None  # a background pager built from this channel, once the channel is built

    def __call__(self, services: Services) -> Any:
        if not self.wanted(services):
            return None
        return self.load()(services)

    def load(self) -> Callable[[Services], Any]:
        """The factory itself (importing its module: for a background entry, in a thread)."""
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def _twilio(route: str) -> Callable[[Services], bool]:
    """Whether pages go by this phone route (a background entry's ``wanted`` must be exact: the stand-in
    is a route paging counts on before the pager is built)."""

    def wanted(services: Services) -> bool:
        settings = services.settings
        configured = bool(
            settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_caller_id
        )
        return configured and settings.page_phone_route in (route, "both")

    return wanted


CHANNEL_FACTORIES: list[Callable[[Services], Any]] = [
    webchat.build,
    Lazy(
        "telegram",
        "bot.channels.telegram.channel:build",
        lambda s: s.settings.telegram_token is not None,
        background=True,
        push=True,
        prefix="/telegram",
    ),
    Lazy("phone", "ivr.channel:build", lambda s: s.settings.twilio_auth_token is not None),
    Lazy("zalo", "bot.channels.zalo.bot_platform:build", lambda s: s.settings.zalo_bot_token is not None),
    Lazy("zalo_oa", "bot.channels.zalo.oa:build", lambda s: bool(s.settings.zalo_oa_app_id)),
    Lazy("messenger", "bot.channels.messenger:build", lambda s: s.settings.messenger_page_token is not None),
]
# Ways of paging staff (each returns None when its settings are absent): Telegram, SMS, voice.
PAGER_FACTORIES: list[object] = [
    Lazy(
        "telegram",
        "bot.channels.telegram.staff:build_pager",
        lambda s: "telegram" in s.channels,
        background=True,
        after="telegram",
    ),
    # twilio's REST client (and aiohttp under it) takes a good part of a second to import
    Lazy("sms", "bot.escalation.twilio_pager:build_sms", _twilio("sms"), background=True),
    Lazy("voice", "bot.escalation.twilio_pager:build_voice", _twilio("voice"), background=True),
]
