"""The console over HTTP: log in, queue, take (first wins), read (audited), reply, close."""

from __future__ import annotations

import re
import secrets

import httpx
from sqlalchemy import select

from bot.console.auth import hash_password
from bot.runtime import Services
from bot.store.models import AuditEntry, Contact, Counsellor, Escalation, StaffAccount

PASSWORD = "correct horse battery"


async def add_staff(services: Services, username: str, role: str = "counsellor") -> int:
    async with services.sessionmaker() as session, session.begin():
        now = services.clock.now()
        counsellor = Counsellor(display_name=username.title(), active=True, created_at=now)
        session.add(counsellor)
        await session.flush()
        session.add(
            StaffAccount(
                username=username, password_hash=hash_password(PASSWORD), role=role,
                counsellor_id=counsellor.id, active=True, created_at=now,
            )
        )  # fmt: skip
        return counsellor.id


async def login(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post("/console/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 303, response.text
    page = await client.get("/console")
    token = re.search(r'data-token="([0-9a-f]+)"', page.text)
    assert token, page.text
    return token.group(1)


async def emergency(client: httpx.AsyncClient) -> str:
    person = secrets.token_hex(16)
    await client.post("/api/webchat", json={"session": person, "text": "cuu em voi, no dang danh em"})
    return person


async def test_login_is_required_and_wrong_passwords_are_refused(
    client: httpx.AsyncClient, services: Services
) -> None:
    await add_staff(services, "lan")
    assert (await client.get("/console", follow_redirects=False)).status_code == 303
    assert (await client.get("/console/api/queue")).status_code == 401
    response = await client.post("/console/login", data={"username": "lan", "password": "wrong password"})
    assert response.status_code == 401 and "Sai" in response.text
    response = await client.post("/console/login", data={"username": "nobody", "password": "wrong password"})
    assert response.status_code == 401
    for _ in range(4):
        await client.post("/console/login", data={"username": "lan", "password": "again wrong"})
    response = await client.post("/console/login", data={"username": "lan", "password": PASSWORD})
    assert response.status_code == 429, "5 failures at one name from one address: that pair waits"
    assert "giây" in response.text and int(response.headers["retry-after"]) > 0


async def test_queue_take_read_reply_close(client: httpx.AsyncClient, services: Services) -> None:
    await add_staff(services, "lan")
    other = await add_staff(services, "minh")
    person = await emergency(client)
    await client.post("/api/webchat", json={"session": secrets.token_hex(16), "text": "tư vấn viên"})
    token = await login(client, "lan")

    queue = (await client.get("/console/api/queue")).json()
    assert [item["kind"] for item in queue] == ["emergency", "counsellor"], "risk first"
    escalation_id = queue[0]["id"]

    response = await client.post(f"/console/escalations/{escalation_id}/take", data={})
    assert response.status_code == 403, "a form without the session's token is refused"
    response = await client.post(f"/console/escalations/{escalation_id}/take", data={"token": token})
    assert response.status_code == 303
    page = await client.get(f"/console/escalations/{escalation_id}")
    assert "dang danh em" in page.text
    async with services.sessionmaker() as session:
        audit = [a.action for a in (await session.execute(select(AuditEntry))).scalars()]
        assert audit == ["take", "open_transcript"]

    response = await client.post(
        f"/console/escalations/{escalation_id}/reply", data={"token": token, "text": "Em dang o dau?"}
    )
    assert response.status_code == 303
    replies = (await client.post("/api/webchat/poll", json={"session": person})).json()["replies"]
    assert any("Lan (tư vấn viên): Em dang o dau?" in r["text"] for r in replies)

    result = await services.desk.take(escalation_id, other, via="console")
    assert not result.taken and result.holder == "Lan"

    response = await client.post(
        f"/console/escalations/{escalation_id}/close",
        data={
            "token": token,
            "outcome": "shelter",
            "reasons": "violence_partner",
            "risk": "medium",
            "follow_up": "no",
        },
    )
    assert response.status_code == 303
    async with services.sessionmaker() as session:
        escalation = await session.get(Escalation, escalation_id)
        assert escalation is not None and escalation.status == "closed" and escalation.outcome == "shelter"
        contact = (await session.execute(select(Contact).where(Contact.emergency))).scalar_one()
        assert contact.outcome == "shelter" and contact.closed_at is not None


async def test_a_transcript_cannot_be_read_before_taking_it(
    client: httpx.AsyncClient, services: Services
) -> None:
    await add_staff(services, "lan")
    await emergency(client)
    await login(client, "lan")
    escalation_id = (await client.get("/console/api/queue")).json()[0]["id"]
    assert (await client.get(f"/console/escalations/{escalation_id}")).status_code == 403
    assert (await client.get(f"/console/api/escalations/{escalation_id}/messages")).status_code == 403
