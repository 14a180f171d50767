"""Logging that never carries personal data.

The code logs no message text, phone number, platform id or name in the first place. As a second
line of defence, every record passes a filter that masks long runs of digits (phone numbers, chat ids),
in its message and in its exception's text.

Lines are plain text, or JSON objects (one a line: ``time``, ``level``, ``logger``, ``message`` and, for an
error, ``exception``) with ``HOTLINE_LOG_FORMAT=json``, for a log collector; the same filter applies.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

_DIGITS = re.compile(r"(?<![\w#])\+?\d(?:[\d .-]{5,}\d)(?!\w)")


def redact(text: str) -> str:
    """``text`` with digit runs of 7+ digits (phone numbers, chat ids) replaced by ``[redacted]``."""
    return _DIGITS.sub(
        lambda m: "[redacted]" if sum(c.isdigit() for c in m.group(0)) >= 7 else m.group(0), text
    )


class RedactDigits(logging.Filter):
    """Replace digit runs of 7+ characters (phone numbers, chat ids) with ``[redacted]``, in the message
    and in the exception's text (an error from a platform may quote a chat id)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            # Formatters print exc_text when it is set: the traceback is masked once, here, for all.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging to report
            return True
        redacted = redact(message)
        if redacted != message or record.args:
            record.msg = redacted
            record.args = None
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, and
    ``exception`` (the whole traceback as one string) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter(fmt: str = "text") -> logging.Formatter:
    """The formatter for ``HOTLINE_LOG_FORMAT``: ``text`` (for a person) or ``json`` (for a collector)."""
    return JsonLines() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Log to standard error, as text or JSON lines (``fmt``), with the redacting filter on the handler."""
    root = logging.getLogger()
    ours: list[logging.Handler] = [
        h for h in root.handlers if any(isinstance(f, RedactDigits) for f in h.filters)
    ]
    if not ours:
        stream = logging.StreamHandler()
        stream.addFilter(RedactDigits())
        root.addHandler(stream)
        ours = [stream]
    for handler in ours:
        handler.setFormatter(formatter(fmt))
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "aiogram.event", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
