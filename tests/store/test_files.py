"""Files in var/ are private from their creation: the folder 0700, SQLite's files 0600 (with -wal/-shm)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.files import private_dir
from bot.store.db import make_engine


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)  # what most hosts have: files 0644, folders 0755 unless asked otherwise
    try:
        yield
    finally:
        os.umask(old)


async def test_sqlite_files_are_created_private(tmp_path: Path, usual_umask: None) -> None:
    path = tmp_path / "var" / "hotline.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x TEXT)"))
            await connection.execute(text("INSERT INTO t VALUES ('secret')"))
        async with engine.connect() as connection:  # WAL: the -wal and -shm files exist while open
            await connection.execute(text("SELECT * FROM t"))
            files = {p.name: mode(p) for p in path.parent.iterdir()}
    finally:
        await engine.dispose()
    assert files == {"hotline.db": 0o600, "hotline.db-wal": 0o600, "hotline.db-shm": 0o600}
    assert mode(path.parent) == 0o700


async def test_an_existing_readable_database_is_made_private(tmp_path: Path, usual_umask: None) -> None:
    path = tmp_path / "hotline.db"
    path.touch(0o644)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await engine.dispose()
    assert mode(path) == 0o600


def test_folders_are_created_private(tmp_path: Path, usual_umask: None) -> None:
    private_dir(tmp_path / "var" / "models")
    assert mode(tmp_path / "var") == 0o700 and mode(tmp_path / "var" / "models") == 0o700
    (tmp_path / "shared").mkdir(mode=0o755)
    private_dir(tmp_path / "shared")
    assert mode(tmp_path / "shared") == 0o755, "a folder the service did not make is left as it is"
