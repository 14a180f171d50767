"""Fixtures for the Zalo channels: a fake Zalo on loopback, settings that point at it, and helpers that
post webhooks the way Zalo does (the Bot Platform's secret header, the OA's signature)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.channels.zalo.oa import signature
from bot.clock import FrozenClock
from bot.settings import Settings
from tests.fakes.zalo_api import FakeZalo
from tests.support.db import count, drain  # noqa: F401 (re-exported for the tests here)

BOT_SECRET = "zalo-webhook-secret-42"
OA_SECRET_KEY = "oa-secret-key-for-the-mac"
USER = "8102937465019283746"  # a raw Zalo user id: it must never be stored or logged
OTHER_USER = "5550001112223334445"
DISPLAY_NAME = "Trần Thị Mai"


@pytest.fixture
def settings(settings: Settings, zalo: FakeZalo) -> Settings:
    """The test settings, with both Zalo doors configured against the fake."""
    return settings.model_copy(
        update={
            "zalo_bot_token": SecretStr(zalo.bot_token),
            "zalo_bot_webhook_secret": SecretStr(BOT_SECRET),
            "zalo_bot_api_url": zalo.url,
            "zalo_oa_app_id": zalo.app_id,
            "zalo_oa_secret_key": SecretStr(OA_SECRET_KEY),
            "zalo_oa_app_secret": SecretStr(zalo.app_secret),
            "zalo_oa_access_token": SecretStr("access-0"),
            "zalo_oa_refresh_token": SecretStr("refresh-0"),
            "zalo_oa_api_url": zalo.url,
            "zalo_oa_oauth_url": zalo.url,
        }
    )


# -- the Bot Platform -------------------------------------------------------------------------------


def bot_event(
    text: str | None = None,
    *,
    message_id: str,
    event: str = "message.text.received",
    user: str = USER,
    chat_type: str = "PRIVATE",
    envelope: bool = True,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "from": {"id": user, "display_name": DISPLAY_NAME, "is_bot": False},
        "chat": {"id": user if chat_type == "PRIVATE" else "g-" + user, "chat_type": chat_type},
        "message_id": message_id,
        "date": 1767582000000,
    }
    if text is not None:
        message["text"] = text
    inner = {"event_name": event, "message": message}
    return {"ok": True, "result": inner} if envelope else inner


async def post_bot(
    client: httpx.AsyncClient, body: Any, *, secret: str | None = BOT_SECRET
) -> httpx.Response:
    headers = {"X-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return await client.post("/zalo/webhook", json=body, headers=headers)


# -- the Official Account ---------------------------------------------------------------------------


def oa_event(
    text: str | None, *, msg_id: str, clock: FrozenClock, app_id: str, event: str = "user_send_text",
    user: str = USER,
) -> dict[str, Any]:  # fmt: skip
    message: dict[str, Any] = {"msg_id": msg_id}
    if text is not None:
        message["text"] = text
    return {
        "app_id": app_id,
        "user_id_by_app": "app-scoped-" + user,
        "event_name": event,
        "timestamp": str(int(clock.now().timestamp() * 1000)),
        "sender": {"id": user},
        "recipient": {"id": "oa-1234"},
        "message": message,
    }


async def post_oa(
    client: httpx.AsyncClient, event: dict[str, Any], *, app_id: str, key: str = OA_SECRET_KEY,
    mac: str | None = None,
) -> httpx.Response:  # fmt: skip
    """Post an OA event signed as Zalo signs it (or with ``mac`` given)."""
    body = json.dumps(event, ensure_ascii=False).encode()
    header = mac if mac is not None else signature(app_id, body, str(event.get("timestamp")), key)
    return await client.post(
        "/zalo-oa/webhook",
        content=body,
        headers={"Content-Type": "application/json", "X-ZEvent-Signature": header},
    )
