"""The greeting of a new call: one contact row written, the engine's welcome said, its turn with the first key.

The first call in a language is greeted through the engine; later ones are greeted with what it said
(the welcome depends only on the language), and the engine's turn for it comes with the caller's first
key. Nothing a caller hears or a statistic counts may differ between the two.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, text

from bot.runtime import Services
from bot.store.contacts import new_contact
from bot.store.models import Contact
from tests.fakes.twilio_caller import FakeCaller
from tests.support.db import row_counts


async def contacts(services: Services) -> list[Contact]:
    async with services.sessionmaker() as session:
        return list((await session.execute(select(Contact).order_by(Contact.id))).scalars())


async def test_a_later_call_hears_the_same_welcome_and_writes_only_its_contact_row(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    first = phone(number="+84901111111")
    heard_first = await first.dial_in()
    before = await row_counts(services)
    second = phone(number="+84902222222")
    heard = await second.dial_in()
    assert heard.said == heard_first.said, "every new caller hears the same welcome"
    after = await row_counts(services)
    written = {table: after[table] - before[table] for table in after if after[table] != before[table]}
    assert written == {"contacts": 1}, "a greeting writes one row: the call, counted"

    menu = await second.press(second.key_for("Tiếng Việt"))
    assert "Bạn cần hỗ trợ gì" in menu.text, "the first key works on the welcome as the engine said it"
    await second.hang_up()
    _, contact = await contacts(services)
    assert contact.menu_path[:3] == ["welcome.start", "welcome.language", "welcome.set_vi"]
    assert contact.started_at == second.started, "the call started when it was answered, not at the key"
    assert contact.call_status == "completed" and contact.abandoned is True


async def test_a_caller_who_hangs_up_during_the_welcome_is_counted_as_abandoned(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    await phone(number="+84901111111").dial_in()
    caller = phone(number="+84902222222")
    await caller.dial_in()
    caller.clock.advance(seconds=7)
    response = await caller.hang_up()
    assert response.status_code == 204
    _, contact = await contacts(services)
    assert (contact.call_status, contact.abandoned, contact.locale) == ("completed", True, "vi")
    assert (
        contact.ended_at == contact.started_at + timedelta(seconds=7) == caller.started + timedelta(seconds=7)
    )


async def test_a_repeated_greeting_request_is_answered_the_same_and_writes_nothing(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    await phone(number="+84901111111").dial_in()
    caller = phone(number="+84902222222")
    heard = await caller.dial_in()
    before = await row_counts(services)
    again = await caller.dial_in()  # Twilio asks the voice URL again for the same call
    assert again.said == heard.said
    assert await row_counts(services) == before


async def test_a_returning_caller_is_greeted_in_the_language_they_chose(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    number = "+84903333333"
    caller = phone(number=number)
    await caller.dial_in()
    await caller.press(caller.key_for("English"))
    await caller.hang_up()
    heard = [await phone(number=number).dial_in() for _ in range(2)]
    assert heard[0].said[0].startswith("Hello. This is an anonymous helpline")
    assert heard[1].said == heard[0].said
    again = phone(number=number)
    await again.dial_in()
    menu = await again.press(again.key_for("Tiếng Việt"))
    assert "Bạn cần hỗ trợ gì" in menu.text


async def test_the_greetings_contact_row_is_stored_as_the_orm_stores_one(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    """The greeting's insert turns its values itself (ivr/answered.py): the stored row, every column as
    the database holds it, must be what the ORM writes for the same contact."""
    await phone(number="+84901111111").dial_in()
    caller = phone(number="+84902222222")
    await caller.dial_in()  # greeted from the learned welcome: the grouped insert
    _, greeted = await contacts(services)
    async with services.sessionmaker() as session, session.begin():
        session.add(
            new_contact(
                channel=greeted.channel, stats_key=greeted.stats_key, started_at=caller.started,
                ended_at=caller.started, locale=greeted.locale, call_ref_hash="by-the-orm",
            )
        )  # fmt: skip
    async with services.sessionmaker() as session:
        stored = (await session.execute(text("SELECT * FROM contacts ORDER BY id"))).mappings().all()
    by_greeting, by_orm = (
        {k: v for k, v in row.items() if k not in ("id", "call_ref_hash")} for row in stored[1:]
    )
    assert by_greeting == by_orm
    assert stored[1]["call_ref_hash"] == greeted.call_ref_hash != "by-the-orm"
