"""What an operator's monitoring reads: /readyz failing for each reason, and /metrics behind its token,
with every family present after one emergency, and no label that could identify anyone."""

from __future__ import annotations

import json
import re
import secrets
from datetime import date
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import select

from bot.channels.pending import PendingChannel
from bot.clock import FrozenClock
from bot.escalation.rota import import_rota, parse_rota
from bot.metrics import REGISTRY
from bot.runtime import Services
from bot.store.db import make_engine
from bot.store.models import Counsellor
from bot.store.outbox import enqueue
from bot.web.ops import stale_after
from tests.escalation.conftest import ROTA, RecordingPager
from tests.fakes.telegram_api import FakeTelegram
from tests.support.db import drain
from tests.web.conftest import post_telegram

TOKEN = "metrics-token-for-tests-4f1d"
EMERGENCY = "cuu em voi, ck dang danh em"


async def ready(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    return response.status_code, response.json()


# -- /readyz -------------------------------------------------------------------------------------------


async def test_ready_when_everything_answers(client: httpx.AsyncClient) -> None:
    assert await ready(client) == (200, {"ready": True})
    assert (await client.get("/healthz")).json() == {"status": "ok"}, "liveness is unchanged"


async def test_not_ready_when_the_database_does_not_answer(
    client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = make_engine("postgresql+asyncpg://nobody:wrong@127.0.0.1:9/nothing")
    monkeypatch.setattr(services, "db", broken)
    try:
        assert await ready(client) == (503, {"ready": False, "reasons": ["database"]})
        assert (await client.get("/healthz")).status_code == 200, "alive all the same"
    finally:
        await broken.dispose()


async def test_not_ready_without_content_or_model(
    client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services.content.flows, "nodes", {})
    assert await ready(client) == (503, {"ready": False, "reasons": ["content"]})
    monkeypatch.undo()

    class Unloaded:
        ready = False  # an NLU that says its model is not loaded (yet)

    monkeypatch.setattr(services, "nlu", Unloaded())
    assert await ready(client) == (503, {"ready": False, "reasons": ["model"]})


async def test_not_ready_while_the_dispatcher_has_not_run_or_has_stopped(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    services.dispatching = True  # as `hotline serve` with its dispatcher
    assert await ready(client) == (503, {"ready": False, "reasons": ["dispatcher_starting"]})
    await services.dispatcher.run_once()
    assert await ready(client) == (200, {"ready": True})
    clock.advance(seconds=stale_after(services) - 1)
    assert (await ready(client))[0] == 200
    clock.advance(seconds=2)
    assert await ready(client) == (503, {"ready": False, "reasons": ["dispatcher_stale"]})
    await services.dispatcher.run_once()
    assert await ready(client) == (200, {"ready": True}), "ready again once it looks again"


async def test_not_ready_while_a_channel_is_being_built_or_could_not_be(
    client: httpx.AsyncClient, services: Services
) -> None:
    pending = PendingChannel("telegram", push=True, prefix=None)
    services.channels["telegram"] = pending
    services.later.append((pending, None))  # type: ignore[arg-type]  # its builder is not looked at
    try:
        assert await ready(client) == (503, {"ready": False, "reasons": ["starting:telegram"]})
        pending.fail(RuntimeError("token refused"))
        assert await ready(client) == (503, {"ready": False, "reasons": ["failed:telegram"]})
    finally:
        services.later.clear()
        del services.channels["telegram"]


# -- /metrics: off the public site -----------------------------------------------------------------------


async def test_metrics_are_not_found_without_a_token_setting(
    client: httpx.AsyncClient, services: Services
) -> None:
    assert services.settings.metrics_token is None
    response = await client.get("/metrics")
    unknown = await client.get("/no-such-page")
    assert (response.status_code, response.text) == (404, unknown.text), "as if there were no such route"
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404, "no token set: nothing is served, whatever is sent"


async def test_metrics_need_the_right_bearer_token(client: httpx.AsyncClient, services: Services) -> None:
    services.settings.metrics_token = SecretStr(TOKEN)
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer "},
    ):
        response = await client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert TOKEN not in response.text
        assert response.headers["www-authenticate"] == "Bearer"
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE hotline_messages_total counter" in response.text
    assert "hotline_ready 1.0" in response.text


# -- /metrics: every family, after one emergency ---------------------------------------------------------


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the exposition ``text`` (0 if absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def before(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def paged_by_rota(services: Services) -> RecordingPager:
    """The escalation tests' rota (Lan, then Minh, all day), and a pager recording the pages."""
    plan = parse_rota(ROTA, today=date(2026, 1, 1), weeks=4)
    async with services.sessionmaker() as session, session.begin():
        await import_rota(session, services.crypto, plan, now=services.clock.now())
    pager = RecordingPager("telegram")
    services.pagers["telegram"] = pager
    return pager


FAMILIES = (
    "hotline_messages",
    "hotline_emergencies",
    "hotline_emergency_safety_reply_seconds",
    "hotline_escalation_first_page_seconds",
    "hotline_escalation_taken_seconds",
    "hotline_outbox_depth",
    "hotline_outbox_oldest_age_seconds",
    "hotline_outbox_dead_rows",
    "hotline_webhook_refused",
    "hotline_flood_capped",
    "hotline_console_login_refused",
    "hotline_oncall_counsellors",
    "hotline_ready",
)


async def test_every_family_after_one_emergency_and_no_label_identifies_anyone(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    pager = await paged_by_rota(services)
    services.settings.metrics_token = SecretStr(TOKEN)
    counts = {
        "messages": before("hotline_messages_total", channel="webchat"),
        "emergencies": before("hotline_emergencies_total", level="emergency", kind="violence_now"),
        "safety": before("hotline_emergency_safety_reply_seconds_count"),
        "first_page": before("hotline_escalation_first_page_seconds_count", level="emergency"),
        "taken": before("hotline_escalation_taken_seconds_count", level="emergency"),
        "taken_sum": before("hotline_escalation_taken_seconds_sum", level="emergency"),
        "webhook": before("hotline_webhook_refused_total", channel="telegram", reason="unauthenticated"),
        "capped": before("hotline_flood_capped_total", channel="webchat", cap="new_session"),
        "login": before("hotline_console_login_refused_total", reason="wrong"),
    }

    person = secrets.token_hex(16)
    response = await client.post("/api/webchat", json={"session": person, "text": EMERGENCY})
    assert response.status_code == 200 and "113" in response.json()["replies"][0]["text"]
    await drain(services)
    assert pager.pages, "the first page went out"
    clock.advance(seconds=45)
    escalation_id = pager.pages[0][1].escalation_id
    async with services.sessionmaker() as session:
        lan = (await session.execute(select(Counsellor).where(Counsellor.display_name == "Lan"))).scalar_one()
    assert (await services.desk.take(escalation_id, lan.id, via="console")).taken
    # A delivery that can never go (no such channel) is given up: a dead row.
    async with services.sessionmaker() as session, session.begin():
        await enqueue(
            session, services.crypto, kind="deliver", channel="nowhere",
            payload={"address": "0912345678", "replies": []}, now=clock.now(),
        )  # fmt: skip
    await drain(services)
    # A webhook call without the secret, a second web chat session over the cap, a wrong password.
    wrong = await client.post(
        "/telegram/webhook", json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "no"}
    )
    assert wrong.status_code == 401
    services.settings.flood_sessions_per_minute = 1
    over = await client.post("/api/webchat", json={"session": secrets.token_hex(16), "text": "PrEP là gì"})
    assert over.status_code == 429
    login = await client.post("/console/login", data={"username": "nobody", "password": "wrong password"})
    assert login.status_code == 401

    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    text = response.text
    for family in FAMILIES:
        assert f"# TYPE {family}" in text, family

    def grew(key: str, name: str, **labels: str) -> float:
        return sample(text, name, **labels) - counts[key]

    assert grew("messages", "hotline_messages_total", channel="webchat") == 1, "the one let through"
    assert grew("emergencies", "hotline_emergencies_total", level="emergency", kind="violence_now") == 1
    assert grew("safety", "hotline_emergency_safety_reply_seconds_count") == 1
    assert sample(text, "hotline_emergency_safety_reply_seconds_bucket", le="60.0") > 0
    assert grew("first_page", "hotline_escalation_first_page_seconds_count", level="emergency") == 1, "once"
    assert grew("taken", "hotline_escalation_taken_seconds_count", level="emergency") == 1
    assert grew("taken_sum", "hotline_escalation_taken_seconds_sum", level="emergency") == 45, (
        "taken at +45 s"
    )
    assert grew("webhook", "hotline_webhook_refused_total", channel="telegram", reason="unauthenticated") == 1
    assert grew("capped", "hotline_flood_capped_total", channel="webchat", cap="new_session") == 1
    assert grew("login", "hotline_console_login_refused_total", reason="wrong") == 1
    # The re-page waits for its time (taken meanwhile): pending, not due, so no age yet.
    assert sample(text, "hotline_outbox_depth", kind="repage", status="pending") == 1
    assert sample(text, "hotline_outbox_oldest_age_seconds", kind="repage", status="pending") == 0
    assert sample(text, "hotline_outbox_dead_rows", kind="deliver") == 1
    assert sample(text, "hotline_oncall_counsellors") == 2, "Lan and Minh, all day in the test rota"
    assert sample(text, "hotline_ready") == 1

    # Nothing in a label could identify anyone: fixed words only (bucket bounds are numbers by design).
    digits, hexes = re.compile(r"\d{5,}"), re.compile(r"[0-9a-f]{8,}")
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            for name, value in s.labels.items():
                if name == "le":
                    continue
                assert re.fullmatch(r"[a-z][a-z_]*", value), (s.name, name, value)
                assert not digits.search(value) and not hexes.search(value)
                assert value not in (person, "0912345678") and value not in EMERGENCY
    for secret in (person, EMERGENCY, "0912345678", "1001", "1002", TOKEN):
        # A whole token only: a sample's value such as 7.6818464710013 holds "1001" by chance.
        assert not re.search(rf"(?<![\w.]){re.escape(secret)}(?![\w.])", text), secret


async def test_a_due_event_ages_and_the_rota_can_be_empty(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    services.settings.metrics_token = SecretStr(TOKEN)
    async with services.sessionmaker() as session, session.begin():
        await enqueue(session, services.crypto, kind="page_send", payload={}, now=clock.now())
    clock.advance(seconds=90)  # nobody dispatches: the page has waited a minute and a half
    text = (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
    assert sample(text, "hotline_outbox_depth", kind="page_send", status="pending") == 1
    assert sample(text, "hotline_outbox_oldest_age_seconds", kind="page_send", status="pending") == 90
    assert sample(text, "hotline_oncall_counsellors") == 0, "no rota: nobody on call"
    services.dispatching = True  # and a dispatcher that never ran: not ready, and said so
    text = (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
    assert sample(text, "hotline_ready") == 0
    assert sample(text, "hotline_not_ready", reason="dispatcher_starting") == 1


async def test_a_safety_reply_sent_through_the_outbox_is_timed_when_sent(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    count = before("hotline_emergency_safety_reply_seconds_count")
    total = before("hotline_emergency_safety_reply_seconds_sum")
    body = json.dumps(telegram.text_update(424242, EMERGENCY)).encode()
    assert (await post_telegram(client, body)).status_code == 200
    assert before("hotline_emergency_safety_reply_seconds_count") == count, "not sent yet"
    clock.advance(seconds=3)  # the outbox sends it 3 s after it was written
    await drain(services)
    assert any("113" in str(call.params.get("text")) for call in telegram.sent(424242))
    assert before("hotline_emergency_safety_reply_seconds_count") == count + 1
    assert before("hotline_emergency_safety_reply_seconds_sum") - total == 3


async def test_the_first_page_is_timed_once_even_by_a_process_that_remembers_nothing(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    pager = await paged_by_rota(services)
    count = before("hotline_escalation_first_page_seconds_count", level="emergency")
    response = await client.post("/api/webchat", json={"session": secrets.token_hex(16), "text": EMERGENCY})
    assert response.status_code == 200
    clock.advance(seconds=2)
    await drain(services)
    assert len(pager.pages) == 2, "Lan and the staff group"
    assert before("hotline_escalation_first_page_seconds_count", level="emergency") == count + 1
    assert before("hotline_escalation_first_page_seconds_sum", level="emergency") >= 2
    paging = services.dispatcher.handlers["page_send"].__self__  # type: ignore[attr-defined]
    paging._first_paged.clear()  # as another process, which timed nothing, would be
    clock.advance(seconds=121)
    await drain(services)
    assert len(pager.pages) == 3, "the re-page to Minh went out"
    assert before("hotline_escalation_first_page_seconds_count", level="emergency") == count + 1, (
        "not a first"
    )
