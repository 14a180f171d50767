"""``hotline backup`` / ``hotline restore``: a transcript written through the engine survives a backup and
a restore into a fresh database, and reads back with the key (and only with the key)."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import main
from bot.messages import InboundMessage
from bot.runtime import Services
from bot.store.backup import BackupError, backup, backup_sqlite, restore
from bot.store.crypto import Crypto, DecryptionError
from bot.store.db import make_engine, make_sessionmaker
from bot.store.migrate import is_current, upgrade
from bot.store.models import Conversation, Message
from tests.conftest import SECRET
from tests.support.databases import BACKENDS, fresh_database, migration_chain

SECRET_TEXT = "em bi danh, so cua em la 0912345678"
RAW_PHONE = "+84912345678"
OTHER_SECRET = "another-secret-key-0123456789-abcdefghijklm"


def _hotline(url: str, *args: str, secret: str = SECRET) -> Result:
    runner = CliRunner()
    return runner.invoke(
        main, ["--database-url", url, *args], env={"HOTLINE_SECRET_KEY": secret}, catch_exceptions=False
    )


async def _transcript(url: str, secret: str) -> list[str]:
    """Every line of every transcript in the database, decrypted with ``secret``'s key."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            crypto = Crypto(secret.encode())
            return [crypto.decrypt(m.body_enc) for m in (await session.execute(select(Message))).scalars()]
    finally:
        await engine.dispose()


def _back_up_and_restore(source_url: str, backend: str, folder: Path) -> None:
    file = folder / "hotline.backup"
    done = _hotline(source_url, "backup", str(file))
    assert done.exit_code == 0, done.output
    assert "HOTLINE_SECRET_KEY" in done.output and "encrypted transcripts" in done.output
    assert stat.S_IMODE(file.stat().st_mode) == 0o600, "the backup is private from its creation"
    assert SECRET_TEXT.encode() not in file.read_bytes() and RAW_PHONE.encode() not in file.read_bytes()

    with fresh_database(backend, folder) as fresh:
        done = _hotline(fresh, "restore", str(file))
        assert done.exit_code == 0, done.output
        assert "messages:" in done.output and "HOTLINE_SECRET_KEY" in done.output
        assert "the key reads the transcripts: ok" in done.output
        assert is_current(fresh)

        lines = asyncio.run(_transcript(fresh, SECRET))
        assert SECRET_TEXT in lines, "the transcript reads back with the key"
        with pytest.raises(DecryptionError):
            asyncio.run(_transcript(fresh, OTHER_SECRET))

        refused = _hotline(fresh, "restore", str(file))
        assert refused.exit_code != 0 and "--force" in refused.output, "a database with data is not replaced"
        forced = _hotline(fresh, "restore", "--force", str(file))
        assert forced.exit_code == 0, forced.output
        assert asyncio.run(_transcript(fresh, SECRET)).count(SECRET_TEXT) == 1, "replaced, not added to"

        wrong_key = _hotline(fresh, "restore", "--force", str(file), secret=OTHER_SECRET)
        assert wrong_key.exit_code != 0, "a restore with another key says it cannot read the transcripts"
        assert "does NOT read the restored transcripts" in wrong_key.output


async def test_a_transcript_survives_a_backup_and_a_restore_into_a_fresh_database(
    services: Services, tmp_path: Path
) -> None:
    await services.engine.handle(
        InboundMessage("telephone-test", RAW_PHONE, text=SECRET_TEXT, address=RAW_PHONE, session_id="CA1")
    )
    async with services.sessionmaker() as session:
        assert (await session.execute(select(Conversation))).scalars().first() is not None
    backend = "sqlite" if services.settings.is_sqlite else "postgresql"
    await asyncio.to_thread(_back_up_and_restore, services.settings.database_url, backend, tmp_path)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_older_backup_is_brought_up_to_date_when_restored(backend: str, tmp_path: Path) -> None:
    file = tmp_path / "old.backup"
    with fresh_database(backend, tmp_path) as old:
        upgrade(old, migration_chain()[0])
        backup(old, file)
    with fresh_database(backend, tmp_path) as fresh:
        done = _hotline(fresh, "restore", str(file))
        assert done.exit_code == 0, done.output
        assert is_current(fresh)


def test_a_backup_never_overwrites_a_file_and_a_bad_file_is_not_restored(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    upgrade(url)
    existing = tmp_path / "existing"
    existing.write_text("keep me")
    with pytest.raises(BackupError, match="exists already"):
        backup(url, existing)
    assert existing.read_text() == "keep me"
    with pytest.raises(BackupError, match="not an SQLite backup"):
        restore(url, existing)


def test_an_sqlite_backup_taken_while_a_writer_is_busy_is_consistent(tmp_path: Path) -> None:
    """Each write adds one row to two tables in one transaction: any consistent copy has as many rows in
    both, whatever the writer was doing when the copy was taken."""
    database = tmp_path / "busy.db"
    setup = sqlite3.connect(database)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, body BLOB)")
    setup.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, body BLOB)")
    setup.commit()
    setup.close()
    started, stop = threading.Event(), threading.Event()

    def write() -> None:
        connection = sqlite3.connect(database, timeout=30)
        try:
            while not stop.is_set():
                with connection:  # one transaction
                    connection.execute("INSERT INTO a (body) VALUES (randomblob(3000))")
                    connection.execute("INSERT INTO b (body) VALUES (randomblob(3000))")
                started.set()
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert started.wait(30)
        for number in range(5):
            copy = tmp_path / f"copy-{number}.db"
            backup_sqlite(database, copy)
            assert not Path(f"{copy}-wal").exists(), "the copy is one self-contained file"
            check = sqlite3.connect(copy)
            try:
                assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                a, b = (check.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("a", "b"))
            finally:
                check.close()
            assert a == b > 0
    finally:
        stop.set()
        writer.join()
    assert writer.is_alive() is False


def test_the_postgresql_password_goes_to_pg_dump_in_its_environment_not_its_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[list[str], dict[str, str]]] = []

    def run(command: list[str], env: dict[str, str], **_: object) -> subprocess.CompletedProcess[str]:
        seen.append((command, env))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr("bot.store.backup.subprocess.run", run)
    url = "postgresql+asyncpg://hotline:hunter2@db.example:5433/hotline?ssl=require"
    backup(url, tmp_path / "pg.backup")
    ((command, environment),) = seen
    assert not any("hunter2" in part for part in command)
    assert environment["PGPASSWORD"] == "hunter2"
    assert "--dbname=postgresql://hotline@db.example:5433/hotline?sslmode=require" in command
    assert stat.S_IMODE((tmp_path / "pg.backup").stat().st_mode) == 0o600


def test_a_missing_pg_dump_is_said_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.store.backup.shutil.which", lambda _name: None)
    monkeypatch.setattr("bot.store.backup.glob.glob", lambda _pattern: [])
    done = _hotline("postgresql+asyncpg://hotline@db.example/hotline", "backup", str(tmp_path / "x"))
    assert done.exit_code != 0 and "pg_dump is not installed" in done.output
    assert not (tmp_path / "x").exists()
