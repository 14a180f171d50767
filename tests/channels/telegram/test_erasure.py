"""Issue 15 on Telegram: after ``/xoa`` and confirm, nothing of the person is left in any table, and the
confirmation still reaches them (its outbox row is deleted once sent).

Before, 4 encrypted outbox rows still held the chat id and the bot's replies, and the de-duplication
table kept the answer to the violence message.
"""

from __future__ import annotations

import httpx
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.runtime import Services
from bot.store.models import Contact, Conversation, Escalation, OutboxEvent
from tests.channels.telegram.helpers import count, deliver, post_update
from tests.escalation.conftest import rota  # noqa: F401 (the on-call rota: Lan, then Minh)
from tests.fakes.telegram_api import FakeTelegram
from tests.support.traces import everything_said, keys_of, traces

CHAT = 733_444_555
LAN = 1001  # the counsellor's Telegram chat in the test rota
SECRET_TEXT = "toi ten la Nguyen Thi Hoa, nha o ngo 12 Kim Ma"
EMERGENCY = "cuu em voi, ck dang danh em"


async def talk(client: httpx.AsyncClient, services: Services, update: dict) -> None:
    response = await post_update(client, update)
    assert response.status_code == 200
    await deliver(services)


async def test_telegram_deletion_leaves_nothing_and_the_confirmation_still_arrives(
    client: httpx.AsyncClient,
    services: Services,
    telegram: FakeTelegram,
    clock: FrozenClock,
    rota: dict[str, int],  # noqa: F811
) -> None:
    await talk(client, services, telegram.text_update(CHAT, "/start"))
    await talk(client, services, telegram.text_update(CHAT, SECRET_TEXT))
    await talk(client, services, telegram.text_update(CHAT, EMERGENCY))  # an open case; Lan is paged
    await talk(client, services, telegram.text_update(CHAT, "/xoa"))
    telegram.fail_next("sendMessage", status=403)  # this answer is given up on: a dead row
    await talk(client, services, telegram.text_update(CHAT, "PrEP là gì"))
    telegram.fail_next("sendMessage", status=429, retry_after=60)  # this one waits: a pending row
    await talk(client, services, telegram.text_update(CHAT, "PEP là gì"))
    statuses = {row.status for row in await _rows(services)}
    assert {"dead", "pending", "done"} <= statuses
    said = await everything_said(services, "telegram", services.crypto.user_key("telegram", str(CHAT)))
    sent_before = len(telegram.sent(CHAT))

    await talk(client, services, telegram.tap(CHAT, "Xóa ngay"))
    clock.advance(seconds=61)
    await deliver(services)

    after = [c.params["text"] for c in telegram.sent(CHAT)[sent_before:]]
    assert len(after) == 1 and "Đã xóa" in after[0], "only the confirmation: the waiting answer is gone"
    assert telegram.deleted(CHAT), "the chat on the phone is cleared too"
    assert await traces(services, [*said, *keys_of(services, "telegram", str(CHAT))]) == []
    assert await _rows(services) == [], "no outbox row is left for the person, not even the confirmation"
    assert await count(services, Conversation) == 0
    async with services.sessionmaker() as session:
        escalation = (await session.execute(select(Escalation))).scalar_one()
    assert (escalation.status, escalation.outcome, escalation.conversation_id) == ("closed", "deleted", None)
    assert await count(services, Contact, Contact.outcome == "deleted") == 1, "statistics stay, anonymous"


async def test_a_confirmation_that_cannot_be_delivered_is_deleted_too(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    await talk(client, services, telegram.text_update(CHAT, "/start"))
    await talk(client, services, telegram.text_update(CHAT, "/xoa"))
    telegram.block(CHAT)  # blocked the bot straight after tapping
    await talk(client, services, telegram.tap(CHAT, "Xóa ngay"))
    assert await _rows(services) == []
    assert await traces(services, keys_of(services, "telegram", str(CHAT))) == []


async def test_a_counsellor_holding_the_case_on_telegram_is_told_it_ended(
    client: httpx.AsyncClient,
    services: Services,
    telegram: FakeTelegram,
    rota: dict[str, int],  # noqa: F811
) -> None:
    await talk(client, services, telegram.text_update(CHAT, EMERGENCY))
    async with services.sessionmaker() as session:
        escalation_id = (await session.execute(select(Escalation.id))).scalar_one()
    await services.desk.take(escalation_id, rota["Lan"], via="telegram")
    await talk(client, services, telegram.text_update(CHAT, "xóa"))  # not relayed: the bot asks
    await talk(client, services, telegram.tap(CHAT, "Xóa ngay"))
    told = telegram.sent(LAN)[-1].params["text"]
    assert f"#{escalation_id}" in told and "đã xóa dữ liệu" in told
    assert await count(services, OutboxEvent, OutboxEvent.kind == "relay_to_staff") == 0


async def _rows(services: Services) -> list[OutboxEvent]:
    """The outbox rows sent to the person (not the pages to staff)."""
    async with services.sessionmaker() as session:
        rows = await session.execute(
            select(OutboxEvent).where(OutboxEvent.kind.in_(("deliver", "telegram_cleanup", "inbox")))
        )
        return list(rows.scalars())
