"""Bad-client reports and alerts through the engine, the outbox and the purge (issue 20): report ->
moderation -> approval -> alerts to that province's subscribers only, paced; a rejected report is never
sent; a number matches however it is typed; the reporter appears nowhere; opting out stops alerts at once;
expiry deletes; the rate limits hold. The people who subscribe write on push channels, stood in for by a
recording channel (each real channel's fake: tests/channels/checkins/test_alerts_channels.py)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.messages import InboundMessage, Reply
from bot.runtime import Services
from bot.store import alerts
from bot.store.models import AlertSubscription, ClientReport, Conversation, Message, OutboxEvent
from bot.store.outbox_kinds import ALERT_SEND
from bot.store.retention import purge
from tests.support.db import count, drain, dump_database

NUMBER = "0901234567"
DETAILS = {
    "place": "Quận Hoàn Kiếm, gần khách sạn Sao Mai",
    "when": "tối thứ 7 tuần trước",
    "what": "Đòi không dùng bao, rồi đánh và lấy tiền",
    "person": "Khoảng 40 tuổi, người gầy, hình xăm rồng",
    "vehicle": "SH trắng",
    "account": "Zalo: Tuấn Hưng Thịnh",
}


@dataclass
class RecordingChannel:
    """A push channel that records what it is asked to send, by address."""

    name: str
    push: bool = True
    prefix: str | None = None
    sent: dict[str, list[str]] = field(default_factory=dict)

    async def send(self, address: str, replies: list[Reply]) -> None:
        self.sent.setdefault(address, []).extend(r.text for r in replies)

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@pytest.fixture
def push(services: Services) -> RecordingChannel:
    channel = RecordingChannel("telegram")
    services.channels["telegram"] = channel  # type: ignore[assignment]
    services.engine.deps.push_channels = frozenset({"telegram"})
    return channel


async def write(services: Services, person: str, text: str | None = None, choice: str | None = None) -> str:
    """A message from a person on the recording push channel; the replies' texts."""
    outcome = await services.engine.handle(
        InboundMessage(
            channel="telegram", user_id=person, address=f"chat-{person}", text=text, choice=choice,
            kind="choice" if choice else "text",
        )
    )  # fmt: skip
    return "\n".join(r.text for r in outcome.replies)


async def say(client: httpx.AsyncClient, person: str, text: str) -> str:
    response = await client.post("/api/webchat", json={"session": person, "text": text})
    assert response.status_code == 200, response.text
    return "\n".join(r["text"] for r in response.json()["replies"])


async def tap(client: httpx.AsyncClient, person: str, choice: str) -> str:
    response = await client.post("/api/webchat", json={"session": person, "choice": choice})
    assert response.status_code == 200, response.text
    return "\n".join(r["text"] for r in response.json()["replies"])


async def report(
    client: httpx.AsyncClient, person: str, *, province: str = "Hà Nội", phone: str = NUMBER
) -> str:
    """The whole report in the web chat; the last replies."""
    await say(client, person, "xin chào")
    assert "tỉnh/thành nào" in await say(client, person, "báo khách xấu")
    assert "quận/huyện" in await say(client, person, province)
    assert "Khi nào" in await say(client, person, DETAILS["place"])
    assert "Chuyện gì" in await say(client, person, DETAILS["when"])
    assert "trông thế nào" in await say(client, person, DETAILS["what"])
    assert "Xe" in await say(client, person, DETAILS["person"])
    assert "Số điện thoại" in await say(client, person, DETAILS["vehicle"])
    assert "tài khoản" in await say(client, person, phone)
    assert "Gửi báo cáo" in await say(client, person, DETAILS["account"])
    return await tap(client, person, "alerts.confirm:send")


async def subscribe(services: Services, person: str, province: str, *, discreet: bool = False) -> None:
    await write(services, person, "xin chào")
    assert "tỉnh/thành nào" in await write(services, person, "nhận cảnh báo")
    if discreet:
        assert "nhận tin" in await write(services, person, choice="alerts.pick:discreet")
    assert "sẽ nhận" in await write(services, person, province)
    await drain(services)


async def the_report(services: Services) -> ClientReport:
    async with services.sessionmaker() as session:
        return (await session.execute(select(ClientReport))).scalar_one()


