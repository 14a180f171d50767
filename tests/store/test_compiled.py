"""The hot path's compiled statements and flush (bot/store/compiled.py) write what the ORM would.

The same changes to a conversation and its contact, once flushed by the ORM and once by
``compiled.flush``, must leave the same rows, column for column; and after either the objects are clean
(nothing left for a later flush to write). Anything the compiled flush does not handle (a new row, a
deleted one) goes to the ORM's flush. On SQLite and PostgreSQL (the ``database_url`` fixture).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from bot.clock import FrozenClock
from bot.runtime import Services
from bot.store import compiled
from bot.store.contacts import new_contact
from bot.store.models import Contact, Conversation
from bot.store.sqlite_inline import InlineConnection

pytestmark = pytest.mark.usefixtures("services")


def _row(instance: Any) -> dict[str, Any]:
    table = type(instance).__table__
    return {column.key: getattr(instance, column.key) for column in table.columns if column.key != "id"}


async def _make(services: Services, clock: FrozenClock, user_key: str) -> tuple[int, int]:
    now = clock.now()
    async with services.sessionmaker() as session, session.begin():
        contact = new_contact(
            channel="webchat", stats_key="s" * 24, started_at=now, ended_at=now, locale="vi"
        )
        session.add(contact)
        await session.flush()
        conversation = Conversation(
            channel="webchat", user_key=user_key, locale="vi", locale_chosen=False, context={"a": 1},
            contact_id=contact.id, created_at=now, last_seen_at=now,
        )  # fmt: skip
        session.add(conversation)
        await session.flush()
        return conversation.id, contact.id


def _change(conversation: Conversation, contact: Contact, clock: FrozenClock) -> None:
    later = clock.now() + timedelta(minutes=3)
    conversation.locale = "en"
    conversation.node = "main.menu"
    conversation.context = {**conversation.context, "b": [1, "hai"]}
    conversation.last_seen_at = later
    conversation.locale_chosen = conversation.locale_chosen  # the same value: no change
    contact.message_count += 1
    contact.ended_at = later
    contact.topics = [*contact.topics, "hiv"]
    contact.emergency = True


async def _changed_by(services: Services, clock: FrozenClock, user_key: str, flush: Any) -> list[Any]:
    conversation_id, contact_id = await _make(services, clock, user_key)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0].upper())

    async with services.sessionmaker() as session, session.begin():
        conversation = await session.get(Conversation, conversation_id)
        contact = await session.get(Contact, contact_id)
        assert conversation is not None and contact is not None
        _change(conversation, contact, clock)
        # On SQLite (inline) compiled statements go straight to sqlite3: its trace sees every statement.
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        inline = driver._conn if isinstance(driver, InlineConnection) else None
        if inline is not None:
            inline.set_trace_callback(lambda statement: statements.append(statement.split()[0].upper()))
        else:
            event.listen(services.db.sync_engine, "before_cursor_execute", seen)
        try:
            await session.run_sync(flush)
            assert not session.dirty  # clean: nothing left for the commit to write
            await session.run_sync(Session.flush)
        finally:
            if inline is not None:
                inline.set_trace_callback(None)
            else:
                event.remove(services.db.sync_engine, "before_cursor_execute", seen)
    async with services.sessionmaker() as session:
        rows = [
            _row(await session.get(Conversation, conversation_id)),
            _row(await session.get(Contact, contact_id)),
        ]
    rows[0].pop("user_key")
    rows[0].pop("contact_id")
    return [rows, statements]


async def test_the_compiled_flush_writes_what_the_orm_writes(services: Services, clock: FrozenClock) -> None:
    by_orm = await _changed_by(services, clock, "k" * 64, Session.flush)
    by_compiled = await _changed_by(services, clock, "j" * 64, compiled.flush)
    assert by_compiled[0] == by_orm[0]
    assert by_compiled[1] == by_orm[1] == ["UPDATE", "UPDATE"]
    assert by_compiled[0][0]["context"] == {"a": 1, "b": [1, "hai"]}
    assert by_compiled[0][1]["message_count"] == 1 and by_compiled[0][1]["topics"] == ["hiv"]


async def test_a_new_or_deleted_row_goes_to_the_orm_flush(services: Services, clock: FrozenClock) -> None:
    conversation_id, contact_id = await _make(services, clock, "m" * 64)
    now = clock.now()
    async with services.sessionmaker() as session, session.begin():
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        conversation.node = "main.menu"
        added = new_contact(channel="webchat", stats_key="t" * 24, started_at=now, ended_at=now, locale="vi")
        session.add(added)
        await session.run_sync(compiled.flush)
        assert added.id is not None and not session.new and not session.dirty
        old = await session.get(Contact, contact_id)
        await session.delete(old)
        conversation.contact_id = added.id
        await session.run_sync(compiled.flush)
        assert not session.deleted and not session.dirty
    async with services.sessionmaker() as session:
        stored = (
            await session.execute(select(Conversation).where(Conversation.id == conversation_id))
        ).scalar_one()
        assert stored.node == "main.menu" and stored.contact_id == added.id
        assert await session.get(Contact, contact_id) is None


async def test_a_conversation_read_compiled_is_what_the_orm_reads(
    services: Services, clock: FrozenClock
) -> None:
    from bot.store import conversations

    conversation_id, contact_id = await _make(services, clock, "n" * 64)
    parameters = {"channel": "webchat", "user_key": "n" * 64}
    async with services.sessionmaker() as session:
        by_orm = (await session.execute(conversations._GET_WITH_CONTACT, parameters)).one()
        expected = [_row(by_orm[0]), _row(by_orm[1])]
    async with services.sessionmaker() as session, session.begin():
        loaded = await session.run_sync(conversations._load_with_contact, parameters)
        assert loaded is not None
        conversation, contact = loaded
        assert contact is not None
        assert [_row(conversation), _row(contact)] == expected
        assert (conversation.id, contact.id) == (conversation_id, contact_id)
        assert conversation.created_at.tzinfo is not None and isinstance(conversation.locale_chosen, bool)
        # in the session as a loaded object: clean, found again by get, changes flushed
        assert not session.dirty and not session.new
        assert await session.get(Conversation, conversation_id) is conversation
        again = await session.run_sync(conversations._load_with_contact, parameters)
        assert again is not None and again[0] is conversation and again[1] is contact
        conversation.node = "main.menu"
        contact.message_count = 7
    async with services.sessionmaker() as session:
        stored = await session.get(Conversation, conversation_id)
        counted = await session.get(Contact, contact_id)
        assert stored is not None and stored.node == "main.menu"
        assert counted is not None and counted.message_count == 7
    async with services.sessionmaker() as session, session.begin():
        assert (
            await session.run_sync(conversations._load_with_contact, {**parameters, "user_key": "x" * 64})
            is None
        )


def _state(instance: Any) -> dict[str, Any]:
    """An object's loaded attributes (its state's dict, the id left out) and whether it is persistent,
    clean and in its session's identity map."""
    state = inspect(instance)
    values = {key: value for key, value in state.dict.items() if key not in ("id", "_sa_instance_state")}
    found = state.session is not None and state.session.identity_map.get(state.key) is instance
    return {"values": values, "persistent": state.persistent, "clean": not state.modified, "mapped": found}


