"""The HTTP server's limits: what ``hotline serve`` asks of uvicorn, and what it adds to it.

uvicorn has no timeout for *receiving* a request: its keep-alive timer runs only between requests and is
reset by every byte, and a connection that sends nothing at all is never armed. Measured (issue 15): none
of 1,000 connections that sent headers a byte at a time was closed in 40 s, and at the systemd default of
1,024 open files, 1,100 such connections made the server fail every request for as long as they stayed.
So the HTTP protocol here is uvicorn's own (httptools) with three additions:

* **a request timeout**: a request's headers and body must arrive within ``request_timeout`` seconds of
  its first byte (or of the connection, if nothing comes); else the connection is closed. It covers the
  receiving only: a long answer (an event stream) is never cut by it.
* **a header size limit**: more than :data:`MAX_HEADER_BYTES` of request line and headers gets 431 and
  the connection is closed (uvicorn's httptools protocol keeps every header in memory, with no limit).
* **room under the open-file limit**: at ``max_connections`` open connections, the oldest one still
  waiting for its request is closed to make room, so slow clients cannot use up the process's file
  descriptors (the database, and the next real request, need some too). The same number is uvicorn's
  ``limit_concurrency``: beyond it, requests get a quick 503 instead of a hang.

``max_connections`` is lowered to fit the process's open-file limit (which ``hotline serve`` raises to its
hard limit first; deploy/systemd sets ``LimitNOFILE=65536``).
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

# nginx's default for a request line and its headers is 4 x 8 KiB; a browser sends 1-2 KiB.
MAX_HEADER_BYTES = 32 * 1024
# Files the process needs besides client connections: the listening socket, the event loop, database
# connections (SQLite: a file each; PostgreSQL: a socket each), logs, the model, the outbox's HTTP clients.
RESERVED_FILES = 128
BACKLOG = 2048  # uvicorn's default; Linux caps it at net.core.somaxconn (4096 on recent kernels)
MAX_OPEN_FILES = 65536


class _HeadersTooLarge(Exception):
    """Raised inside the parser's callbacks to stop parsing a request whose headers are too large."""


def raise_open_files_limit(wanted: int = MAX_OPEN_FILES) -> int:
    """Raise this process's soft limit of open files towards ``wanted`` (within the hard limit); the result.

    systemd's default is 1,024 soft and 524,288 hard: the soft limit is the one that bites, and a process
    may raise it itself.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            log.warning("could not raise the open files limit from %d to %d", soft, target)
    return soft if soft != resource.RLIM_INFINITY else wanted


def connection_limit(wanted: int, open_files: int) -> int:
    """``wanted``, or fewer if the open-file limit leaves less room beside :data:`RESERVED_FILES`."""
    room = max(16, open_files - RESERVED_FILES)
    if wanted > room:
        log.warning(
            "HOTLINE_MAX_CONNECTIONS=%d does not fit under the open files limit (%d): using %d; raise "
            "LimitNOFILE (deploy/systemd/hotline.service)", wanted, open_files, room,
        )  # fmt: skip
    return min(wanted, room)


def protocol_class(*, request_timeout: float, max_connections: int) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with a request timeout, a header limit and room kept under the limit.

    Each call makes a class with its own list of connections waiting for a request (one per server).
    """
    waiting: dict[GuardedProtocol, None] = {}  # connections whose request is not all here, oldest first

    class GuardedProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None
        _receiving = False  # between the first byte of a request and its last
        _header_bytes = 0
        _oversized = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            if len(self.connections) >= max_connections - 1 and waiting:
                # Full: the oldest connection still sending its request goes (a slow client, most likely),
                # and one place stays free for a request that has its headers (uvicorn's 503 counts them).
                oldest = next(iter(waiting))
                oldest._disarm()
                oldest.transport.close()
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()  # on every close: a pending timer would keep the connection's objects alive
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and (
                self._receiving or self.cycle is None or self.cycle.response_complete
            ):
                self._arm()  # the first bytes of the next request (or stray bytes: they get the same time)
            super().data_received(data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._receiving = True
            self._header_bytes = 0
            self._arm()

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            super().on_header(name, value)

        def on_message_complete(self) -> None:
            self._receiving = False
            self._disarm()
            super().on_message_complete()

        def _unsupported_upgrade_warning(self) -> None:
            # Nothing here speaks WebSocket (ws="none"): such a request is served as plain HTTP. uvicorn
            # would log two warnings for each (one telling to install a WebSocket library): a log flood.
            log.debug("a request asked to upgrade the connection; served as plain HTTP")

        def send_400_response(self, msg: str) -> None:
            if not self._oversized:
                super().send_400_response(msg)
                return
            body = b"request headers too large"
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
            )
            self.transport.close()

        def _count(self, size: int) -> None:
            self._header_bytes += size
            if self._header_bytes > MAX_HEADER_BYTES:
                self._oversized = True
                raise _HeadersTooLarge  # the parser stops; uvicorn answers through send_400_response

        def _arm(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(request_timeout, self._timed_out)
                waiting[self] = None

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            waiting.pop(self, None)

        def _timed_out(self) -> None:
            self._deadline = None
            waiting.pop(self, None)
            # Not while an answer is being written for a request that did arrive whole.
            if self._receiving or self.cycle is None or self.cycle.response_complete:
                log.debug("closed a connection whose request did not arrive within %ss", request_timeout)
                self.transport.close()

    return GuardedProtocol


def server_options(*, request_timeout: float, max_connections: int, keep_alive: int) -> dict[str, Any]:
    """uvicorn's settings for ``hotline serve`` (raises the open-file limit first)."""
    limit = connection_limit(max_connections, raise_open_files_limit())
    return {
        # uvloop and httptools (uvicorn[standard]) by name, not "auto": a missing one fails the start instead
        # of silently serving on asyncio's loop and the pure-Python h11 at a fraction of the speed.
        "loop": "uvloop",
        "http": protocol_class(request_timeout=request_timeout, max_connections=limit),
        "ws": "none",  # nothing here speaks WebSocket
        "limit_concurrency": limit,
        "backlog": BACKLOG,
        "timeout_keep_alive": keep_alive,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,  # used only if the h11 protocol ever is
    }
