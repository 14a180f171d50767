"""Files only the service can read: the generated secret, the SQLite database, the trained model.

Each is private from its creation (created with a restrictive mode, never written and then restricted):
there is no moment when another account on the host could open it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Iterable
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


def replace_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all, private (0600) from its creation: a temporary file
    in the same folder, flushed to disk, then renamed over ``path``; a reader never sees half a file.
    The folder is created private if missing. Raises :class:`OSError`."""
    private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def keep_newest(current: Path, prefix: str, suffix: str, keep: int) -> None:
    """Of the files ``prefix*suffix`` beside ``current``, keep ``current`` and the newest others, up to
    ``keep`` in all (another version of the service may still be running on one); remove the rest, and
    temporaries of :func:`replace_private` left by a crash more than an hour ago. Never raises."""
    folder = current.parent
    others = [p for p in folder.glob(f"{prefix}*{suffix}") if p != current]
    try:
        others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in others[keep - 1 :]:
            old.unlink(missing_ok=True)
        for stale in folder.glob(f".{prefix}*.tmp"):
            if time.time() - stale.stat().st_mtime > 3600:
                stale.unlink(missing_ok=True)
    except OSError:
        pass


def hash_files(digest: hashlib._Hash, label: str, root: Path, files: Iterable[Path]) -> None:
    """Feed ``files`` (under ``root``) to ``digest``: each one's name relative to ``root``, length and
    bytes, so that a renamed, changed, added or removed file changes the hash."""
    for path in files:
        data = path.read_bytes()
        name = path.relative_to(root).as_posix()
        digest.update(f"{label}:{name}:{len(data)}\n".encode())
        digest.update(data)
