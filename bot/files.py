"""Files only the service can read: the generated secret, the SQLite database, the trained model.

Each is private from its creation (created with a restrictive mode, never written and then restricted):
there is no moment when another account on the host could open it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

VAR = Path(__file__).resolve().parent.parent / "var"
"""The service's own folder in the repository (the default place of the database, the model, the locks)."""


def private_dir(path: Path) -> None:
    """Create a folder only its owner can enter (mode 0700), with its missing parents.

    An existing folder is left as it is, except the service's own ``var/``: made 0700 if it was open to
    others (earlier versions created it 0755).
    """
    if not path.exists():
        if not path.parent.exists():
            private_dir(path.parent)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)  # the umask can only narrow this, never widen it
    elif path.resolve() == VAR.resolve() and path.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):
            path.chmod(0o700)
            log.warning("%s was open to other accounts: made private (0700)", path)


def create_private(path: Path, content: str) -> bool:
    """Write a new file readable by its owner only (0600), atomically: private from its creation, and
    appearing only whole. False when the file exists already (another process made it first)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)  # refuses an existing file: two first starts keep one secret
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def private_sqlite(path: Path) -> None:
    """Create an SQLite database file 0600 before SQLite opens it (SQLite would make it 0644 under the
    usual umask); its ``-wal`` and ``-shm`` files take the database file's mode. Files left open to others
    by an earlier version are made private."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)
                log.warning("%s was readable by other accounts: made private (0600)", file)
