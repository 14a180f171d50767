"""What the first emergency after a start uses is built once the server answers, not on that emergency.

aiogram's validators (built on first use: :mod:`bot.channels.telegram.deferred`) and twilio's REST
resources (imported on the first page) delayed the first emergency's reply and page by seconds after
every start or restart (``benchmarks/emergency_bench.py``). :meth:`bot.runtime.Services.warm` builds them
in a thread once every channel and pager is built.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

import pytest

from bot.runtime import Services


class Part:
    def __init__(self, *, broken: bool = False) -> None:
        self.broken = broken
        self.threads: list[str] = []

    def warm(self) -> None:
        self.threads.append(threading.current_thread().name)
        if self.broken:
            raise RuntimeError("cannot warm")

    async def stop(self) -> None:
        """A channel's, for the services' close."""

    async def close(self) -> None:
        """A pager's, for the services' close."""


async def test_every_channel_and_pager_is_warmed_in_a_thread_and_a_failure_is_not_fatal(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    channel, broken, pager = Part(), Part(broken=True), Part()
    services.channels["a"] = channel  # type: ignore[assignment]
    services.pagers["b"] = broken  # type: ignore[assignment]
    services.pagers["c"] = pager  # type: ignore[assignment]
    with caplog.at_level(logging.WARNING, logger="bot.runtime"):
        await services.warm()
    assert len(channel.threads) == len(broken.threads) == len(pager.threads) == 1
    assert channel.threads[0] != threading.current_thread().name  # the event loop's thread keeps answering
    assert "Part: not warmed up (cannot warm); built on first use" in caplog.text


def test_the_warm_up_builds_what_an_emergency_uses() -> None:
    """In a fresh interpreter: nothing is built by the import, everything an emergency uses is after."""
    script = """
import sys
import bot.channels.telegram
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Update
from bot.channels.telegram.deferred import warm
from bot.escalation.twilio_pager import PAGE_MODULES, TwilioPager
from bot.settings import Settings

used = (Update, CallbackQuery, InlineKeyboardMarkup, SendMessage)
assert not any(model.__pydantic_complete__ for model in used)
assert not any(module in sys.modules for module in PAGE_MODULES)
warm()
TwilioPager(Settings(env="test"), "sms").warm()
assert all(model.__pydantic_complete__ for model in used)
assert all(module in sys.modules for module in PAGE_MODULES)
print("warm")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "warm"
