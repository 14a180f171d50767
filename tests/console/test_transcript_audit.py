"""Every transcript read is audited, by any route; a supervisor reading a case they do not hold gives a
reason, and the reason is in the audit row. (Issue 15: six reads through the JSON API wrote no row.)"""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.escalation.desk import READ_AUDIT_WINDOW
from bot.runtime import Services
from bot.store.models import AuditEntry
from tests.console.test_console import add_staff, emergency, login


async def reads(services: Services) -> list[tuple[int | None, str | None, str | None]]:
    """(case, reason, route) of every ``open_transcript`` row, oldest first."""
    async with services.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEntry).where(AuditEntry.action == "open_transcript").order_by(AuditEntry.id)
        )
        return [(a.escalation_id, a.reason, (a.detail or {}).get("via")) for a in rows.scalars()]


async def closed_case(client: httpx.AsyncClient, services: Services, counsellor_id: int) -> int:
    """An emergency taken and closed by ``counsellor_id``, read by nobody."""
    await emergency(client)
    escalation_id = max(item.escalation_id for item in await services.desk.queue())
    await services.desk.take(escalation_id, counsellor_id, via="console")
    await services.desk.close(escalation_id, counsellor_id, "safe")
    return escalation_id


async def test_a_read_through_the_json_api_is_audited_once_per_window_for_the_holder(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    lan = await add_staff(services, "lan")
    await emergency(client)
    await login(client, "lan")
    escalation_id = (await client.get("/console/api/queue")).json()[0]["id"]
    await services.desk.take(escalation_id, lan, via="console")

    for _ in range(3):  # the page polls on every new message
        response = await client.get(f"/console/api/escalations/{escalation_id}/messages")
        assert response.status_code == 200 and "dang danh em" in response.text
    await client.get(f"/console/api/escalations/{escalation_id}/messages", params={"reason": "complaint"})
    assert await reads(services) == [(escalation_id, None, "api")], "one row, not one per poll"

    clock.advance(seconds=READ_AUDIT_WINDOW.total_seconds() + 1)
    await client.get(f"/console/api/escalations/{escalation_id}/messages")
    assert await reads(services) == [(escalation_id, None, "api")] * 2, "a new window, a new row"


async def test_a_supervisor_reading_closed_cases_through_the_api_gives_a_reason_and_it_is_audited(
    client: httpx.AsyncClient, services: Services
) -> None:
    lan = await add_staff(services, "lan")
    await add_staff(services, "sup", role="supervisor")
    cases = [await closed_case(client, services, lan) for _ in range(6)]
    await login(client, "sup")

    refused = await client.get(f"/console/api/escalations/{cases[0]}/messages")
    assert refused.status_code == 403
    body = refused.json()
    assert body["error"] == "reason_required" and "complaint" in body["reasons"]
    assert "lý do" in body["message"]["vi"] and "reason" in body["message"]["en"]
    assert "dang danh em" not in refused.text
    invalid = await client.get(f"/console/api/escalations/{cases[0]}/messages", params={"reason": "curious"})
    assert invalid.status_code == 400 and invalid.json()["error"] == "reason_invalid"
    live_only = await client.get(
        f"/console/api/escalations/{cases[0]}/messages", params={"reason": "supervision"}
    )
    assert live_only.status_code == 400, "supervision is for open cases, these are closed"
    assert await reads(services) == [], "a refused read reads nothing and writes nothing"

    for escalation_id in cases:  # the attack in the issue: six closed transcripts, zero rows
        response = await client.get(
            f"/console/api/escalations/{escalation_id}/messages", params={"reason": "complaint"}
        )
        assert response.status_code == 200 and "dang danh em" in response.text
    assert await reads(services) == [(i, "complaint", "api") for i in cases]


async def test_the_console_page_asks_a_supervisor_for_a_reason_and_audits_it(
    client: httpx.AsyncClient, services: Services
) -> None:
    lan = await add_staff(services, "lan")
    await add_staff(services, "sup", role="supervisor")
    escalation_id = await closed_case(client, services, lan)
    await login(client, "sup")

    form = await client.get(f"/console/escalations/{escalation_id}")
    assert form.status_code == 200 and 'name="reason"' in form.text and "Khiếu nại" in form.text
    assert "dang danh em" not in form.text, "no transcript before the reason"
    assert await reads(services) == []

    page = await client.get(f"/console/escalations/{escalation_id}", params={"reason": "safeguarding"})
    assert page.status_code == 200 and "dang danh em" in page.text
    assert 'data-reason="safeguarding"' in page.text, "the page's own polling sends the reason too"
    assert await reads(services) == [(escalation_id, "safeguarding", "console")]
    # the page then polls the API with the same reason: the same window, no second row
    await client.get(f"/console/api/escalations/{escalation_id}/messages", params={"reason": "safeguarding"})
    assert await reads(services) == [(escalation_id, "safeguarding", "console")]


async def test_a_supervisor_needs_a_reason_for_an_open_case_someone_else_holds(
    client: httpx.AsyncClient, services: Services
) -> None:
    lan = await add_staff(services, "lan")
    await add_staff(services, "sup", role="supervisor")
    await client.post("/api/webchat", json={"session": secrets.token_hex(16), "text": "cuu em voi"})
    escalation_id = (await services.desk.queue())[0].escalation_id
    await services.desk.take(escalation_id, lan, via="console")
    await login(client, "sup")
    assert (await client.get(f"/console/api/escalations/{escalation_id}/messages")).status_code == 403
    response = await client.get(
        f"/console/api/escalations/{escalation_id}/messages", params={"reason": "supervision"}
    )
    assert response.status_code == 200 and response.json()["status"] == "taken"
    assert await reads(services) == [(escalation_id, "supervision", "api")]


def test_only_the_desk_reads_transcripts_from_the_store() -> None:
    """A route that read the store directly would skip the audit (the JSON API once did)."""
    import ast

    from bot.settings import ROOT

    readers = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == "bot.store.conversations"
                and any(alias.name == "transcript" for alias in node.names)
            ):
                readers.append(path.relative_to(ROOT).as_posix())
    assert readers == ["bot/escalation/reading.py"], "the desk's reads (bot/escalation/reading.py), audited"
