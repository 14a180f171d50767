"""Revision 0010: the phone line's accepted call legs leave the engine's de-duplication table for a table
of their own, rows included, and come back on a downgrade (on both databases)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.store.db import run_on_connection
from bot.store.migrate import downgrade, upgrade
from tests.support.databases import BACKENDS, fresh_database

WHEN = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
SCREENED = "a" * 64
MESSAGE = "b" * 64


def _insert_at_0009(connection: Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO processed_messages (channel, ref_hash, created_at) VALUES "
            "('phone-screen', :screened, :when), ('telegram', :message, :when)"
        ),
        {"screened": SCREENED, "message": MESSAGE, "when": WHEN},
    )


def _rows(connection: Connection, query: str) -> list[tuple[str, ...]]:
    return sorted(tuple(str(value) for value in row) for row in connection.execute(sa.text(query)))


def _tables(connection: Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


@pytest.mark.parametrize("backend", BACKENDS)
def test_accepted_calls_move_to_their_own_table_and_back(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade(url, "0009")
        run_on_connection(url, _insert_at_0009)

        upgrade(url, "0010")
        assert run_on_connection(url, lambda c: _rows(c, "SELECT ref_hash FROM phone_screens")) == [
            (SCREENED,)
        ]
        assert run_on_connection(
            url, lambda c: _rows(c, "SELECT channel, ref_hash FROM processed_messages")
        ) == [("telegram", MESSAGE)], "the engine's table keeps only the engine's messages"

        downgrade(url, "0009")
        assert "phone_screens" not in run_on_connection(url, _tables)
        assert run_on_connection(
            url, lambda c: _rows(c, "SELECT channel, ref_hash FROM processed_messages")
        ) == [
            ("phone-screen", SCREENED),
            ("telegram", MESSAGE),
        ], "the downgrade puts them back where 0009 reads them"
