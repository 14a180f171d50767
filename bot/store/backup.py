"""Back up and restore the database: ``hotline backup FILE`` and ``hotline restore FILE``.

SQLite is copied with its online backup API (a consistent copy while the service keeps writing);
PostgreSQL with ``pg_dump --format=custom`` and ``pg_restore``. A backup holds what the database holds:
encrypted transcripts, addresses and payloads, keyed hashes of ids. The secret key is never in it, and
without the key none of it can be read: the key is backed up apart (deploy/backup.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import URL, Connection, MetaData, func, make_url, select, text

from bot.errors import HotlineError
from bot.store.db import run_on_connection, sqlite_path

KEY_REMINDER = (
    "Khóa bí mật (HOTLINE_SECRET_KEY) KHÔNG có trong bản sao lưu: hãy sao lưu nó riêng, ở nơi khác; "
    "thiếu khóa thì không đọc được bản ghi cuộc trò chuyện nào.\n"
    "The secret key (HOTLINE_SECRET_KEY) is NOT in the backup: keep a copy of it apart, somewhere else; "
    "without it no transcript can be read."
)
CONTENTS = (
    "Bản sao lưu chứa: bản ghi cuộc trò chuyện và địa chỉ đã mã hóa, mã băm có khóa của định danh, "
    "tài khoản nhân viên, lịch trực. Hãy lưu nó đã mã hóa (age/gpg) và ngoài máy chủ.\n"
    "The backup contains: encrypted transcripts and addresses, keyed hashes of ids, staff accounts, "
    "the rota. Store it encrypted (age/gpg) and off this machine."
)


class BackupError(HotlineError):
    """A backup or restore that cannot be done; the message says why and what to do."""


# -- common -------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _new_private_file(path: Path) -> Iterator[int]:
    """A new file only its owner can read (0600 from its creation), removed again if writing it fails."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{path} exists already: choose a new file name") from None
    try:
        yield fd
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        path.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):
        os.close(fd)


def backup(database_url: str, destination: Path) -> None:
    """Write a backup of the database to ``destination`` (a new file, 0600)."""
    if database_url.startswith("sqlite"):
        backup_sqlite(_sqlite_file(database_url), destination)
    else:
        backup_postgresql(database_url, destination)


def restore(database_url: str, source: Path, *, force: bool = False) -> None:
    """Put the backup ``source`` in place of the database; refused if the database holds data, unless
    ``force``. The caller brings the schema up to date afterwards (an older backup into newer code)."""
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    if database_url.startswith("sqlite"):
        restore_sqlite(source, _sqlite_file(database_url), force=force)
    else:
        restore_postgresql(source, database_url, force=force)


def _sqlite_file(database_url: str) -> Path:
    path = sqlite_path(database_url)
    if path is None:
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return path


def _refuse_data(tables: dict[str, int], force: bool) -> None:
    holding = {name: rows for name, rows in tables.items() if rows and name != "alembic_version"}
    if holding and not force:
        listed = ", ".join(f"{name} ({rows})" for name, rows in sorted(holding.items()))
        raise BackupError(
            f"the database holds data ({listed}): restoring would replace it. Stop the service, and if "
            "this is really what you want, run again with --force"
        )


# -- SQLite -------------------------------------------------------------------------------------------


def backup_sqlite(database: Path, destination: Path) -> None:
    """Copy with SQLite's online backup API, in one step: one read transaction, so a consistent snapshot
    even while the service writes (in WAL mode a reader does not stop the writers). The copy is one
    self-contained file (journal mode DELETE, no ``-wal`` beside it)."""
    if not database.is_file():
        raise BackupError(f"{database}: no such database file")
    with _new_private_file(destination):
        source = sqlite3.connect(database, timeout=30)
        try:
            target = sqlite3.connect(destination)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode=DELETE")
                integrity = target.execute("PRAGMA quick_check").fetchone()
                if integrity is None or integrity[0] != "ok":
                    raise BackupError(f"the copy failed its integrity check: {integrity}")
            finally:
                target.close()
        finally:
            source.close()


def sqlite_tables(database: Path) -> dict[str, int]:
    """Row counts of the tables of an SQLite database (empty if the file does not exist)."""
    if not database.is_file():
        return {}
    return table_counts(f"sqlite+aiosqlite:///{database}")


def table_counts(database_url: str) -> dict[str, int]:
    """Row counts of the database's tables (PostgreSQL: its public schema)."""

    def count(connection: Connection) -> dict[str, int]:
        metadata = MetaData()
        metadata.reflect(connection)
        return {
            name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in metadata.tables.items()
        }

    return run_on_connection(database_url, count)


