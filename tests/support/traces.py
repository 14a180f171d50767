"""Looking for what a person left in the database: every table, every row, encrypted columns decrypted."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from bot.runtime import Services
from bot.store.conversations import transcript
from bot.store.models import Base, Conversation


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def _readable(services: Services, column: str, value: Any) -> str:
    """The value as text; an encrypted column decrypted (JSON taken apart, so line breaks are real)."""
    if not column.endswith("_enc") or not isinstance(value, str):
        return "\n".join(_strings(value))
    plain = services.crypto.decrypt(value)
    try:
        return "\n".join(_strings(json.loads(plain)))
    except ValueError:
        return plain


async def traces(services: Services, needles: Iterable[str]) -> list[str]:
    """``table.column: needle`` for every needle found in any row of any table of the models."""
    wanted = [n for n in needles if n]
    found: list[str] = []
    async with services.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    text = _readable(services, column, value)
                    found.extend(f"{table.name}.{column}: {n[:40]!r}" for n in wanted if n in text)
    return found


async def everything_said(services: Services, channel: str, user_key: str) -> list[str]:
    """Every line of the person's transcript (their words, the bot's and the counsellor's), in full."""
    async with services.sessionmaker() as session:
        conversation = (
            await session.execute(
                select(Conversation).where(Conversation.channel == channel, Conversation.user_key == user_key)
            )
        ).scalar_one()
        lines = await transcript(session, services.crypto, conversation.id)
    return [text for _, text, _ in lines]


def keys_of(services: Services, channel: str, user_id: str) -> list[str]:
    """The person's id and every keyed hash of it the service computes (user key, its prefix in delivery
    ordering keys, the statistics key)."""
    user_key = services.crypto.user_key(channel, user_id)
    return [user_id, user_key, user_key[:32], services.crypto.stats_key(user_key)]
