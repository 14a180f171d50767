"""``INSERT ... ON CONFLICT`` in the dialect of the database in use.

PostgreSQL and SQLite both have it, written alike (``on_conflict_do_nothing``,
``on_conflict_do_update`` with ``index_elements``, ``set_`` and ``excluded``), but SQLAlchemy builds it
from each dialect's own ``insert``. The PostgreSQL dialect takes tens of milliseconds to import, so it
is imported only when the database is PostgreSQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
    from sqlalchemy.ext.asyncio import AsyncSession

    Upsert = PgInsert | SqliteInsert


def dialect_name(session: AsyncSession) -> str:
    """``postgresql`` or ``sqlite``: the dialect the session's connection speaks."""
    return session.get_bind().dialect.name


def upsert(target: AsyncSession | str, table: Any) -> Upsert:
    """An ``INSERT`` into ``table`` (a mapped class or a table) that can take ``ON CONFLICT``, for the
    dialect of ``target`` (a session, or a dialect's name)."""
    name = target if isinstance(target, str) else dialect_name(target)
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)
