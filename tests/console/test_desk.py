"""The counsellor's desk over HTTP (issue 21): what the queue tells a counsellor at a glance."""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.runtime import Services
from bot.store.models import AuditEntry, DeskNote, Escalation
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


FORM = {"reasons": ["violence_partner", "legal_question"], "risk": "medium", "follow_up": "yes",
        "referrals": ["police-113", "peace-house-1900969680"], "outcome": "police"}  # fmt: skip


async def test_closing_takes_the_short_form_as_codes_and_refuses_anything_else(
    client: httpx.AsyncClient, services: Services
) -> None:
    await add_staff(services, "lan")
    await emergency(client)
    token = await login(client, "lan")
    escalation_id = await take_first(client, token)
    url = f"/console/escalations/{escalation_id}/close"

    assert (await client.post(url, data={"token": token, "outcome": "safe"})).status_code == 422, "no form"
    for bad, why in (
        ({"reasons": ["i was scared"]}, "unknown reason"),
        ({"risk": "extreme"}, "the risk at the end must be one of"),
        ({"referrals": ["0912345678"]}, "is not in the referral directory"),
        ({"reasons": ["hiv_sti", "hiv_sti"]}, "different reasons"),
    ):
        response = await client.post(url, data={"token": token, **FORM, **bad})
        assert response.status_code == 409 and why in response.text, (bad, response.text)
    async with services.sessionmaker() as session:
        escalation = await session.get(Escalation, escalation_id)
        assert escalation is not None and escalation.status == "taken", "nothing half-written"
        assert escalation.close_reasons is None

    assert (await client.post(url, data={"token": token, **FORM})).status_code == 303
    async with services.sessionmaker() as session:
        escalation = await session.get(Escalation, escalation_id)
        assert escalation is not None and escalation.status == "closed" and escalation.outcome == "police"
        assert escalation.close_reasons == ["violence_partner", "legal_question"]
        assert (escalation.close_risk, escalation.follow_up) == ("medium", True)
        assert escalation.close_referrals == ["police-113", "peace-house-1900969680"]


async def audit_actions(services: Services) -> list[str]:
    async with services.sessionmaker() as session:
        return [
            a.action for a in (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        ]


NOTE = "Đã hẹn gặp ở quán cà phê gần chợ lúc 9h"


async def test_notes_are_encrypted_staff_only_audited_and_go_with_the_conversation(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    await add_staff(services, "lan")
    await add_staff(services, "minh")
    await add_staff(services, "sup", role="supervisor")
    person = await emergency(client)
    token = await login(client, "lan")
    escalation_id = await take_first(client, token)
    url = f"/console/escalations/{escalation_id}/notes"
    assert (await client.post(url, data={"token": token, "text": "   "})).status_code == 409
    assert (await client.post(url, data={"token": token, "text": NOTE})).status_code == 303
    page = (await client.get(f"/console/escalations/{escalation_id}")).text
    assert NOTE in page and 'id="notes"' in page
    async with services.sessionmaker() as session:
        note = (await session.execute(select(DeskNote))).scalar_one()
        assert NOTE not in note.text_enc and services.crypto.decrypt(note.text_enc) == NOTE
    actions = await audit_actions(services)
    assert actions == ["take", "add_note", "open_transcript", "read_notes"], "written, then read"
    await client.get(f"/console/escalations/{escalation_id}")
    assert (await audit_actions(services)).count("read_notes") == 1, "the holder's reloads: once a window"

    # nobody else reads or writes them without holding the case; a supervisor gives a reason, audited
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    minh_token = await login(other, "minh")
    assert (await other.get(f"/console/escalations/{escalation_id}")).status_code == 403
    assert (await other.post(url, data={"token": minh_token, "text": "x"})).status_code == 409
    supervisor = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await login(supervisor, "sup")
    asked = await supervisor.get(f"/console/escalations/{escalation_id}")
    assert NOTE not in asked.text, "a reason first"
    read = await supervisor.get(f"/console/escalations/{escalation_id}?reason=supervision")
    assert NOTE in read.text
    async with services.sessionmaker() as session:
        rows = (await session.execute(select(AuditEntry).where(AuditEntry.action == "read_notes"))).scalars()
        assert sorted((a.reason or "") for a in rows) == ["", "supervision"]

    # the person deletes their data: the notes go with the conversation
    await client.post("/api/webchat", json={"session": person, "text": "xóa"})
    await client.post("/api/webchat", json={"session": person, "choice": "privacy.confirm:yes"})
    async with services.sessionmaker() as session:
        assert (await session.execute(select(DeskNote))).first() is None


async def test_notes_are_purged_with_the_transcripts(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    await add_staff(services, "lan")
    await emergency(client)
    token = await login(client, "lan")
    escalation_id = await take_first(client, token)
    await client.post(f"/console/escalations/{escalation_id}/notes", data={"token": token, "text": NOTE})
    clock.advance(days=services.settings.retention_days, seconds=-1)
    assert (await services.purge())["desk_notes"] == 0
    clock.advance(seconds=2)
    assert (await services.purge())["desk_notes"] == 1, "as old as a purged message: gone"


async def test_a_returning_person_shows_counts_and_outcomes_not_identity_and_earlier_words_are_opened_audited(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    lan = await add_staff(services, "lan")
    person = secrets.token_hex(16)
    await client.post(
        "/api/webchat", json={"session": person, "text": "cứu em, ck em đang đánh em ở phòng trọ"}
    )
    token = await login(client, "lan")
    first = await take_first(client, token)
    page = (await client.get(f"/console/escalations/{first}")).text
    assert "Lần liên hệ đầu tiên" in page
    await client.post(
        f"/console/escalations/{first}/close",
        data={"token": token, "reasons": ["violence_partner"], "risk": "high", "follow_up": "yes", "outcome": "police"},
    )  # fmt: skip

    clock.advance(hours=20)  # another day: a new contact of the same pseudonymous person
    await client.post("/api/webchat", json={"session": person, "text": "cuu em voi, no lai danh em"})
    token = await login(client, "lan")  # the console session ended meanwhile
    second = await take_first(client, token)
    assert second != first
    history = await services.desk.history(second, lan)
    assert history.contacts == 1 and history.earlier_messages > 0
    assert [(c.kind, c.outcome, c.risk) for c in history.cases] == [("emergency", "police", "high")]
    page = (await client.get(f"/console/escalations/{second}")).text
    assert "đã liên hệ 1 lần trước" in page and "Chuyển công an" in page and "Cao" in page
    # the words of the earlier contact are not shown unless opened
    assert "phòng trọ" not in page and "no lai danh em" in page
    assert "phòng trọ" not in (await client.get(f"/console/api/escalations/{second}/messages")).text
    before = (await audit_actions(services)).count("open_earlier")
    earlier = await client.get(f"/console/escalations/{second}/earlier")
    assert earlier.status_code == 200 and "phòng trọ" in earlier.text
    assert (await audit_actions(services)).count("open_earlier") == before + 1
    await client.get(f"/console/escalations/{second}/earlier")
    assert (await audit_actions(services)).count("open_earlier") == before + 2, "every opening"