def restore_sqlite(source: Path, database: Path, *, force: bool) -> None:
    """Copy the backup over the database, page by page with the backup API (the database's own ``-wal``
    is handled by SQLite, never left stale beside a replaced file)."""
    from bot.files import private_sqlite

    backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        check = backup_file.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        backup_file.close()
        raise BackupError(f"{source} is not an SQLite backup: {exc}") from exc
    try:
        if check is None or check[0] != "ok":
            raise BackupError(f"{source} failed its integrity check: {check}")
        _refuse_data(sqlite_tables(database), force)
        private_sqlite(database)  # a new database file is created 0600, as the service creates it
        target = sqlite3.connect(database, timeout=30)
        try:
            backup_file.backup(target)
        finally:
            target.close()
    finally:
        backup_file.close()


# -- PostgreSQL ---------------------------------------------------------------------------------------


def find_binary(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: on the PATH, else in Debian's versioned folders (newest first)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise BackupError(
        f"{name} is not installed: install the PostgreSQL client of the server's major version or newer "
        "(Debian/Ubuntu: `apt install postgresql-client`)"
    )


def libpq_target(database_url: str) -> tuple[str, dict[str, str]]:
    """The database URL for the PostgreSQL tools without the password, and the environment that carries
    it (PGPASSWORD): a password never appears on a command line, where ``ps`` would show it."""
    url = make_url(database_url)
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    query = dict(url.query)
    ssl = query.pop("ssl", None)  # asyncpg's name; libpq calls it sslmode
    if ssl is not None and "sslmode" not in query:
        query["sslmode"] = ssl
    plain = URL.create("postgresql", url.username, None, url.host, url.port, url.database, query)
    return plain.render_as_string(hide_password=False), environment


def _run(command: list[str], environment: dict[str, str], **kwargs: object) -> None:
    # a list of arguments, no shell: the URL and file name cannot become commands
    done = subprocess.run(command, env=environment, stderr=subprocess.PIPE, text=True, check=False, **kwargs)  # type: ignore[call-overload]  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()}")


def backup_postgresql(database_url: str, destination: Path) -> None:
    """``pg_dump --format=custom`` (compressed, restorable table by table) into a new private file."""
    pg_dump = find_binary("pg_dump")
    target, environment = libpq_target(database_url)
    with _new_private_file(destination) as fd:
        _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--dbname={target}"],
             environment, stdout=fd)  # fmt: skip


def _drop_tables(database_url: str, names: list[str]) -> None:
    def drop(connection: Connection) -> None:
        quote = connection.dialect.identifier_preparer.quote
        for name in names:  # CASCADE: the tables point at each other (conversations <-> escalations)
            connection.execute(text(f"DROP TABLE IF EXISTS {quote(name)} CASCADE"))

    run_on_connection(database_url, drop)


def restore_postgresql(source: Path, database_url: str, *, force: bool) -> None:
    """``pg_restore`` into the (existing) database, in one transaction: all or nothing. Tables already
    there (an empty schema a first start created, or data when forced) are dropped first, so the backup's
    schema and revision are what remain; the caller then upgrades to head."""
    pg_restore = find_binary("pg_restore")
    target, environment = libpq_target(database_url)
    _run([pg_restore, "--list", str(source)], environment, stdout=subprocess.DEVNULL)  # a readable dump?
    tables = table_counts(database_url)
    _refuse_data(tables, force)
    _drop_tables(database_url, list(tables))
    _run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={target}", str(source)], environment)  # fmt: skip


# -- after a restore ----------------------------------------------------------------------------------


def key_reads_transcripts(database_url: str, secret: bytes) -> bool | None:
    """Whether the key decrypts the latest line of transcript (None when there is none): a restore on a
    new machine with the wrong secret key would otherwise be found only when someone opens a case."""
    from bot.store.crypto import DecryptionError
    from bot.store.db import make_engine, make_sessionmaker
    from bot.store.keyring import load_crypto
    from bot.store.models import Message

    async def check() -> bool | None:
        engine = make_engine(database_url)
        try:
            sessionmaker = make_sessionmaker(engine)
            crypto = await load_crypto(secret, sessionmaker)
            async with sessionmaker() as session:
                latest = await session.scalar(select(Message.body_enc).order_by(Message.id.desc()).limit(1))
            if latest is None:
                return None
            try:
                crypto.decrypt(latest)  # the text is not kept, nor shown
            except DecryptionError:
                return False
            return True
        finally:
            await engine.dispose()

    return asyncio.run(check())
