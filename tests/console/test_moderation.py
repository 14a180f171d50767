"""The moderation page (bot/console/moderation.py): moderators and supervisors read pending bad-client
reports, edit them, set the severity, approve or reject (audited, nothing sent before approval); they can
ask the reporter through the bot without learning who it is; any member of staff enters a phone report."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx
from click.testing import CliRunner
from sqlalchemy import select

from bot.runtime import Services
from bot.store.migrate import upgrade
from bot.store.models import AuditEntry, ClientReport, Message, OutboxEvent
from bot.store.outbox_kinds import ALERT_SEND
from tests.conftest import SECRET
from tests.console.test_console import add_staff, login
from tests.escalation.test_alerts import DETAILS, RecordingChannel, report, say, subscribe
from tests.support.db import count, drain


async def telegram_subscriber(services: Services) -> RecordingChannel:
    """Telegram as a recording channel, with "lan" subscribed to Hà Nội's alerts (the subscription's
    own messages already cleared)."""
    push = RecordingChannel("telegram")
    services.channels["telegram"] = push  # type: ignore[assignment]
    services.engine.deps.push_channels = services.desk.push_channels = frozenset({"telegram"})
    await subscribe(services, "lan", "Hà Nội")
    push.sent.clear()
    return push


async def form(client: httpx.AsyncClient, path: str, token: str, **data: str) -> httpx.Response:
    return await client.post(path, data={"token": token, **data})


async def test_a_moderator_edits_sets_severity_and_approves_all_audited(
    client: httpx.AsyncClient, services: Services
) -> None:
    push = await telegram_subscriber(services)
    reporter = secrets.token_hex(16)
    await report(client, reporter)
    await add_staff(services, "mod", role="moderator")
    token = await login(client, "mod")
    page = await client.get("/console/moderation")
    assert page.status_code == 200
    assert DETAILS["what"] in page.text and "…567" in page.text
    assert reporter not in page.text and services.crypto.user_key("webchat", reporter) not in page.text
    report_id = re.search(r'id="report-(\d+)"', page.text)
    assert report_id
    path = f"/console/moderation/{report_id.group(1)}"

    refused = await form(client, path, token, decision="approve")
    assert refused.status_code == 409, "no severity, no approval"
    assert await count(services, OutboxEvent, OutboxEvent.kind == ALERT_SEND) == 0
    edited = "Đánh và lấy tiền"
    response = await form(
        client, path, token, decision="approve", severity="high", edited="true",
        **(DETAILS | {"what": edited, "account": ""}),
    )  # fmt: skip
    assert response.status_code == 200 and "1 cảnh báo" in response.text
    await drain(services)
    alert = "\n".join(push.sent["chat-lan"])
    assert edited in alert and DETAILS["what"] not in alert and DETAILS["account"] not in alert
    async with services.sessionmaker() as session:
        audit = [(a.action, a.detail) for a in (await session.execute(select(AuditEntry))).scalars()]
    actions = [action for action, _ in audit]
    assert "reports_read" in actions and "report_edit" in actions and "report_approve" in actions
    assert not any(edited in str(detail) for _, detail in audit), (
        "the audit names fields, never their content"
    )
    assert (
        "report_edit",
        {"report": int(report_id.group(1)), "changed": ["what", "account"], "severity": "high"},
    ) in audit
    again = await form(client, path, token, decision="reject")
    assert again.status_code == 409, "decided once"


async def test_a_rejected_report_sends_nothing_and_counsellors_cannot_moderate(
    client: httpx.AsyncClient, services: Services
) -> None:
    await report(client, secrets.token_hex(16))
    await add_staff(services, "lan")
    token = await login(client, "lan")
    page = await client.get("/console/moderation")
    assert DETAILS["what"] not in page.text and "Chỉ người kiểm duyệt" in page.text
    async with services.sessionmaker() as session:
        report_id = (await session.execute(select(ClientReport.id))).scalar_one()
    forbidden = await form(
        client, f"/console/moderation/{report_id}", token, decision="approve", severity="low"
    )
    assert forbidden.status_code == 403
    await client.post("/console/logout", data={"token": token})
    await add_staff(services, "boss", role="supervisor")
    token = await login(client, "boss")
    response = await form(client, f"/console/moderation/{report_id}", token, decision="reject")
    assert response.status_code == 200 and "Đã từ chối" in response.text
    await drain(services)
    assert await count(services, OutboxEvent, OutboxEvent.kind == ALERT_SEND) == 0
    async with services.sessionmaker() as session:
        assert (await session.get(ClientReport, report_id)).status == "rejected"  # type: ignore[union-attr]


async def test_the_moderator_asks_the_reporter_through_the_bot(
    client: httpx.AsyncClient, services: Services
) -> None:
    reporter = secrets.token_hex(16)
    await report(client, reporter)
    await add_staff(services, "mod", role="moderator")
    token = await login(client, "mod")
    async with services.sessionmaker() as session:
        report_id = (await session.execute(select(ClientReport.id))).scalar_one()
    response = await form(client, f"/console/moderation/{report_id}/ask", token, question="Xe màu gì?")
    assert response.status_code == 200 and "Đã gửi câu hỏi" in response.text
    polled = (await client.post("/api/webchat/poll", json={"session": reporter})).json()["replies"]
    assert "Xe màu gì?" in polled[0]["text"] and "Người kiểm duyệt hỏi thêm" in polled[0]["text"]
    assert "chuyển câu trả lời" in await say(client, reporter, "Xe SH màu trắng, biển 29")
    page = await client.get("/console/moderation")
    assert "Xe màu gì?" in page.text and "Xe SH màu trắng, biển 29" in page.text
    async with services.sessionmaker() as session:
        lines = [
            services.crypto.decrypt(m.body_enc) for m in (await session.execute(select(Message))).scalars()
        ]
    assert not any("Xe màu gì?" in line or "biển 29" in line for line in lines), "not in the transcript"


async def test_a_counsellor_enters_a_report_left_by_phone(
    client: httpx.AsyncClient, services: Services
) -> None:
    await add_staff(services, "lan")
    token = await login(client, "lan")
    refused = await form(client, "/console/moderation/phone", token, province="Atlantis", what="x")
    assert refused.status_code == 400
    response = await form(
        client, "/console/moderation/phone", token, province="sai gon", what="Đánh người, lấy điện thoại",
        phone="+84 912 345 678", vehicle="Wave xanh",
    )  # fmt: skip
    assert response.status_code == 200 and "đang chờ kiểm duyệt" in response.text
    async with services.sessionmaker() as session:
        stored = (await session.execute(select(ClientReport))).scalar_one()
    assert (stored.via, stored.status, stored.province, stored.phone_last3) == (
        "phone", "pending", "Thành phố Hồ Chí Minh", "678"
    )  # fmt: skip
    assert stored.conversation_id is None and stored.phone_hash == services.crypto.phone_hash("0912345678")


async def test_withdrawing_an_approved_report_deletes_it_and_stops_its_alerts(
    client: httpx.AsyncClient, services: Services
) -> None:
    push = await telegram_subscriber(services)
    await report(client, secrets.token_hex(16))
    await add_staff(services, "mod", role="moderator")
    token = await login(client, "mod")
    async with services.sessionmaker() as session:
        report_id = (await session.execute(select(ClientReport.id))).scalar_one()
    await form(client, f"/console/moderation/{report_id}", token, decision="approve", severity="low")
    page = await client.get("/console/moderation")
    assert f'id="approved-{report_id}"' in page.text
    response = await form(client, f"/console/moderation/{report_id}/withdraw", token)
    assert response.status_code == 200 and "Đã rút lại" in response.text
    await drain(services)
    assert push.sent == {}, "queued before the withdrawal: not sent"
    assert "Chưa có báo cáo" in await say(client, secrets.token_hex(16), "kiểm tra số 0901234567")
    assert await count(services, ClientReport) == 0
    async with services.sessionmaker() as session:
        actions = [a.action for a in (await session.execute(select(AuditEntry))).scalars()]
    assert "report_withdraw" in actions


async def test_a_moderator_account_without_a_counsellor_sees_the_console(
    client: httpx.AsyncClient, services: Services
) -> None:
    """``hotline staff add NAME --role moderator`` makes no counsellor (nobody pages a moderator)."""
    from bot.console.auth import hash_password
    from bot.store.models import StaffAccount
    from tests.console.test_console import PASSWORD

    async with services.sessionmaker() as session, session.begin():
        session.add(
            StaffAccount(
                username="mod", password_hash=hash_password(PASSWORD), role="moderator", counsellor_id=None,
                active=True, created_at=services.clock.now(),
            )
        )  # fmt: skip
    await report(client, secrets.token_hex(16))
    await login(client, "mod")
    assert (await client.get("/console")).status_code == 200
    page = await client.get("/console/moderation")
    assert page.status_code == 200 and DETAILS["what"] in page.text
    assert (await client.get("/console/stats")).status_code in (303, 403), "statistics stay with supervisors"


def test_hotline_staff_add_makes_a_moderator(tmp_path: Path) -> None:
    from bot.cli import main

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    env = {"HOTLINE_DATABASE_URL": url, "HOTLINE_SECRET_KEY": SECRET, "HOTLINE_ENV": "test"}
    done = CliRunner().invoke(
        main,
        ["staff", "add", "mai", "--role", "moderator", "--password-stdin"],
        input="a long password\n",
        env=env,
    )
    assert done.exit_code == 0 and "(moderator)" in done.output, done.output
