"""The channels the service knows, by name. Each is built only when its settings are given.

A channel's module is imported only then: aiogram alone takes seconds to import, and twilio's REST
client most of a second, so a service with only the web chat starts without them. Each entry names
the factory (``module:function``), the settings that switch it on, what else its factory is handed
(``needs``) and its name in statistics (``label``); the factory itself still checks its settings in full
(and returns None, or raises a :class:`~bot.errors.ConfigError`). The runtime is the one place that
calls factories, each with its channel's :class:`~bot.channels.door.Door`; this
module imports no channel, so statistics may read the labels without loading one.

A ``background`` entry (Telegram: aiogram's import is most of the start-up) is built after the server
listens when the runtime is asked to (``hotline serve``); until then a stand-in answers for it
(:mod:`bot.channels.pending`): its requests and deliveries wait, nothing is refused or lost.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.settings import Settings


@dataclass(frozen=True)
class Lazy:
    """A factory imported on first use, and only when ``wanted(settings)`` says its settings are there.

    A channel's factory is called as ``factory(door, **extras)``, a pager's as ``factory(settings,
    **extras)``, where ``needs`` names the extras the runtime hands it (``Services.extras``):
    ``store`` (a :class:`~bot.channels.door.ChannelStore` for state of its own), ``desk`` (the counsellor
    desk), ``inbox`` (messages the channel fetches), ``content`` (flows and knowledge), ``channel`` (for
    a pager built from a channel: that channel, once built).
    """

    name: str
    target: str  # "package.module:function"
    wanted: Callable[[Settings], bool]
    background: bool = False  # may be built after the server listens
    push: bool = False  # a background channel's Channel.push, known before it is built
    prefix: str | None = None  # a background channel's paths, held until it is built
    after: str | None = None  # a background pager built from this channel, once the channel is built
    needs: tuple[str, ...] = ()  # the extras its factory takes, by name (see above)
    label: tuple[str, str] | None = None  # a channel's name in statistics: (Vietnamese, English)

    def load(self) -> Callable[..., Any]:
        """The factory itself (importing its module: for a background entry, in a thread)."""
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def _twilio(route: str) -> Callable[[Settings], bool]:
    """Whether pages go by this phone route (a background entry's ``wanted`` must be exact: the stand-in
    is a route paging counts on before the pager is built)."""

    def wanted(settings: Settings) -> bool:
        configured = bool(
            settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_caller_id
        )
        return configured and settings.page_phone_route in (route, "both")

    return wanted


# One line per channel, in the order statistics list them.
CHANNEL_FACTORIES: list[Lazy] = [
    Lazy(
        "webchat",
        "bot.channels.webchat:build",
        lambda s: True,
        needs=("inbox",),
        label=("Chat trên web", "Web chat"),
    ),
    Lazy(
        "telegram",
        "bot.channels.telegram.channel:build",
        lambda s: s.telegram_token is not None,
        background=True,
        push=True,
        prefix="/telegram",
        needs=("store", "desk"),
        label=("Telegram", "Telegram"),
    ),
    Lazy(
        "zalo",
        "bot.channels.zalo.bot_platform:build",
        lambda s: s.zalo_bot_token is not None,
        label=("Zalo", "Zalo"),
    ),
    Lazy(
        "zalo_oa",
        "bot.channels.zalo.oa:build",
        lambda s: bool(s.zalo_oa_app_id),
        needs=("store",),
        label=("Zalo OA", "Zalo OA"),
    ),
    Lazy(
        "phone",
        "ivr.channel:build",
        lambda s: s.twilio_auth_token is not None,
        needs=("store", "content"),
        label=("Điện thoại", "Phone"),
    ),
    Lazy(
        "messenger",
        "bot.channels.messenger:build",
        # any of its three settings: a half configuration stops the start (ConfigError), not silently off
        lambda s: any(
            v is not None for v in (s.messenger_page_token, s.messenger_app_secret, s.messenger_verify_token)
        ),
        needs=("store",),
        label=("Messenger", "Messenger"),
    ),
]
# Ways of paging staff (each returns None when its settings are absent): Telegram, SMS, voice.
PAGER_FACTORIES: list[Lazy] = [
    Lazy(
        "telegram",
        "bot.channels.telegram.staff:build_pager",
        lambda s: s.telegram_token is not None,
        background=True,
        after="telegram",
        needs=("channel",),
    ),
    # twilio's REST client (and aiohttp under it) takes a good part of a second to import
    Lazy("sms", "bot.escalation.twilio_pager:build_sms", _twilio("sms"), background=True),
    Lazy("voice", "bot.escalation.twilio_pager:build_voice", _twilio("voice"), background=True),
]
# Who else writes to the engine, for statistics (not built here): the operator's terminal chat.
OTHER_NAMES: dict[str, tuple[str, str]] = {"terminal": ("Dòng lệnh", "Terminal")}


def channel_labels() -> dict[str, tuple[str, str]]:
    """Every channel's name in statistics, (Vietnamese, English), in their order (nothing is imported)."""
    named = {entry.name: entry.label for entry in CHANNEL_FACTORIES if entry.label is not None}
    return named | OTHER_NAMES
