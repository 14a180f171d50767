"""Issue 15: "delete my data" deletes everything tied to the conversation, in every table.

Before, after ``/xoa`` and confirm, outbox rows (of every status but pending/held), the replies cached for
retried messages (the violence answer among them) and unread web chat messages stayed.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from sqlalchemy import ForeignKey, select, update

from bot.runtime import Services
from bot.store.erasure import REGISTRY, STEPS
from bot.store.models import Base, Contact, Conversation, Escalation, OutboxEvent
from tests.escalation.conftest import rota  # noqa: F401 (the on-call rota: Lan, then Minh)
from tests.support.db import count, drain
from tests.support.traces import everything_said, keys_of, traces

SECRET_TEXT = "toi ten la Nguyen Thi Hoa, nha o ngo 12 Kim Ma"
EMERGENCY = "cuu em voi, ck dang danh em"
RELAYED = "em dang tron o nha chi gai, so 0912 000 111"
COUNSELLOR = "Chị ở đây rồi. Em có đang an toàn không?"

# What can point to a person: their key or a keyed hash, anything encrypted, a link to their
# conversation or case.
MARKER_SUFFIXES = ("_enc", "_hash", "_key")


def _markers(table: Any) -> set[str]:
    names = {c.name for c in table.columns if c.name.endswith(MARKER_SUFFIXES)}
    for fk in table.foreign_keys:
        if fk.column.table.name in ("conversations", "escalations", "contacts"):
            names.add(fk.parent.name)
    return names


def test_every_table_says_what_a_deletion_does_to_it() -> None:
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    assert set(tables) == set(REGISTRY), "add the new table to bot.store.erasure.REGISTRY"
    for name, table in tables.items():
        entry = REGISTRY[name]
        columns = {c.name for c in table.columns}
        listed = set(entry.person) | set(entry.staff)
        assert listed <= columns, f"{name}: the registry names columns it does not have"
        unlisted = _markers(table) - listed
        assert not unlisted, f"{name}: {sorted(unlisted)} may point to a person; list them in REGISTRY"


def test_every_table_a_deletion_changes_has_a_step() -> None:
    changed = {name for name, entry in REGISTRY.items() if entry.rule in ("erase", "anonymise")}
    assert [table for table, _ in STEPS if table in changed] == [table for table, _ in STEPS]
    assert {table for table, _ in STEPS} == changed


def test_links_to_a_conversation_never_block_or_outlive_its_deletion() -> None:
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "conversations":
                assert fk.ondelete in ("CASCADE", "SET NULL"), f"{table.name}.{fk.parent.name}"
                assert isinstance(fk, ForeignKey)


async def say(client: httpx.AsyncClient, session: str, **body: str) -> list[dict[str, Any]]:
    response = await client.post(
        "/api/webchat", json={"session": session, "id": secrets.token_hex(6), **body}
    )
    assert response.status_code == 200, response.text
    replies: list[dict[str, Any]] = response.json()["replies"]
    return replies


async def test_web_chat_deletion_leaves_nothing_of_the_person_in_any_table(
    client: httpx.AsyncClient,
    services: Services,
    rota: dict[str, int],  # noqa: F811
) -> None:
    person = secrets.token_urlsafe(24)
    await say(client, person, event="start")
    await say(client, person, text=SECRET_TEXT)
    await say(client, person, text=EMERGENCY)
    await drain(services)  # the pages go out
    async with services.sessionmaker() as session:
        escalation_id = (await session.execute(select(Escalation.id))).scalar_one()
    await services.desk.take(escalation_id, rota["Lan"], via="console")
    await services.desk.reply(escalation_id, rota["Lan"], COUNSELLOR)  # never fetched: unread inbox
    await say(client, person, text=RELAYED)  # relayed to Lan
    async with services.sessionmaker() as session, session.begin():  # a relay that failed for good
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.kind == "relay_to_staff").values(status="dead")
        )
    user_key = services.crypto.user_key("webchat", person)
    said = await everything_said(services, "webchat", user_key)
    assert RELAYED in said and any(COUNSELLOR in line for line in said)
    assert await traces(services, said), "the scan finds the words before the deletion"

    prompt = await say(client, person, text="xóa")  # while Lan holds the conversation
    assert "Xóa ngay" in prompt[0]["text"], "not relayed to the counsellor: the bot asks to confirm"
    request_id = secrets.token_hex(6)
    body = {"session": person, "id": request_id, "choice": "privacy.confirm:yes"}
    confirmation = (await client.post("/api/webchat", json=body)).json()["replies"]
    assert "Đã xóa" in confirmation[0]["text"]
    await drain(services)

    assert await traces(services, [*said, *keys_of(services, "webchat", person)]) == []
    assert await count(services, Conversation) == 0
    assert await count(services, OutboxEvent, OutboxEvent.conversation_id.is_not(None)) == 0
    async with services.sessionmaker() as session:
        escalation = await session.get(Escalation, escalation_id)
        assert escalation is not None and escalation.conversation_id is None
        assert (escalation.status, escalation.outcome) == ("closed", "deleted"), "Lan sees it ended"
    assert await count(services, Contact) >= 1, "the anonymous statistics stay"
    # A retried request (same id) gets the same confirmation, and writes nothing new.
    again = (await client.post("/api/webchat", json=body)).json()["replies"]
    assert again == confirmation
    assert await count(services, Conversation) == 0
