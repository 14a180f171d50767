"""Who a dispatcher is across restarts, so that a restarted process takes back its own leases at once.

A dispatcher claims events as ``<life>/<nonce>``. The *life* survives a restart: it is
``HOTLINE_INSTANCE_ID`` (or, by default, a hash of the host name, the database URL and the lock folder)
followed by a *slot* number. The slot is the first of ``<lock dir>/dispatcher-<id>-<n>.lock`` that this
process can lock (``flock``). The kernel drops the lock when the process dies, even on ``kill -9``,
so:

* a process restarted after a crash gets the same slot, hence the same life, and may release every
  lease of that life at once (the earlier holder is certainly dead);
* two live processes on one host with the same instance id (two ``hotline serve`` on one machine) get
  different slots and never take each other's leases.

Processes on different hosts must not share an explicit ``HOTLINE_INSTANCE_ID`` (their lock files are
not the same files). Without the lock folder being writable, the slot cannot be proved and the life is
made unique per run: recovery then falls back to the short, renewed lease running out.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import socket
import uuid
from pathlib import Path
from typing import IO

from bot.files import private_dir

log = logging.getLogger(__name__)

MAX_SLOTS = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def default_instance_id(database_url: str, lock_dir: Path) -> str:
    """A stable id for this host, database and lock folder (no secret in it: the URL is only hashed)."""
    seed = "\0".join((socket.gethostname(), database_url, str(lock_dir.resolve())))
    return "i" + hashlib.sha256(seed.encode()).hexdigest()[:15]


def clean_instance_id(value: str) -> str:
    """An instance id as stored in ``claimed_by``: safe characters, at most 40 of them."""
    return _UNSAFE.sub("_", value)[:40] or "hotline"


class InstanceSlot:
    """A held slot lock; :attr:`life` names this process's leases until :meth:`release`.

    Without a lock folder the instance id itself is the life (tests, or an operator who guarantees
    uniqueness).
    """

    def __init__(self, instance_id: str, lock_dir: Path | None) -> None:
        self.instance_id = clean_instance_id(instance_id)
        self.lock_dir = lock_dir
        self._file: IO[bytes] | None = None
        # Whether leases of earlier runs of this life may be taken back: a locked slot, or an id given
        # without a lock folder (the caller vouches that no other live process uses it).
        self.trusted = False
        self.life = self._acquire()

    def _acquire(self) -> str:
        if self.lock_dir is None:
            self.trusted = True  # the caller vouches that no other live process uses this id
            return self.instance_id
        try:
            private_dir(self.lock_dir)
            for slot in range(MAX_SLOTS):
                handle = (self.lock_dir / f"dispatcher-{self.instance_id}-{slot}.lock").open("ab")
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    continue
                self._file = handle
                self.trusted = True
                return f"{self.instance_id}-{slot}"
        except OSError as exc:
            log.warning("outbox: cannot lock an instance slot in %s (%s)", self.lock_dir, type(exc).__name__)
        # No provable slot: a life of its own, so that nothing live is ever taken back.
        return f"{self.instance_id}-p{os.getpid()}-{uuid.uuid4().hex[:6]}"

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
