"""Logging that never carries personal data.

The code logs no message text, phone number, platform id or name in the first place. As a second
line of defence, every record passes a filter that masks long runs of digits (phone numbers, chat ids).
"""

from __future__ import annotations

import logging
import re

_DIGITS = re.compile(r"(?<![\w#])\+?\d(?:[\d .-]{5,}\d)(?!\w)")


class RedactDigits(logging.Filter):
    """Replace digit runs of 7+ characters (phone numbers, chat ids) with ``[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging to report
            return True
        redacted = _DIGITS.sub(
            lambda m: "[redacted]" if sum(c.isdigit() for c in m.group(0)) >= 7 else m.group(0), message
        )
        if redacted != message or record.args:
            record.msg = redacted
            record.args = None
        return True


def setup_logging(level: str = "INFO") -> None:
    """Log to standard error, with the redacting filter on every handler."""
    root = logging.getLogger()
    if not any(isinstance(f, RedactDigits) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactDigits())
        root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "aiogram.event", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
