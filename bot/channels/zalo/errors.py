"""What can go wrong talking to Zalo. Messages never carry a token or a person's id."""

from __future__ import annotations

import re

from bot.errors import HotlineError

_LONG_NUMBER = re.compile(r"\d{6,}")


def scrub(text: object, limit: int = 160) -> str:
    """A platform's error text made safe to log and store: long numbers (ids) removed, kept short."""
    return _LONG_NUMBER.sub("[id]", str(text))[:limit]


class ZaloError(HotlineError):
    """Root of the Zalo channels' errors."""


class ZaloApiError(ZaloError):
    """A Zalo API answered with an error (``code`` is Zalo's, or the HTTP status; None if unreachable)."""

    def __init__(self, code: int | None, description: str, *, retry_after: float | None = None) -> None:
        self.code = code
        self.description = scrub(description)
        self.retry_after = retry_after
        super().__init__(f"Zalo error {code}: {self.description}" if code is not None else self.description)


class ZaloAuthError(ZaloError):
    """Zalo refused our credentials; the message says which setting or command fixes it."""
