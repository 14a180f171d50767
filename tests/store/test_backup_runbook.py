"""deploy/systemd/hotline-backup.service does what deploy/backup.md says: its commands, as systemd would
run them, write a new private backup named by the time and delete the ones older than KEEP_DAYS."""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
import time
from pathlib import Path

from bot.settings import ROOT
from bot.store.migrate import upgrade
from tests.conftest import SECRET

UNIT = ROOT / "deploy" / "systemd" / "hotline-backup.service"


def _unit_lines(key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in UNIT.read_text().splitlines() if line.startswith(f"{key}=")]


def _as_systemd_runs(line: str, environment: dict[str, str]) -> list[str]:
    """systemd's own expansion: ${VAR} from Environment=, then $$ and %% become $ and %."""
    line = re.sub(r"(?<!\$)\$\{(\w+)\}", lambda m: environment[m.group(1)], line)
    line = line.replace("$$", "$").replace("%%", "%")
    line = line.replace("/opt/hotline/.venv/bin/hotline", str(Path(sys.executable).parent / "hotline"))
    return shlex.split(line)


def test_the_backup_unit_writes_a_private_dated_backup_and_deletes_old_ones(tmp_path: Path) -> None:
    (unit_environment,) = _unit_lines("Environment")
    environment = dict(pair.split("=", 1) for pair in unit_environment.split())
    keep_days = int(environment["KEEP_DAYS"])
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    environment["BACKUP_DIR"] = str(folder)
    database = tmp_path / "hotline.db"
    upgrade(f"sqlite+aiosqlite:///{database}")
    old, recent = folder / "hotline-20200101T031500Z.backup", folder / "hotline-20200102T031500Z.backup"
    for file, age_days in ((old, keep_days + 2), (recent, keep_days - 2)):
        file.write_bytes(b"")
        then = time.time() - age_days * 86400
        os.utime(file, (then, then))
    run_environment = {
        **os.environ,
        **environment,
        "HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "HOTLINE_SECRET_KEY": SECRET,
    }

    (start,) = _unit_lines("ExecStart")
    done = subprocess.run(
        _as_systemd_runs(start, environment), env=run_environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "HOTLINE_SECRET_KEY" in done.stdout, "the journal reminds that the key is kept apart"
    (made,) = set(folder.glob("hotline-*.backup")) - {old, recent}
    assert re.fullmatch(r"hotline-\d{8}T\d{6}Z\.backup", made.name)
    assert stat.S_IMODE(made.stat().st_mode) == 0o600

    (rotate,) = [line for line in _unit_lines("ExecStartPost") if "find" in line]
    subprocess.run(_as_systemd_runs(rotate, environment), check=True, timeout=60)
    assert sorted(folder.iterdir()) == sorted([made, recent]), "only the backups older than KEEP_DAYS go"