async def decide(services: Services, *, approve: bool = True, severity: str | None = "high") -> int:
    settings = services.settings
    async with services.sessionmaker() as session, session.begin():
        found = (await session.execute(select(ClientReport))).scalar_one()
        return await alerts.decide(
            session, services.crypto, found, approve=approve, severity=severity, staff_id=None,
            now=services.clock.now(), expiry_days=settings.alerts_expiry_days,
            pacing_seconds=settings.alerts_pacing_seconds, zone=settings.timezone,
        )  # fmt: skip


async def test_report_moderation_approval_alerts_the_provinces_subscribers_only(
    client: httpx.AsyncClient, services: Services, push: RecordingChannel, clock: FrozenClock
) -> None:
    await subscribe(services, "lan", "Hà Nội")
    await subscribe(services, "mai", "ha noi", discreet=True)
    await subscribe(services, "hoa", "Đà Nẵng")
    push.sent.clear()
    reporter = secrets.token_hex(16)
    assert "Cảm ơn bạn" in await report(client, reporter)

    stored = await the_report(services)
    assert (stored.status, stored.province, stored.phone_last3) == ("pending", "Hà Nội", "567")
    assert stored.phone_hash == services.crypto.phone_hash(NUMBER)
    database = await dump_database(services)
    for text in (*DETAILS.values(), NUMBER, "0901 234 567"):
        assert text not in database, "free text encrypted, the number only as a keyed hash"
    await drain(services)
    assert push.sent == {}, "nothing is broadcast before a moderator approves"
    assert await count(services, OutboxEvent, OutboxEvent.kind == ALERT_SEND) == 0

    assert await decide(services) == 2
    await drain(services)
    assert list(push.sent) == ["chat-lan"], "paced: the second alert waits its turn"
    clock.advance(seconds=services.settings.alerts_pacing_seconds)
    await drain(services)
    assert set(push.sent) == {"chat-lan", "chat-mai"}, "Hà Nội's subscribers, not Đà Nẵng's"
    plain, discreet = "\n".join(push.sent["chat-lan"]), "\n".join(push.sent["chat-mai"])
    assert "Cảnh báo khách xấu ở Hà Nội (mức cao)" in plain
    for text in DETAILS.values():
        assert text in plain and text in discreet
    assert "…567" in plain and NUMBER not in plain
    wording = discreet
    for text in DETAILS.values():
        wording = wording.replace(text, "")
    for word in ("khách", "cảnh báo", "Cảnh báo"):
        assert word not in wording, "discreet wording"
    async with services.sessionmaker() as session:
        counted = await alerts.counts(session, first_day="2000-01-01", last_day="2999-12-31")
    assert counted | {} == {
        "reports": 1, "approved": 1, "rejected": 0, "alerts_sent": 2, "lookups": 0, "matches": 0
    }  # fmt: skip


async def test_a_rejected_report_is_never_sent(
    client: httpx.AsyncClient, services: Services, push: RecordingChannel, clock: FrozenClock
) -> None:
    await subscribe(services, "lan", "Hà Nội")
    push.sent.clear()
    await report(client, secrets.token_hex(16))
    assert await decide(services, approve=False, severity=None) == 0
    clock.advance(hours=1)
    await drain(services)
    assert push.sent == {}
    assert "Chưa có báo cáo nào" in await say(client, secrets.token_hex(16), f"kiểm tra số {NUMBER}")
    with pytest.raises(alerts.ModerationError):
        await decide(services, approve=True)


