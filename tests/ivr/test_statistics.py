"""Call statistics under Twilio's real habits: callbacks repeated, out of order, or before the call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from bot.runtime import Services
from bot.store.models import Contact
from tests.fakes.twilio_caller import FakeCaller


async def contacts(services: Services) -> list[Contact]:
    async with services.sessionmaker() as session:
        return list((await session.execute(select(Contact).order_by(Contact.id))).scalars())


async def test_status_callbacks_repeated_and_out_of_order_change_nothing(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    caller = phone()
    await caller.dial_in()
    await caller.press("1")
    await caller.hang_up()
    (first,) = await contacts(services)
    await caller.hang_up()  # the same callback again, later
    late = await caller.post(f"{caller.public_url}/ivr/status", {"CallStatus": "in-progress"})
    assert late.status_code == 204
    (again,) = await contacts(services)
    assert (again.call_status, again.ended_at, again.abandoned) == ("completed", first.ended_at, True)
    assert again.ended_at == caller.started + timedelta(seconds=5)


async def test_a_status_callback_before_the_call_reached_the_engine_writes_nothing_and_the_call_one_row(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    caller = phone()
    response = await caller.post(
        f"{caller.public_url}/ivr/status", {"CallStatus": "in-progress", "CallDuration": "0"}
    )
    assert response.status_code == 204
    assert await contacts(services) == [], "a call the service has not answered is not counted"
    await caller.dial_in()
    await caller.press("1")
    await caller.hang_up()
    (contact,) = await contacts(services)
    assert contact.menu_path[:3] == ["welcome.start", "welcome.language", "welcome.set_vi"]
    assert contact.call_status == "completed"


async def test_status_callbacks_of_calls_never_answered_are_not_counted_as_abandoned(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    """Issue 16: an outbound page call, or any call the service never answered, is not a caller who gave up."""
    caller = phone()
    response = await caller.hang_up("canceled")
    assert response.status_code == 204
    page = phone(number="+84911111111")
    response = await page.post(
        f"{page.public_url}/ivr/status",
        {"CallStatus": "no-answer", "CallDuration": "0", "Direction": "outbound-api"},
    )
    assert response.status_code == 204
    assert await contacts(services) == []
    answered = phone()
    await answered.dial_in()
    response = await answered.post(
        f"{answered.public_url}/ivr/status",
        {"CallStatus": "completed", "CallDuration": "30", "Direction": "outbound-api"},
    )
    (contact,) = await contacts(services)
    assert contact.call_status != "completed", "an outbound call's callback never changes an answered call"
    await answered.hang_up("completed")
    (contact,) = await contacts(services)
    assert (contact.call_status, contact.abandoned) == ("completed", True)


async def test_hanging_up_while_a_counsellor_rings(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    caller = phone()
    await caller.dial_in()
    await caller.press("1")
    await caller.press("9")
    await caller.dial_ends("no-answer", ring_seconds=20)
    heard = await caller.dial_ends("canceled", ring_seconds=4)  # the caller gave up while it rang
    assert heard.said == [] and heard.find("Dial") is None
    await caller.hang_up()
    (contact,) = await contacts(services)
    assert contact.emergency is True
    assert contact.dial_outcome == "no-answer"
    assert contact.abandoned is True


async def test_two_calls_from_one_number_are_two_contacts_and_one_person(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    for _ in range(2):
        caller = phone()
        await caller.dial_in()
        await caller.press("1")
        await caller.hang_up()
    first, second = await contacts(services)
    assert first.id != second.id and first.call_ref_hash != second.call_ref_hash
    assert first.stats_key == second.stats_key, "unique callers are counted by the pseudonymous key"
    assert second.menu_path[0] == "welcome.start"
