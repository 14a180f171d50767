"""The phone line's fixtures: Twilio settings, and a fake caller that talks to the app like Twilio."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.clock import FrozenClock
from bot.runtime import Services
from bot.settings import Settings
from tests.fakes.twilio_caller import FakeCaller
from tests.support.db import dump_database

AUTH_TOKEN = "twilio-auth-token-for-tests-0123456789"
# The app sits behind a proxy that serves it under /hotline: Twilio signs this address, not the app's.
PUBLIC_URL = "https://hotline.example.org/hotline"
HOTLINE = "+842873001234"
ONCALL = ("+84911111111", "+84922222222")
CALLER = "+84901234567"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "public_url": PUBLIC_URL,
            "twilio_account_sid": "AC" + "0" * 32,
            "twilio_auth_token": SecretStr(AUTH_TOKEN),
            "twilio_caller_id": HOTLINE,
            "oncall_numbers": [SecretStr(n) for n in ONCALL],
            "dial_timeout_seconds": 20,
            "office_hours": "08:00-20:00",
            "timezone": "Asia/Ho_Chi_Minh",
        }
    )


@pytest.fixture
def phone(client: httpx.AsyncClient, clock: FrozenClock) -> Callable[..., FakeCaller]:
    """Make a fake caller (``phone()``, or ``phone(number=...)``)."""

    def make(**kwargs: Any) -> FakeCaller:
        return FakeCaller(client, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, clock=clock, **kwargs)

    return make


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record of the test, at every level."""
    caplog.set_level(logging.DEBUG)
    return caplog


def number_forms(number: str) -> list[str]:
    """A Vietnamese number as it may be written: +84901234567, 84901234567, 0901234567, 901234567."""
    national = number.removeprefix("+84")
    return [number, number.lstrip("+"), f"0{national}", national]


async def assert_number_kept_nowhere(services: Services, logs: pytest.LogCaptureFixture, number: str) -> None:
    stored = await dump_database(services)
    for form in number_forms(number):
        assert form not in stored, f"{form} is stored in clear"
        assert form not in logs.text, f"{form} was logged"
