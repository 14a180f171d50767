"""A warm hand-over (issue 21): the note stays in the console; the next counsellor is paged that a case
was handed to them with a note, on their own routes, and the page never carries the note."""

from __future__ import annotations

import secrets

import httpx
import pytest
from sqlalchemy import select

from bot.escalation.desk import DeskError
from bot.runtime import Services
from bot.store.models import AuditEntry, DeskNote
from tests.escalation.conftest import RecordingPager, drain

EMERGENCY = "cuu em voi, ck dang danh em"
NOTE = "Em ấy đang trốn ở nhà chị gái, đã gọi 113 chưa được; hẹn nhắn lại lúc 23h"


async def test_a_hand_over_with_a_note_pages_the_next_counsellor_without_the_note(
    client: httpx.AsyncClient, services: Services, rota: dict[str, int], telegram_pager: RecordingPager
) -> None:
    await client.post("/api/webchat", json={"session": secrets.token_hex(16), "text": EMERGENCY})
    await drain(services)
    escalation_id = (await services.desk.queue())[0].escalation_id
    assert (await services.desk.take(escalation_id, rota["Lan"], via="console")).taken
    telegram_pager.notes.clear()

    with pytest.raises(DeskError, match="longer than 2000"):
        await services.desk.hand_over(escalation_id, rota["Lan"], rota["Minh"], note="x" * 2001)
    assert await services.desk.hand_over(escalation_id, rota["Lan"], rota["Minh"], note=NOTE) == "Minh"
    await drain(services)

    # Minh (Telegram 1002) is paged; nobody else; the page names the case and Lan, not the note
    assert [address for address, _ in telegram_pager.notes] == ["1002"]
    text = telegram_pager.notes[0][1]
    assert f"#{escalation_id}" in text and "Lan" in text and "ghi chú" in text and "with a note" in text
    assert "113" not in text and "chị gái" not in text, "the note stays in the console"
    assert f"/console/escalations/{escalation_id}" in text

    # the note is kept encrypted, for Minh, and the queue tells Minh it was handed to them
    async with services.sessionmaker() as session:
        note = (await session.execute(select(DeskNote))).scalar_one()
        assert note.kind == "handover" and note.to_counsellor_id == rota["Minh"]
        assert "chị gái" not in note.text_enc
        audit = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "hand_over"))
        ).scalar_one()
        assert audit.detail == {"to": rota["Minh"], "note": True}
    notes = await services.desk.notes(escalation_id, rota["Minh"], staff_id=None)
    assert [(n.kind, n.text, n.by, n.to) for n in notes] == [("handover", NOTE, "Lan", "Minh")]
    item = (await services.desk.queue())[0]
    assert item.holder_id == rota["Minh"] and item.handed_over

    # Lan no longer holds it: she can neither read the notes nor write one
    with pytest.raises(DeskError):
        await services.desk.notes(escalation_id, rota["Lan"], staff_id=None)
    with pytest.raises(DeskError):
        await services.desk.add_note(escalation_id, rota["Lan"], "một ghi chú")


async def test_a_hand_over_without_a_note_pages_nobody(
    client: httpx.AsyncClient, services: Services, rota: dict[str, int], telegram_pager: RecordingPager
) -> None:
    await client.post("/api/webchat", json={"session": secrets.token_hex(16), "text": EMERGENCY})
    await drain(services)
    escalation_id = (await services.desk.queue())[0].escalation_id
    await services.desk.take(escalation_id, rota["Lan"], via="console")
    telegram_pager.notes.clear()
    await services.desk.hand_over(escalation_id, rota["Lan"], rota["Minh"], note="   ")
    await drain(services)
    assert telegram_pager.notes == [], "as before: the person is told, the queue shows the new holder"
    assert not (await services.desk.queue())[0].handed_over
