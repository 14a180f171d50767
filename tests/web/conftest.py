"""Every door open at once: Telegram (people and staff), both Zalo doors and the phone line, against fakes.

The edge tests and the fuzzing post to every webhook, signed as the platform signs, so that what is
tested is the parser behind the signature check, not the check.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from bot.channels.zalo.oa import signature
from bot.settings import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo
from tests.support.db import row_counts  # noqa: F401 (re-exported for the tests here)

TELEGRAM_SECRET = "edge_webhook-secret_0123456789"
ZALO_SECRET = "zalo-webhook-secret-42"
OA_KEY = "oa-secret-key-for-the-mac"
TWILIO_TOKEN = "twilio-auth-token-for-tests-0123456789"
PUBLIC_URL = "https://hotline.example.org"


@pytest.fixture
def settings(settings: Settings, telegram: FakeTelegram, zalo: FakeZalo) -> Settings:
    return settings.model_copy(
        update={
            "public_url": PUBLIC_URL,
            "telegram_token": SecretStr(telegram.token),
            "telegram_webhook_secret": SecretStr(TELEGRAM_SECRET),
            "telegram_api_url": telegram.url,
            "telegram_staff_chat_id": -1001234567890,
            "zalo_bot_token": SecretStr(zalo.bot_token),
            "zalo_bot_webhook_secret": SecretStr(ZALO_SECRET),
            "zalo_bot_api_url": zalo.url,
            "zalo_oa_app_id": zalo.app_id,
            "zalo_oa_secret_key": SecretStr(OA_KEY),
            "zalo_oa_app_secret": SecretStr(zalo.app_secret),
            "zalo_oa_access_token": SecretStr("access-0"),
            "zalo_oa_refresh_token": SecretStr("refresh-0"),
            "zalo_oa_api_url": zalo.url,
            "zalo_oa_oauth_url": zalo.url,
            "twilio_account_sid": "AC" + "0" * 32,
            "twilio_auth_token": SecretStr(TWILIO_TOKEN),
            "twilio_caller_id": "+842873001234",
            "oncall_numbers": [SecretStr("+84911111111")],
        }
    )


# -- posting as each platform does ------------------------------------------------------------------


async def post_telegram(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"}
    return await client.post("/telegram/webhook", content=body, headers=headers)


async def post_zalo(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    headers = {"X-Bot-Api-Secret-Token": ZALO_SECRET, "Content-Type": "application/json"}
    return await client.post("/zalo/webhook", content=body, headers=headers)


async def post_oa(client: httpx.AsyncClient, body: bytes, *, app_id: str, timestamp: str) -> httpx.Response:
    """Signed with the timestamp the body claims (the signature covers it; the parser reads it back)."""
    mac = signature(app_id, body, timestamp, OA_KEY)
    headers = {"X-ZEvent-Signature": mac, "Content-Type": "application/json"}
    return await client.post("/zalo-oa/webhook", content=body, headers=headers)


async def post_twilio(
    client: httpx.AsyncClient, path: str, form: dict[str, str], query: str = ""
) -> httpx.Response:
    """A form posted and signed as Twilio signs it (the public URL, its query, the sorted parameters)."""
    url = f"{PUBLIC_URL}{path}" + (f"?{query}" if query else "")
    mac = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    return await client.post(
        f"{path}?{query}" if query else path,
        content=urlencode(form).encode(),
        headers={"X-Twilio-Signature": mac, "Content-Type": "application/x-www-form-urlencoded"},
    )


def as_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
