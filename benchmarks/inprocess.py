"""The harness of the in-process profiles (``greeting_profile.py``, ``webchat_profile.py``).

Each builds the app as ``hotline serve`` does (a fresh SQLite file by default), sends its warm-up
requests, then its measured ones, ``--concurrency`` at a time, straight into the ASGI app (no socket, no
HTTP parser: what is left is the app's own cost). :func:`measure` prints the requests per second, the
process's CPU time per request, p50/p99/max latency, the commits' times and the garbage collector's
passes; with ``--profile``, cProfile's top functions by own and total time (and ``--callees``).
``--code DIR`` runs another checkout's code (a baseline; run both in turns). Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL = "http://127.0.0.1:8765"


@dataclass(frozen=True)
class Request:
    """One POST into the app."""

    path: str
    content_type: str
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()


def arguments(
    doc: str, unit: str, default: int, more: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    """The command line: ``--<unit>`` requests to measure, the options every profile has, and those that
    ``more`` adds."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if more is not None:
        more(parser)
    parser.add_argument(f"--{unit}", dest="count", type=int, default=default)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile", action="store_true", help=f"cProfile the {unit} (slows them)")
    parser.add_argument("--top", type=int, default=30, help="functions to list with --profile")
    parser.add_argument(
        "--callees",
        action="append",
        default=[],
        help="with --profile: list what functions matching this pattern call (e.g. engine.py:.*handle)",
    )
    parser.add_argument(
        "--callers",
        action="append",
        default=[],
        help="with --profile: list what calls functions matching this pattern (e.g. greenlet_spawn)",
    )
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to run (default: this)")
    args = parser.parse_args()
    args.unit = unit
    return args


def serve(args: argparse.Namespace, settings: dict[str, str], run: Callable[[], Any]) -> None:
    """Run ``run()`` (a coroutine function) on uvloop, with the service's settings plus ``settings``,
    ``args.code``'s code and a migrated database."""
    code = args.code.resolve()
    if "bot" in sys.modules and Path(sys.modules["bot"].__path__[0]).resolve().parent != code:
        raise RuntimeError(f"the service's code was imported before --code {code} was put first")
    sys.path.insert(0, str(code))  # before anything of the service is imported
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            HOTLINE_ENV="test",
            HOTLINE_DATABASE_URL=args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'profile.db'}",
            HOTLINE_SECRET_KEY=secrets.token_hex(32),
            HOTLINE_LOG_LEVEL="WARNING",
            HOTLINE_PUBLIC_URL=PUBLIC_URL,
            **settings,
        )
        from bot.store.migrate import upgrade

        upgrade(os.environ["HOTLINE_DATABASE_URL"])
        import uvloop

        uvloop.run(run())


async def post(app: Any, request: Request) -> tuple[int, bytes]:
    """The status and body of ``request`` answered by the ASGI ``app``."""
    path = request.path.encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": request.path, "raw_path": path, "query_string": b"",
        "root_path": "", "server": ("127.0.0.1", 8765), "client": ("127.0.0.1", 50000), "state": {},
        "headers": [
            (b"host", b"127.0.0.1:8765"), (b"content-type", request.content_type.encode()),
            (b"content-length", str(len(request.body)).encode()), *request.headers,
        ],
    }  # fmt: skip
    messages = [{"type": "http.request", "body": request.body, "more_body": False}]
    status = 0
    answer: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # a client that stays: never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            answer.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(answer)


async def measure(args: argparse.Namespace, warm: Sequence[Request], measured: Sequence[Request]) -> None:
    """Build the app, send ``warm`` (each must be answered 200), then time ``measured`` and print."""
    from bot.settings import Settings
    from bot.store import sqlite_inline
    from bot.web import heap
    from bot.web.app import create_app

    commits: list[float] = []
    # the commit SQLAlchemy calls: commit_now (from its greenlet) where the code has it, else commit
    name = "commit_now" if hasattr(sqlite_inline.InlineConnection, "commit_now") else "commit"
    commit = getattr(sqlite_inline.InlineConnection, name)

    async def timed_commit(self: sqlite_inline.InlineConnection) -> None:
        started = time.perf_counter()
        await commit(self)
        commits.append(time.perf_counter() - started)

    def timed_commit_now(self: sqlite_inline.InlineConnection) -> None:
        started = time.perf_counter()
        commit(self)
        commits.append(time.perf_counter() - started)

    passes: list[tuple[int, float]] = []
    started_pass = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started_pass[0] = time.perf_counter()
        else:
            passes.append((info["generation"], time.perf_counter() - started_pass[0]))

    setattr(sqlite_inline.InlineConnection, name, timed_commit_now if name == "commit_now" else timed_commit)
    app = create_app(Settings(), run_dispatcher=False)
    async with app.router.lifespan_context(app):
        for request in warm:
            status, answer = await post(app, request)
            assert status == 200, answer
        heap.freeze()  # as hotline serve does once it is built (bot/web/heap.py)
        todo = iter(measured)
        latencies: list[float] = []
        statuses: set[int] = set()

        async def client() -> None:
            for request in todo:
                sent = time.perf_counter()
                status, _ = await post(app, request)
                statuses.add(status)
                latencies.append(time.perf_counter() - sent)

        commits.clear()
        gc.callbacks.append(on_gc)
        profile = cProfile.Profile() if args.profile else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        await asyncio.gather(*(client() for _ in range(args.concurrency)))
        if profile is not None:
            profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        gc.callbacks.remove(on_gc)
    setattr(sqlite_inline.InlineConnection, name, commit)

    latencies.sort()
    n = len(latencies)
    print(f"code: {args.code.resolve()}")
    print(f"{n} {args.unit}, {args.concurrency} at a time: {n / wall:.0f}/s; CPU {cpu * 1000 / n:.3f} ms each; "
          f"answers {sorted(statuses)}")  # fmt: skip
    print(f"latency p50 {latencies[n // 2] * 1000:.1f} ms, p99 {latencies[int(n * 0.99)] * 1000:.1f} ms, "
          f"max {latencies[-1] * 1000:.1f} ms")  # fmt: skip
    if commits:
        commits.sort()
        print(f"{len(commits)} commits: median {statistics.median(commits) * 1000:.2f} ms, "
              f"max {commits[-1] * 1000:.1f} ms, over 5 ms: {sum(c > 0.005 for c in commits)}, "
              f"all {sum(commits):.2f} s")  # fmt: skip
    for generation in (0, 1, 2):
        times = [t for g, t in passes if g == generation]
        if times:
            print(f"gc generation {generation}: {len(times)} passes, longest {max(times) * 1000:.1f} ms")
    if profile is not None:
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top + 20)
        for name in args.callees:
            stats.print_callees(name)
        for name in args.callers:
            stats.print_callers(name)
