"""Row locks for read-modify-write in one transaction."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T", bound=Any)


def for_update(session: AsyncSession, query: Select[T]) -> Select[T]:
    """``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite every write transaction already holds the
    database's write lock from its start (``BEGIN IMMEDIATE``, see :mod:`bot.store.db`)."""
    return query.with_for_update() if session.get_bind().dialect.name == "postgresql" else query
