"""Emergencies reach a person through Telegram: page the group and the chain, re-page, take with one tap,
talk both ways through the bot, close with an outcome; the contact row carries the times."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import select

from bot.channels.telegram import TelegramChannel
from bot.clock import FrozenClock
from bot.escalation.rota import import_rota, parse_rota
from bot.runtime import Services
from bot.settings import Settings
from bot.store.models import AuditEntry, Contact, Escalation
from tests.channels.telegram.helpers import deliver, post_update
from tests.fakes.telegram_api import FakeTelegram

PERSON = 5550001
STAFF_GROUP = -1001234567890
LAN, MINH = 7001, 7002
ROTA = f"""
counsellors:
  - {{name: Lan, telegram: {LAN}}}
  - {{name: Minh, telegram: {MINH}}}
weekly:
  - {{days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00", chain: [Lan, Minh]}}
"""


async def setup_rota(services: Services) -> None:
    services.settings.telegram_staff_chat_id = STAFF_GROUP
    async with services.sessionmaker() as session, session.begin():
        plan = parse_rota(ROTA, today=date(2026, 1, 1), weeks=2)
        await import_rota(session, services.crypto, plan, now=services.clock.now())


def texts(telegram: FakeTelegram, chat: int) -> list[str]:
    return [str(call.params.get("text")) for call in telegram.sent(chat)]


def page_in(telegram: FakeTelegram, chat: int) -> int:
    """The message id of the newest page (a message with a take button) sent to ``chat``."""
    for call in reversed(telegram.sent(chat)):
        if any(b["callback_data"].startswith("take:") for b in call.buttons):
            return int(call.params["_message_id"])
    raise AssertionError(f"no page was sent to {chat}")


async def test_emergency_page_repage_take_relay_close(
    client: httpx.AsyncClient,
    services: Services,
    channel: TelegramChannel,
    telegram: FakeTelegram,
    clock: FrozenClock,
    settings: Settings,
) -> None:
    await setup_rota(services)
    await post_update(client, telegram.text_update(PERSON, "cuu em voi, ck dang danh em"))
    await deliver(services)
    assert "113" in texts(telegram, PERSON)[0], "the person's safety reply"
    assert len(telegram.sent(STAFF_GROUP)) == 1 and "KHẨN CẤP" in texts(telegram, STAFF_GROUP)[0]
    assert len(telegram.sent(LAN)) == 1, "Lan, first in the chain, is paged in her own chat"
    assert telegram.sent(MINH) == []

    clock.advance(seconds=settings.page_ack_seconds + 1)
    await deliver(services)
    assert len(telegram.sent(MINH)) == 1, "nobody took it: the backup is paged"

    group_page = page_in(telegram, STAFF_GROUP)
    update = telegram.callback_update(
        STAFF_GROUP, "take:1", message_id=group_page, chat_type="supergroup", from_id=MINH
    )
    assert (await post_update(client, update)).status_code == 200
    await deliver(services)
    edits = telegram.calls_of("editMessageText")
    assert edits and "Minh" in str(edits[-1].params["text"]), "the group sees who took it"
    assert any("Minh" in t and "đã nhận" in t for t in texts(telegram, PERSON))
    brief = texts(telegram, MINH)[-1]
    assert "#1" in brief and f"{settings.public_url}/console/escalations/1" in brief, "a link to the console"
    assert not any("ck dang danh em" in t for t in texts(telegram, MINH)), "no transcript in Telegram's cloud"

    late = telegram.callback_update(LAN, "take:1", message_id=page_in(telegram, LAN), from_id=LAN)
    await post_update(client, late)
    answers = telegram.calls_of("answerCallbackQuery")
    assert "Minh" in str(answers[-1].params.get("text")), "a later tap learns who took it"

    await post_update(client, telegram.text_update(PERSON, "em dang o nha nghi gan cho"))
    await deliver(services)
    assert any("nha nghi gan cho" in t for t in texts(telegram, MINH)), "person -> counsellor"
    assert not any("nha nghi" in t for t in texts(telegram, PERSON)[-1:]), "the bot stays quiet"

    await post_update(client, telegram.text_update(MINH, "Chi dang o day. Em goi 113 duoc khong?"))
    await deliver(services)
    assert texts(telegram, PERSON)[-1] == "Minh (tư vấn viên): Chi dang o day. Em goi 113 duoc khong?"

    await post_update(client, telegram.text_update(MINH, "/dong an toan"))
    await deliver(services)
    assert "kết thúc" in texts(telegram, PERSON)[-1]
    async with services.sessionmaker() as session:
        escalation = (await session.execute(select(Escalation))).scalar_one()
        assert (escalation.status, escalation.outcome) == ("closed", "safe")
        contact = (await session.execute(select(Contact).where(Contact.emergency))).scalar_one()
        assert contact.paged_at is not None and contact.taken_at is not None and contact.closed_at is not None
        assert contact.outcome == "safe"
        assert (contact.taken_at - contact.paged_at).total_seconds() == settings.page_ack_seconds + 1

    await post_update(client, telegram.text_update(PERSON, "PrEP là gì"))
    await deliver(services)
    assert "PrEP" in texts(telegram, PERSON)[-2] or "PrEP" in texts(telegram, PERSON)[-1], "back to the bot"


async def test_someone_not_registered_cannot_take(
    client: httpx.AsyncClient, services: Services, channel: TelegramChannel, telegram: FakeTelegram
) -> None:
    await setup_rota(services)
    await post_update(client, telegram.text_update(PERSON, "cuu em voi, ck dang danh em"))
    await deliver(services)
    update = telegram.callback_update(
        STAFF_GROUP, "take:1", message_id=page_in(telegram, STAFF_GROUP), chat_type="supergroup", from_id=9999
    )
    await post_update(client, update)
    assert "chưa được đăng ký" in str(telegram.calls_of("answerCallbackQuery")[-1].params.get("text"))
    async with services.sessionmaker() as session:
        assert (await session.execute(select(Escalation.status))).scalar_one() == "open"


async def test_a_counsellor_holding_nothing_is_told_so(
    client: httpx.AsyncClient, services: Services, channel: TelegramChannel, telegram: FakeTelegram
) -> None:
    await setup_rota(services)
    await post_update(client, telegram.text_update(LAN, "xin chao"))
    await deliver(services)
    assert "chưa nhận" in texts(telegram, LAN)[-1], "a counsellor's chat is not a person's conversation"


async def test_taking_on_telegram_copies_the_transcript_only_when_the_operator_turns_it_on(
    client: httpx.AsyncClient, services: Services, channel: TelegramChannel, telegram: FakeTelegram
) -> None:
    """Off by default (above); on, the brief carries the last lines, and that read is audited."""
    await setup_rota(services)
    services.settings.telegram_staff_transcript_copy = True
    await post_update(client, telegram.text_update(PERSON, "cuu em voi, ck dang danh em"))
    await deliver(services)
    update = telegram.callback_update(LAN, "take:1", message_id=page_in(telegram, LAN), from_id=LAN)
    await post_update(client, update)
    await deliver(services)
    brief = texts(telegram, LAN)[-1]
    assert "/console/escalations/1" in brief and "ck dang danh em" in brief
    async with services.sessionmaker() as session:
        reads = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "open_transcript"))
        ).scalars()
        assert [(a.escalation_id, (a.detail or {}).get("via")) for a in reads] == [(1, "telegram")]


async def test_taking_on_telegram_reads_no_transcript_by_default(
    client: httpx.AsyncClient, services: Services, channel: TelegramChannel, telegram: FakeTelegram
) -> None:
    await setup_rota(services)
    await post_update(client, telegram.text_update(PERSON, "cuu em voi, ck dang danh em"))
    await deliver(services)
    update = telegram.callback_update(LAN, "take:1", message_id=page_in(telegram, LAN), from_id=LAN)
    await post_update(client, update)
    await deliver(services)
    assert not any("ck dang danh em" in t for t in texts(telegram, LAN))
    async with services.sessionmaker() as session:
        actions = [a.action for a in (await session.execute(select(AuditEntry))).scalars()]
        assert "take" in actions and "open_transcript" not in actions, "nothing was read, nothing to audit"