async def test_the_reporter_appears_nowhere(
    client: httpx.AsyncClient, services: Services, push: RecordingChannel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # (DEBUG: the database driver's own trace)
    await subscribe(services, "lan", "Hà Nội")
    await write(services, "tg-773401", "xin chào")
    for text in ("báo khách xấu", "Hà Nội", *DETAILS.values()):
        await write(services, "tg-773401", text)
    await write(services, "tg-773401", choice="alerts.confirm:send")
    await drain(services)
    push.sent.clear()
    await decide(services)
    await drain(services)
    user_key = services.crypto.user_key("telegram", "tg-773401")
    async with services.sessionmaker() as session:
        conversation = (
            await session.execute(select(Conversation).where(Conversation.user_key == user_key))
        ).scalar_one()
        stored = (await session.execute(select(ClientReport))).scalar_one()
        shown = await alerts.view(session, services.crypto, stored)
        lines = [services.crypto.decrypt(m.body_enc) for m in (await session.execute(
            select(Message).where(Message.conversation_id == conversation.id))).scalars()]  # fmt: skip
    assert "chat-tg-773401" not in push.sent, "the reporter gets no alert of their own report"
    alert = "\n".join(push.sent["chat-lan"])
    assert not any("conversation" in name or "key" in name for name in vars(shown)), "no link shown"
    for secret in (user_key, "chat-tg-773401", "tg-773401"):
        assert secret not in alert
        assert secret not in repr(shown)
        assert secret not in caplog.text
    assert stored.reporter_hash is not None and stored.reporter_hash not in repr(shown)
    for text in DETAILS.values():
        assert text not in "\n".join(lines), "the report's details are not in the reporter's transcript"


@pytest.mark.parametrize(
    "typed",
    [
        "kiểm tra số 0901234567",
        "kiem tra so 0901 234 567",
        "/kiemtra +84 901 234 567",
        "kiểm tra số 84901234567",
    ],
)
async def test_a_lookup_matches_however_the_number_is_typed(
    client: httpx.AsyncClient, services: Services, typed: str, caplog: pytest.LogCaptureFixture
) -> None:
    await report(client, secrets.token_hex(16))
    await decide(services)
    caplog.set_level(logging.INFO)  # (DEBUG: the database driver's own trace)
    person = secrets.token_hex(16)
    replies = await say(client, person, typed)
    assert "trùng với 1 báo cáo" in replies and DETAILS["what"] in replies and "mức cao" in replies
    assert "Chưa có báo cáo" in await say(client, person, "kiểm tra số 0912 000 111")
    async with services.sessionmaker() as session:
        lines = [
            services.crypto.decrypt(m.body_enc) for m in (await session.execute(select(Message))).scalars()
        ]
    assert not any("234" in line and "567" in line for line in lines), "the lookup is not kept"
    assert "234 567" not in caplog.text and "234567" not in caplog.text


async def test_a_number_alone_counts_only_after_choosing_check(
    client: httpx.AsyncClient, services: Services
) -> None:
    await report(client, secrets.token_hex(16))
    await decide(services)
    person = secrets.token_hex(16)
    await say(client, person, "xin chào")
    assert "trùng với" not in await say(client, person, "0901.234.567"), "not hijacked at the main menu"
    assert "Gõ số điện thoại" in await tap(client, person, "alerts.choose:check")
    assert "trùng với 1 báo cáo" in await say(client, person, "0901.234.567")
    assert "chưa đọc được số" in await tap(client, person, "alerts.match:again") + await say(
        client, person, "abc"
    )


async def test_an_emergency_in_the_middle_of_a_report_starts_the_emergency_flow(
    client: httpx.AsyncClient, services: Services
) -> None:
    person = secrets.token_hex(16)
    await say(client, person, "báo khách xấu")
    await say(client, person, "Hà Nội")
    replies = await say(client, person, "cứu em với, nó đang đánh em")
    assert "113" in replies, "the emergency reply, not the next question of the report"


async def test_opting_out_stops_alerts_at_once(
    client: httpx.AsyncClient, services: Services, push: RecordingChannel
) -> None:
    await subscribe(services, "lan", "Hà Nội")
    await report(client, secrets.token_hex(16))
    assert await decide(services) == 1, "queued"
    assert "Đã dừng" in await write(services, "lan", "hủy cảnh báo")
    await drain(services)
    assert "Cảnh báo khách xấu ở" not in "\n".join(push.sent["chat-lan"]), (
        "queued before the opt-out: not sent"
    )


async def test_the_web_chat_says_it_cannot_send_alerts(client: httpx.AsyncClient, services: Services) -> None:
    person = secrets.token_hex(16)
    assert "Telegram, Zalo hoặc Messenger" in await say(client, person, "nhận cảnh báo")
    assert await count(services, AlertSubscription) == 0


async def test_expiry_deletes_reports_and_the_lookup_stops_matching(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    await report(client, secrets.token_hex(16))
    await decide(services)
    await say(client, secrets.token_hex(16), "báo khách xấu")
    await say(client, secrets.token_hex(16), "xin chào")
    assert await count(services, ClientReport) == 1, (
        "a draft is not in the database until a province is given"
    )
    person = secrets.token_hex(16)
    await say(client, person, "báo khách xấu")
    await say(client, person, "Huế")
    assert await count(services, ClientReport) == 2
    clock.advance(hours=alerts.DRAFT_HOURS + 1)
    async with services.sessionmaker() as session, session.begin():
        removed = await purge(session, now=clock.now(), settings=services.settings)
    assert removed["client_reports"] == 1, "an unsent draft goes after a day"
    clock.advance(days=services.settings.alerts_expiry_days)
    assert "Chưa có báo cáo" in await say(client, secrets.token_hex(16), f"kiểm tra số {NUMBER}")
    async with services.sessionmaker() as session, session.begin():
        removed = await purge(session, now=clock.now(), settings=services.settings)
    assert removed["client_reports"] == 1 and await count(services, ClientReport) == 0


async def test_rate_limits_hold(client: httpx.AsyncClient, services: Services, clock: FrozenClock) -> None:
    person = secrets.token_hex(16)
    limit = services.settings.alerts_lookups_per_day
    for n in range(limit):
        assert "Chưa có báo cáo" in await say(client, person, f"kiểm tra số 0912 000 {n:03d}")
    assert "kiểm tra nhiều số" in await say(client, person, "kiểm tra số 0912 000 999")
    assert "Chưa có báo cáo" in await say(client, secrets.token_hex(16), "kiểm tra số 0912 000 999"), (
        "per person"
    )
    reporter = secrets.token_hex(16)
    for _ in range(services.settings.alerts_reports_per_day):
        assert "tỉnh/thành nào" in await say(client, reporter, "báo khách xấu")
    assert "nhiều báo cáo" in await say(client, reporter, "báo khách xấu")
    clock.advance(days=2)
    assert "Chưa có báo cáo" in await say(client, person, "kiểm tra số 0912 000 999"), "a new day"
    assert "tỉnh/thành nào" in await say(client, reporter, "báo khách xấu")


async def test_a_moderator_sees_when_one_person_reports_many(
    client: httpx.AsyncClient, services: Services
) -> None:
    reporter = secrets.token_hex(16)
    await report(client, reporter, phone="0912 111 222")
    await report(client, reporter, phone="0912 111 333")
    await report(client, secrets.token_hex(16), phone="0912 111 444")
    async with services.sessionmaker() as session:
        views = [
            await alerts.view(session, services.crypto, r)
            for r in await alerts.listed(session, status="pending")
        ]
    assert [v.reporter_reports for v in views] == [2, 2, 1]


async def test_deleting_ones_data_unlinks_a_sent_report_drops_a_draft_and_the_subscription(
    client: httpx.AsyncClient, services: Services, push: RecordingChannel
) -> None:
    await subscribe(services, "lan", "Hà Nội")
    for text in ("báo khách xấu", "Hà Nội", *DETAILS.values()):
        await write(services, "lan", text)
    await write(services, "lan", choice="alerts.confirm:send")
    await write(services, "lan", "báo khách xấu")
    await write(services, "lan", "Huế")  # a second report, left as a draft
    assert await count(services, ClientReport) == 2
    await write(services, "lan", "xóa")
    await write(services, "lan", choice="privacy.confirm:yes")
    async with services.sessionmaker() as session:
        kept = (await session.execute(select(ClientReport))).scalars().all()
    assert [(r.status, r.conversation_id, r.reporter_hash) for r in kept] == [("pending", None, None)]
    assert await count(services, AlertSubscription) == 0


async def test_discreet_subscribers_never_read_client_or_warning(
    services: Services, push: RecordingChannel
) -> None:
    await write(services, "mai", "nhận cảnh báo")
    shown = await write(services, "mai", choice="alerts.pick:discreet")
    shown += await write(services, "mai", "Huế")
    assert "Huế" in shown
    for word in ("khách", "cảnh báo", "client", "alert"):
        assert word not in shown.lower()


async def test_an_alert_does_not_move_a_person_from_the_question_they_are_answering(
    client: httpx.AsyncClient, services: Services, push: RecordingChannel
) -> None:
    await subscribe(services, "lan", "Hà Nội")
    assert "Gõ số điện thoại" in await write(services, "lan", "kiểm tra số")
    await report(client, secrets.token_hex(16))
    await decide(services)
    await drain(services)
    assert "Cảnh báo khách xấu ở Hà Nội" in "\n".join(push.sent["chat-lan"])
    assert "trùng với 1 báo cáo" in await write(services, "lan", "0901 234 567"), "still at the question"


async def test_the_phone_line_leaves_a_report_with_a_counsellor(services: Services) -> None:
    outcome = await services.engine.handle(
        InboundMessage(
            channel="phone",
            user_id="+84900000009",
            kind="choice",
            choice="main.menu:alerts",
            session_id="CA1",
        )
    )
    spoken = "\n".join(r.voice_text or r.text for r in outcome.replies)
    assert "tư vấn viên" in spoken and await count(services, ClientReport) == 0


async def test_two_approvals_together_keep_the_pace(
    client: httpx.AsyncClient, services: Services, push: RecordingChannel, clock: FrozenClock
) -> None:
    await subscribe(services, "lan", "Hà Nội")
    await subscribe(services, "mai", "Hà Nội")
    push.sent.clear()
    settings = services.settings
    for phone in ("0912 111 222", "0912 111 333"):
        await report(client, secrets.token_hex(16), phone=phone)
    for found in await _pending(services):
        async with services.sessionmaker() as session, session.begin():
            report_row = await session.get(ClientReport, found)
            assert report_row is not None
            await alerts.decide(
                session, services.crypto, report_row, approve=True, severity="low", staff_id=None,
                now=clock.now(), expiry_days=settings.alerts_expiry_days,
                pacing_seconds=settings.alerts_pacing_seconds, zone=settings.timezone,
            )  # fmt: skip
    sent = []
    for _ in range(4):
        await drain(services)
        sent.append(sum(len(texts) for texts in push.sent.values()))
        clock.advance(seconds=settings.alerts_pacing_seconds)
    assert sent == [1, 2, 3, 4], "one alert per pacing interval, across both approvals"


async def _pending(services: Services) -> list[int]:
    async with services.sessionmaker() as session:
        return [r.id for r in await alerts.listed(session, status=alerts.PENDING)]


async def test_check_number_words_without_a_number_are_not_a_lookup(
    client: httpx.AsyncClient, services: Services
) -> None:
    person = secrets.token_hex(16)
    replies = await say(client, person, "kiểm tra số lần uống PrEP mỗi ngày")
    assert "chưa đọc được số" not in replies and "Gõ số điện thoại" not in replies
    async with services.sessionmaker() as session:
        lines = [
            services.crypto.decrypt(m.body_enc) for m in (await session.execute(select(Message))).scalars()
        ]
    assert "kiểm tra số lần uống PrEP mỗi ngày" in lines, "an ordinary message, kept like any other"


async def test_the_number_step_skips_on_words_and_asks_again_on_a_bad_number(
    client: httpx.AsyncClient, services: Services
) -> None:
    person = secrets.token_hex(16)
    for text in ("báo khách xấu", "Huế", "gần chợ Đông Ba", "hôm qua", "Đánh người", "gầy", "xe máy"):
        await say(client, person, text)
    assert "chưa đọc được số" in await say(client, person, "0901 23")
    assert "tài khoản" in await say(client, person, "ko biết số")
    assert (await the_report(services)).phone_hash is None


async def test_new_web_chat_sessions_do_not_lift_the_lookup_limit(
    client: httpx.AsyncClient, services: Services, push: RecordingChannel
) -> None:
    services.settings.alerts_lookups_per_day = 2
    answers = []
    for n in range(12):  # a new session each time, all from one address
        answers.append(
            "Chưa có báo cáo" in await say(client, secrets.token_hex(16), f"kiểm tra số 0912 000 {n:03d}")
        )
    assert answers == [True] * 10 + [False] * 2, "five times one person's limit per address"
    assert "Chưa có báo cáo" in await write(services, "lan", "kiểm tra số 0912 000 999"), "another channel"
