"""Telegram built after the server listens (``hotline serve``): the web chat answers meanwhile, and what
comes for Telegram in the meantime waits for it, is answered once it is ready, and is never lost."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, fields
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.channels import pending as pending_module
from bot.channels.pending import RETRY_SECONDS, PendingChannel, PendingPager
from bot.channels.registry import Lazy
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.staff import TelegramPager
from bot.clock import FrozenClock
from bot.engine.content import Content
from bot.messages import InboundMessage
from bot.nlu import NLU
from bot.runtime import Services, build_services
from bot.settings import Settings
from bot.store.models import OutboxEvent
from bot.web.app import create_app
from tests.channels.telegram.helpers import post_update
from tests.fakes.telegram_api import FakeTelegram
from tests.support.db import drain

CHAT = 555_000_111
STAFF_GROUP = -100777


@dataclass(frozen=True)
class HeldLazy(Lazy):
    """A registry entry whose import waits until the test lets it go (a slow aiogram import)."""

    go: threading.Event = field(default_factory=threading.Event)
    broken: bool = False

    def load(self) -> Callable[..., Any]:
        self.go.wait(10)
        if self.broken:
            raise ImportError("no module named aiogram (a broken install)")
        return super().load()


@dataclass
class Starting:
    services: Services
    http: httpx.AsyncClient
    held: HeldLazy


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"telegram_staff_chat_id": STAFF_GROUP})


async def start(settings: Settings, clock: FrozenClock, nlu: NLU, content: Content, **held: Any) -> Starting:
    services = build_services(settings, clock=clock, nlu=nlu, content=content, background=True)
    [(pending, lazy)] = [item for item in services.later if isinstance(item[0], PendingChannel)]
    assert isinstance(pending, PendingChannel) and pending.name == "telegram"
    entry = HeldLazy(**{f.name: getattr(lazy, f.name) for f in fields(lazy)}, **held)
    services.later[services.later.index((pending, lazy))] = (pending, entry)
    app = create_app(services=services, run_dispatcher=False)
    await services.start(dispatcher=False)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    return Starting(services, http, entry)


@pytest.fixture
async def starting(
    settings: Settings, clock: FrozenClock, nlu: NLU, content: Content
) -> AsyncIterator[Starting]:
    started = await start(settings, clock, nlu, content)
    try:
        yield started
    finally:
        started.held.go.set()
        await started.http.aclose()
        await started.services.close()


async def ready(services: Services) -> None:
    channel = services.channels["telegram"]
    if isinstance(channel, PendingChannel):
        assert await channel.wait(10)
    pager = services.pagers["telegram"]
    if isinstance(pager, PendingPager):
        assert await pager.wait(10)


async def test_a_webhook_update_sent_while_telegram_is_being_built_is_answered_once_it_is_ready(
    starting: Starting, telegram: FakeTelegram
) -> None:
    services, http = starting.services, starting.http
    assert isinstance(services.channels["telegram"], PendingChannel)
    webchat = await http.post("/api/webchat", json={"session": secrets.token_hex(16), "text": "PrEP là gì"})
    assert webchat.status_code == 200 and webchat.json()["replies"], "the web chat answers meanwhile"
    assert (await http.get("/healthz")).json()["status"] == "starting"

    update = asyncio.create_task(post_update(http, telegram.text_update(CHAT, "PrEP là gì")))
    await asyncio.sleep(0.2)
    assert not update.done(), "the update waits for the channel: neither refused nor taken unread"
    starting.held.go.set()
    response = await update
    assert response.status_code == 200
    await ready(services)
    await drain(services)
    assert telegram.sent(CHAT), "the person got the answer"
    assert isinstance(services.channels["telegram"], TelegramChannel)
    assert isinstance(services.pagers["telegram"], TelegramPager)
    assert (await http.get("/healthz")).json()["status"] == "ok"


async def test_replies_and_pages_queued_before_telegram_is_ready_wait_and_then_go(
    starting: Starting, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    services = starting.services
    # A Telegram reply (e.g. a counsellor's message relayed) and an emergency's pages, while it builds.
    await services.engine.handle(
        InboundMessage("telegram", str(CHAT), text="xin chao", address=str(CHAT), transport_id="t1")
    )
    outcome = await services.engine.handle(
        InboundMessage(
            "webchat", secrets.token_hex(16), text="cuu em voi, ck dang danh em", transport_id="w1"
        )
    )
    assert outcome.emergency
    await drain(services)
    assert telegram.calls == []
    async with services.sessionmaker() as session:
        waiting = (
            await session.execute(select(OutboxEvent).where(OutboxEvent.status == "pending"))
        ).scalars()
        kinds = {(e.kind, e.attempts) for e in waiting}
    assert ("deliver", 0) in kinds and ("page_send", 0) in kinds, "re-timed, not counted as failures"

    starting.held.go.set()
    await ready(services)
    clock.advance(seconds=RETRY_SECONDS)
    await drain(services)
    assert telegram.sent(CHAT), "the reply went once the channel was there"
    assert telegram.sent(STAFF_GROUP), "and the page to the staff group"


async def test_a_webhook_update_waits_only_so_long_then_telegram_is_told_to_send_it_again(
    starting: Starting, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pending_module, "WAIT_SECONDS", 0.05)
    response = await post_update(starting.http, telegram.text_update(CHAT, "PrEP là gì"))
    assert response.status_code == 503 and response.headers["Retry-After"]
    starting.held.go.set()
    await ready(starting.services)
    response = await post_update(starting.http, telegram.text_update(CHAT, "PrEP là gì"))
    assert response.status_code == 200


async def test_a_channel_that_cannot_be_built_says_so_and_loses_nothing(
    settings: Settings, clock: FrozenClock, nlu: NLU, content: Content, telegram: FakeTelegram
) -> None:
    started = await start(settings, clock, nlu, content, broken=True)
    services, http = started.services, started.http
    try:
        started.held.go.set()
        channel = services.channels["telegram"]
        assert isinstance(channel, PendingChannel)
        assert not await channel.wait(10)
        health = await http.get("/healthz")
        assert health.status_code == 503 and health.json()["failed"] == ["telegram"]
        response = await post_update(http, telegram.text_update(CHAT, "PrEP là gì"))
        assert response.status_code == 503, "Telegram keeps the update and sends it again"
        await services.engine.handle(
            InboundMessage("telegram", str(CHAT), text="xin chao", address=str(CHAT), transport_id="t2")
        )
        await drain(services)
        async with services.sessionmaker() as session:
            statuses = {e.status for e in (await session.execute(select(OutboxEvent))).scalars()}
        assert statuses == {"pending"}, "the reply waits for a restart with the setting fixed"
    finally:
        await http.aclose()
        await services.close()
