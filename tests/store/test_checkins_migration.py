"""Revision 0011: the check-ins table and the contacts' check-in counters, up and down (on both
databases); contacts written before it count zero check-ins."""

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


def _insert_contact(connection: Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO contacts (id, channel, stats_key, started_at, ended_at, locale, message_count, topics,"
            " articles, menu_path, referrals, emergency, counsellor_requested, unreached, abandoned,"
            " callback_requested) VALUES (7, 'telegram', 'k', :when, :when, 'vi', 1, '[]', '[]', '[]', '[]',"
            " false, false, false, false, false)"
        ),
        {"when": WHEN},
    )


def _columns(connection: Connection, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(connection).get_columns(table)}


def _tables(connection: Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


@pytest.mark.parametrize("backend", BACKENDS)
def test_checkins_table_and_counters_come_and_go(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade(url, "0010")
        run_on_connection(url, _insert_contact)

        upgrade(url, "0011")
        assert {"stage", "due_at", "set_at", "discreet", "note_enc", "callee_enc", "call_ref", "channel"} <= (
            run_on_connection(url, lambda c: _columns(c, "checkins"))
        )
        counts = run_on_connection(
            url,
            lambda c: c.execute(
                sa.text(
                    "SELECT checkins_set, checkins_answered, checkins_escalated FROM contacts WHERE id = 7"
                )
            ).one(),
        )
        assert tuple(counts) == (0, 0, 0), "a contact from before counts no check-ins"

        downgrade(url, "0010")
        assert "checkins" not in run_on_connection(url, _tables)
        assert not {"checkins_set", "checkins_answered", "checkins_escalated"} & run_on_connection(
            url, lambda c: _columns(c, "contacts")
        )
