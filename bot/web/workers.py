"""``hotline serve --workers N``: N server processes sharing one listening socket (PostgreSQL only).

The parent binds the socket, then forks the workers before it builds anything (no database engine, no
event loop, no thread exists yet, so nothing is shared by accident); each worker builds the whole service
and serves the inherited socket, where the kernel hands each new connection to one of them. Every worker
runs the outbox dispatcher too: claims are ``FOR UPDATE SKIP LOCKED`` and each worker's dispatcher locks
an instance slot of its own (:mod:`bot.outbox.instance`), so an event is never sent twice.

The parent only supervises: a worker that dies while the service runs is replaced; SIGTERM or SIGINT is
passed to every worker (each shuts down gracefully, as one ``hotline serve`` does) and the parent exits
when they all have.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

RESPAWN_PAUSE_SECONDS = 1.0
"""A worker that died is replaced after this pause."""
STARTUP_FAILURE = 3
"""A worker's exit status when it could not start (uvicorn's too): the content has mistakes, the port is
taken. Another worker would fail the same way, so the supervisor stops them all and exits with it."""


class Supervisor:
    """Forks ``count`` workers, each running ``serve(sock)``, and keeps them running until told to stop."""

    def __init__(self, count: int, sock: socket.socket, serve: Callable[[socket.socket], None]) -> None:
        self.count = count
        self.sock = sock
        self.serve = serve
        self.workers: dict[int, int] = {}  # pid -> worker number
        self.stopping = False

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; the exit status (0 when every worker stopped cleanly)."""
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for number in range(self.count):
                self._spawn(number)
            status = 0
            while self.workers:
                try:
                    pid, wait_status = os.wait()
                except ChildProcessError:
                    break
                except InterruptedError:  # pragma: no cover (PEP 475 retries; kept for clarity)
                    continue
                if pid not in self.workers:
                    continue
                number = self.workers.pop(pid)
                code = os.waitstatus_to_exitcode(wait_status)
                if code == STARTUP_FAILURE and not self.stopping:
                    log.error("worker %d could not start: stopping", number)
                    self._stop(signal.SIGTERM, None)
                    status = STARTUP_FAILURE
                    continue
                if self.stopping:
                    status = status or (code if code > 0 else 0)
                    continue
                log.error("worker %d (pid %d) exited with %d: starting another", number, pid, code)
                time.sleep(RESPAWN_PAUSE_SECONDS)
                if not self.stopping:
                    self._spawn(number)
            return status
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _spawn(self, number: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)  # uvicorn installs its own once it runs
                self.serve(self.sock)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                log.exception("worker %d failed", number)
            finally:
                logging.shutdown()
                os._exit(code)
        self.workers[pid] = number
        log.info("worker %d started (pid %d)", number, pid)

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True
        for pid in list(self.workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
