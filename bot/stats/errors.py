"""The statistics package's exception."""

from __future__ import annotations

from bot.errors import HotlineError


class StatsError(HotlineError):
    """A report that cannot be made as asked (a wrong date, a bad setting); the message says why."""
