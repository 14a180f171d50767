"""Revision 0012: the bad-client alert tables come and go (on both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.store.db import run_on_connection
from bot.store.migrate import downgrade, upgrade
from tests.support.databases import BACKENDS, fresh_database

TABLES = {"client_reports", "alert_subscriptions", "alert_counts"}


def _tables(connection: Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


def _columns(connection: Connection, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(connection).get_columns(table)}


@pytest.mark.parametrize("backend", BACKENDS)
def test_alert_tables_come_and_go(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade(url, "0011")
        assert not TABLES & run_on_connection(url, _tables)
        upgrade(url, "0012")
        assert run_on_connection(url, _tables) >= TABLES
        assert {"phone_hash", "phone_last3", "what_enc", "followup_enc", "reporter_hash", "expires_at"} <= (
            run_on_connection(url, lambda c: _columns(c, "client_reports"))
        )
        downgrade(url, "0011")
        assert not TABLES & run_on_connection(url, _tables)
        upgrade(url, "0012")
        assert run_on_connection(url, _tables) >= TABLES
