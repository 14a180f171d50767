"""The counsellor's desk over HTTP (issue 21): what the queue tells a counsellor at a glance."""

from __future__ import annotations

import secrets

import httpx

from bot.clock import FrozenClock
from bot.runtime import Services
from tests.console.test_console import add_staff, emergency, login


async def test_the_queue_shows_level_kind_language_channel_waiting_and_turns_late(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    await add_staff(services, "lan")
    await emergency(client)
    english = secrets.token_hex(16)
    await client.post("/api/webchat", json={"session": english, "text": "hello"})
    await client.post("/api/webchat", json={"session": english, "text": "I want to talk to a counsellor"})
    await login(client, "lan")

    queue = (await client.get("/console/api/queue")).json()
    assert [(i["level"], i["kind"], i["locale"], i["channel"]) for i in queue] == [
        ("emergency", "emergency", "vi", "webchat"),
        ("person", "counsellor", "en", "webchat"),
    ]
    assert queue[0]["risk"] == "violence_now"
    assert not any(i["late"] for i in queue), "just arrived"

    clock.advance(seconds=services.settings.page_ack_seconds - 1)
    assert not any(i["late"] for i in (await client.get("/console/api/queue")).json())
    clock.advance(seconds=1)
    queue = (await client.get("/console/api/queue")).json()
    assert all(i["late"] for i in queue), "waiting as long as the page's acknowledgement window: red"
    assert queue[0]["waited"] == services.settings.page_ack_seconds


async def test_every_console_page_carries_the_alarm_once_logged_in(
    client: httpx.AsyncClient, services: Services
) -> None:
    login_page = await client.get("/console/login")
    assert 'id="alarm"' not in login_page.text and "alarm.js" not in login_page.text
    await add_staff(services, "lan")
    await login(client, "lan")
    for path in ("/console", "/console/rota"):
        page = await client.get(path)
        assert 'id="alarm"' in page.text and "/console/static/alarm.js" in page.text, path
    assert (await client.get("/console/static/alarm.js")).status_code == 200


async def take_first(client: httpx.AsyncClient, token: str) -> int:
    escalation_id = int((await client.get("/console/api/queue")).json()[0]["id"])
    response = await client.post(f"/console/escalations/{escalation_id}/take", data={"token": token})
    assert response.status_code == 303
    return escalation_id


async def test_saved_replies_are_offered_in_the_persons_language_with_their_shortcuts(
    client: httpx.AsyncClient, services: Services
) -> None:
    await add_staff(services, "lan")
    english = secrets.token_hex(16)
    await client.post("/api/webchat", json={"session": english, "text": "hello"})
    await client.post("/api/webchat", json={"session": english, "text": "I want to talk to a counsellor"})
    token = await login(client, "lan")
    escalation_id = await take_first(client, token)
    page = (await client.get(f"/console/escalations/{escalation_id}")).text
    # the label in the counsellor's language (Vietnamese), the text in the person's (English)
    assert 'data-shortcut="/so"' in page and "Các số khẩn cấp toàn quốc" in page
    assert "You can call these 24/7" in page and "Gọi được 24/7" not in page
    assert "/console/static/saved.js" in page
