"""Log lines, as text or as JSON lines (HOTLINE_LOG_FORMAT=json): digit runs masked either way."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import JsonLines, RedactDigits, formatter, setup_logging
from bot.settings import Settings

PHONE, CHAT = "0912 345 678", "-1001234567890"


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO, logging.StreamHandler[io.StringIO]]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactDigits())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger, stream, handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_json_lines_parse_and_are_masked(
    logged: tuple[logging.Logger, io.StringIO, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, stream, handler = logged
    handler.setFormatter(JsonLines())
    logger.warning("sent to %s, chat %s, %d pages", PHONE, CHAT, 3)
    try:
        raise RuntimeError(f"Bad Request: chat {CHAT} not found")
    except RuntimeError:
        logger.exception("could not page")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, "one object a line, the traceback inside it"
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "WARNING" and first["logger"] == "tests.logs"
    assert first["message"] == "sent to [redacted], chat -[redacted], 3 pages"
    assert first["time"].endswith("+00:00")
    assert second["message"] == "could not page" and second["level"] == "ERROR"
    assert "RuntimeError: Bad Request: chat -[redacted] not found" in second["exception"]
    assert "Traceback" in second["exception"]
    for digits in ("345 678", "1234567890"):
        assert digits not in stream.getvalue()


def test_text_lines_mask_the_traceback_too(
    logged: tuple[logging.Logger, io.StringIO, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, stream, handler = logged
    handler.setFormatter(formatter("text"))
    try:
        raise RuntimeError(f"chat {CHAT} not found")
    except RuntimeError:
        logger.exception("could not page %s", PHONE)
    out = stream.getvalue()
    assert "could not page [redacted]" in out and "chat -[redacted] not found" in out
    assert "1234567890" not in out and "345 678" not in out


def test_the_format_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_LOG_FORMAT", "json")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.log_format == "json"
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        setup_logging("INFO", settings.log_format)
        ours = [h for h in root.handlers if any(isinstance(f, RedactDigits) for f in h.filters)]
        assert len(ours) == 1 and isinstance(ours[0].formatter, JsonLines)
        setup_logging("INFO", "text")
        assert not isinstance(ours[0].formatter, JsonLines), "set up again: the same handler, text"
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
        root.setLevel(level)
    monkeypatch.setenv("HOTLINE_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        Settings(_env_file=None)  # type: ignore[call-arg]
