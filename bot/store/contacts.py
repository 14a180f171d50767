"""Contacts: one row per chat session or call, the unit every statistic counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import compiled
from bot.store.models import Contact, Conversation
from bot.store.upsert import dialect_name


async def current_contact(
    session: AsyncSession,
    conversation: Conversation,
    *,
    now: datetime,
    stats_key: Callable[[], str],
    gap: timedelta,
    session_ref: str | None = None,
    loaded: Contact | None = None,
) -> Contact:
    """The contact this message belongs to: the open one, or a new one after a pause or a new call.

    ``loaded``: the conversation's contact, when the caller read it already (no second query then).
    ``stats_key``: gives the person's stats key (asked only for a new contact)."""
    if loaded is not None and loaded.id == conversation.contact_id:
        contact: Contact | None = loaded
    else:
        contact = await session.get(Contact, conversation.contact_id) if conversation.contact_id else None
    same_session = session_ref is None or conversation.context.get("session_ref") == session_ref
    if contact is not None and same_session and now - contact.ended_at <= gap:
        return contact
    values = new_contact_values(
        channel=conversation.channel,
        stats_key=stats_key(),
        started_at=now,
        ended_at=now,
        locale=conversation.locale,
    )
    if dialect_name(session) == "sqlite":
        # inserted as the ORM's flush would (after the pending changes), by a compiled statement
        contact = await session.run_sync(compiled.insert_persistent, Contact, values)
    else:
        contact = Contact(**values)
        session.add(contact)
        await session.flush()
    conversation.contact_id = contact.id
    if session_ref is not None:
        conversation.context = {**conversation.context, "session_ref": session_ref}
    return contact


def new_contact(*, channel: str, stats_key: str, started_at: datetime, ended_at: datetime, locale: str,
                **fields: object) -> Contact:  # fmt: skip
    """A contact with nothing counted yet (``fields`` sets the rest, e.g. a call's ``call_ref_hash``)."""
    return Contact(**new_contact_values(
        channel=channel, stats_key=stats_key, started_at=started_at, ended_at=ended_at, locale=locale, **fields
    ))  # fmt: skip


def new_contact_values(*, channel: str, stats_key: str, started_at: datetime, ended_at: datetime, locale: str,
                       **fields: object) -> dict[str, object]:  # fmt: skip
    """The columns of a contact with nothing counted yet (for an insert without the ORM)."""
    return {
        "channel": channel, "stats_key": stats_key, "started_at": started_at, "ended_at": ended_at,
        "locale": locale, **nothing_counted(), **fields,
    }  # fmt: skip


def nothing_counted() -> dict[str, object]:
    """The counting columns of a new contact, the same for every one (new lists each time)."""
    return {
        "message_count": 0, "topics": [], "articles": [], "menu_path": [], "referrals": [], "emergency": False,
        "counsellor_requested": False, "unreached": False, "abandoned": False, "callback_requested": False,
    }  # fmt: skip


def add_unique(contact: Contact, field: str, value: str) -> None:
    """Append ``value`` to a JSON list column once (a new list, so the change is noticed)."""
    values = list(getattr(contact, field) or [])
    if value not in values:
        values.append(value)
        setattr(contact, field, values)


def append(contact: Contact, field: str, value: str, *, limit: int = 200) -> None:
    values = list(getattr(contact, field) or [])
    if len(values) < limit:
        values.append(value)
        setattr(contact, field, values)