async def test_an_insert_writes_and_leaves_what_the_orm_flush_does(
    services: Services, clock: FrozenClock, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("insert_persistent is SQLite's (the new id is its lastrowid)")
    from bot.store.contacts import new_contact_values
    from bot.store.conversations import _new_conversation_values

    now = clock.now()
    made: dict[str, list[Any]] = {}
    for way in ("orm", "compiled"):
        contact_values = new_contact_values(
            channel="webchat", stats_key=way[0] * 24, started_at=now, ended_at=now, locale="en"
        )
        conversation_values = _new_conversation_values("webchat", way[0] * 64, now, "en")
        async with services.sessionmaker() as session, session.begin():
            if way == "orm":
                contact = Contact(**contact_values)
                conversation = Conversation(**conversation_values)
                session.add_all([contact, conversation])
                await session.flush()
            else:
                contact = await session.run_sync(compiled.insert_persistent, Contact, contact_values)
                conversation = await session.run_sync(
                    compiled.insert_persistent, Conversation, conversation_values
                )
            assert not session.new and not session.dirty
            assert await session.get(Contact, contact.id) is contact
            states = [_state(conversation), _state(contact)]
            conversation.contact_id = contact.id  # flushed at the commit, as any change
            ids = (conversation.id, contact.id)
        async with services.sessionmaker() as session:
            stored = [_row(await session.get(Conversation, ids[0])), _row(await session.get(Contact, ids[1]))]
        stored[0].pop("user_key")
        stored[1].pop("stats_key")
        states[0]["values"].pop("user_key")
        states[1]["values"].pop("stats_key")
        assert stored[0]["contact_id"] == ids[1]
        stored[0].pop("contact_id")
        made[way] = [stored, states]
    assert made["compiled"] == made["orm"]
    assert made["orm"][1][0]["persistent"] and made["orm"][1][0]["clean"] and made["orm"][1][0]["mapped"]
