"""A flood of emergencies does not flood counsellors' phones: above K pages a minute to one recipient,
further pages are combined into "N new emergencies, open the console"; the console queue still lists
every emergency on its own, emergencies first."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from bot.clock import FrozenClock
from bot.messages import InboundMessage
from bot.runtime import Services
from bot.store.models import OutboxEvent
from tests.channels.telegram.helpers import VirtualTime
from tests.fakes.telegram_api import FakeTelegram
from tests.outbox.conftest import EMERGENCY, LAN, STAFF_GROUP, emergency
from tests.support.db import drain


def take_buttons(telegram: FakeTelegram, chat: int) -> list[str]:
    return [b["callback_data"] for call in telegram.sent(chat) for b in call.buttons]


async def settle(services: Services, clock: FrozenClock, pace: VirtualTime, seconds: float) -> None:
    """Let ``seconds`` pass (the staff group's pace re-times its pages) and send what is due."""
    clock.advance(seconds=seconds)
    pace.now += seconds
    await drain(services)


async def test_pages_above_the_limit_are_combined_and_each_emergency_stays_in_the_queue(
    services: Services, rota: dict[str, int], pace: VirtualTime, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    services.settings.page_combine_above = 3
    services.settings.page_combine_seconds = 30
    for _ in range(8):
        await emergency(services)
    await drain(services)
    await settle(services, clock, pace, 3)  # the group's fourth message waits for its slot

    for chat in (LAN, STAFF_GROUP):
        sent = telegram.sent(chat)
        assert len(sent) == 4, f"{chat}: three pages, then one message for the other five"
        assert len(take_buttons(telegram, chat)) == 3, "each single page can be taken with one tap"
        [combined] = [call.params["text"] for call in sent if not call.buttons]
        assert "5 ca mới" in combined and "5 new emergencies" in combined and "/console" in combined

    queue = await services.desk.queue()
    assert len(queue) == 8 and all(item.kind == "emergency" and item.status == "open" for item in queue)

    # Two more within the half minute: gathered, and sent once the half minute since the last one is over.
    clock.advance(seconds=10)
    await emergency(services)
    await emergency(services)
    await drain(services)
    assert len(telegram.sent(LAN)) == 4, "no second combined message within page_combine_seconds"
    await settle(services, clock, pace, 20)
    await settle(services, clock, pace, 3)
    for chat in (LAN, STAFF_GROUP):
        assert len(telegram.sent(chat)) == 5
        assert "2 ca mới" in telegram.sent(chat)[-1].params["text"]
    assert len(await services.desk.queue()) == 10

    # A quiet minute later, a page is a single page again, with its button.
    clock.advance(seconds=61)
    await emergency(services)
    await drain(services)
    await settle(services, clock, pace, 3)
    assert len(take_buttons(telegram, LAN)) == 4 and len(take_buttons(telegram, STAFF_GROUP)) == 4


async def test_an_emergency_taken_before_its_combined_page_goes_is_left_out(
    services: Services, rota: dict[str, int], pace: VirtualTime, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    services.settings.page_combine_above = 1
    for _ in range(3):
        await emergency(services)
    assert await services.dispatcher.run_once() == 3  # the pages are queued: one single, two combined
    async with services.sessionmaker() as session:
        digests = (
            await session.execute(select(OutboxEvent).where(OutboxEvent.kind == "page_digest"))
        ).scalars()
        combined = [services.crypto.decrypt_json(d.payload_enc) for d in digests]
    [for_lan] = [d["escalation_ids"] for d in combined if d["address"] == str(LAN)]
    assert len(for_lan) == 2
    taken = await services.desk.take(for_lan[0], rota["Minh"], via="console")
    assert taken.taken
    await drain(services)
    lan = telegram.sent(LAN)
    assert len(lan) == 2 and all(call.buttons for call in lan), "one single page, then the one left untaken"
    assert f"take:{for_lan[1]}" in take_buttons(telegram, LAN)
    assert f"take:{for_lan[0]}" not in take_buttons(telegram, LAN), "taken: nobody is disturbed for it"


async def flooder_emergency(services: Services, client: str) -> None:
    """An emergency from a new web chat session of one client (one address, as a script would send)."""
    outcome = await services.engine.handle(
        InboundMessage(
            "webchat",
            secrets.token_hex(16),
            text=EMERGENCY,
            transport_id=secrets.token_hex(8),
            client_key=client,
        )
    )
    assert outcome.emergency


async def test_a_clients_second_emergency_in_the_hour_is_combined_and_leaves_the_single_pages_to_others(
    services: Services, rota: dict[str, int], pace: VirtualTime, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    services.settings.page_combine_above = 3
    services.settings.page_combine_seconds = 30
    flooder = secrets.token_hex(8)
    for _ in range(4):  # under the alert cap (5 an hour): all paged, but only the first on its own
        await flooder_emergency(services, flooder)
    await drain(services)
    await settle(services, clock, pace, 3)
    lan = telegram.sent(LAN)
    assert len(lan) == 2 and len(take_buttons(telegram, LAN)) == 1, "one single page, one combined"
    assert any("3 ca mới" in call.params["text"] for call in lan), "the client's three later emergencies"

    # Two real people next: the flooder used one single page of three, so both get theirs at once.
    await emergency(services)
    await emergency(services)
    await drain(services)
    await settle(services, clock, pace, 3)
    assert len(take_buttons(telegram, LAN)) == 3 and len(take_buttons(telegram, STAFF_GROUP)) == 3
    queue = await services.desk.queue()
    assert len(queue) == 6, "every emergency is in the console queue, the flooder's too"


async def test_combined_pages_follow_a_burst_within_seconds_but_at_most_so_many_a_minute(
    services: Services, rota: dict[str, int], pace: VirtualTime, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    services.settings.page_combine_above = 1
    services.settings.page_combine_seconds = 2
    services.settings.page_combined_per_minute = 3
    await emergency(services)  # the single page
    await drain(services)
    for _ in range(6):  # one more emergency every 2 s: each told by a combined page at once, three of them
        await emergency(services)
        await drain(services)
        await settle(services, clock, pace, 2)
    lan = telegram.sent(LAN)
    assert len(lan) == 4, "one single page and three combined ones in the minute, no more"
    # (a combined page holding one emergency is sent as that emergency's own page, with its button)
    assert take_buttons(telegram, LAN) == ["take:1", "take:2", "take:3", "take:4"]
    # The other three wait for the minute after the first combined page; then they go together.
    await settle(services, clock, pace, 60 - 12 + 1)
    await settle(services, clock, pace, 3)
    lan = telegram.sent(LAN)
    assert len(lan) == 5 and "3 ca mới" in lan[-1].params["text"]
    assert len(await services.desk.queue()) == 7
