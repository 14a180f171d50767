"""Fixtures for Messenger: a fake Graph API on loopback, settings that point at it, and helpers that post
webhooks the way Meta does (signed with the app secret), plus the escalation fixtures (a rota, a pager that
records pages)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.channels.messenger import signature
from bot.settings import Settings
from tests.escalation.conftest import RecordingPager, rota, telegram_pager  # noqa: F401 (fixtures)
from tests.fakes.graph_api import FakeGraph
from tests.support.db import count, drain  # noqa: F401 (re-exported for the tests here)

APP_SECRET = "messenger-app-secret-0123456789"
VERIFY_TOKEN = "messenger-verify-token-42"
PAGE_ID = "1029384756"
PSID = "6612345678901234"  # a raw page-scoped id: it must never be stored or logged
OTHER_PSID = "7712345678901299"


@pytest.fixture
def settings(settings: Settings, graph: FakeGraph) -> Settings:
    """The test settings, with Messenger configured against the fake Graph API."""
    return settings.model_copy(
        update={
            "messenger_page_token": SecretStr(graph.page_token),
            "messenger_app_secret": SecretStr(APP_SECRET),
            "messenger_verify_token": SecretStr(VERIFY_TOKEN),
            "messenger_api_url": graph.url,
            "messenger_api_version": graph.version,
        }
    )


def page(*items: dict[str, Any], object_: str = "page") -> dict[str, Any]:
    """A webhook body: one entry with these ``messaging`` items."""
    return {"object": object_, "entry": [{"id": PAGE_ID, "time": 1767582000000, "messaging": list(items)}]}


def _base(psid: str) -> dict[str, Any]:
    return {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": 1767582000000}


def text(body: str, *, mid: str, psid: str = PSID) -> dict[str, Any]:
    return _base(psid) | {"message": {"mid": mid, "text": body}}


def quick_reply(title: str, payload: str, *, mid: str, psid: str = PSID) -> dict[str, Any]:
    return _base(psid) | {"message": {"mid": mid, "text": title, "quick_reply": {"payload": payload}}}


def postback(payload: str, *, mid: str, psid: str = PSID, title: str = "Get Started") -> dict[str, Any]:
    return _base(psid) | {"postback": {"mid": mid, "title": title, "payload": payload}}


def attachment(*, mid: str, psid: str = PSID) -> dict[str, Any]:
    files = [{"type": "image", "payload": {"url": "https://scontent.example/photo.jpg"}}]
    return _base(psid) | {"message": {"mid": mid, "attachments": files}}


async def post(
    client: httpx.AsyncClient, body: Any, *, secret: str = APP_SECRET, header: str | None = None
) -> httpx.Response:
    """Post a webhook call signed as Meta signs it (or with ``header`` as the signature given)."""
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    sig = header if header is not None else signature(raw, secret)
    headers = {"Content-Type": "application/json"}
    if sig:
        headers["X-Hub-Signature-256"] = sig
    return await client.post("/messenger/webhook", content=raw, headers=headers)
