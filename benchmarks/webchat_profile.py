"""Where a web chat message's time goes: ``POST /api/webchat`` through the whole ASGI app, in-process.

    .venv/bin/python benchmarks/webchat_profile.py [--messages 3000] [--concurrency 32] [--profile]
        [--database-url URL] [--code /tmp/base-checkout]

Builds the app as ``hotline serve`` does (web chat and phone line, a fresh SQLite file by default),
sends a first message on each of 256 sessions to warm it, then ``--messages`` new text messages (the
texts of ``benchmarks/engine_bench.py``, the sessions in turn, as ``benchmarks/http_bench.py`` sends
them), ``--concurrency`` at a time, straight into the ASGI app (no socket, no HTTP parser). Prints the
messages per second, the process's CPU time per message, p50/p99/max latency and the commits' times; with
``--profile``, cProfile's top functions by own and total time. ``--code DIR`` runs another checkout's
code (a baseline; run both in turns). Bounded; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL = "http://127.0.0.1:8765"
SESSIONS = 256


def environment(database_url: str) -> None:
    os.environ.update(
        HOTLINE_ENV="test",
        HOTLINE_DATABASE_URL=database_url,
        HOTLINE_SECRET_KEY=secrets.token_hex(32),
        HOTLINE_LOG_LEVEL="WARNING",
        HOTLINE_PUBLIC_URL=PUBLIC_URL,
        # one client opens every session here: the per-address caps would refuse them
        HOTLINE_FLOOD_SESSIONS_PER_MINUTE="0",
        HOTLINE_FLOOD_SESSIONS_PER_HOUR="0",
    )


async def post(app: Any, body: bytes) -> tuple[int, bytes]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/webchat", "raw_path": b"/api/webchat", "query_string": b"",
        "root_path": "", "server": ("127.0.0.1", 8765), "client": ("127.0.0.1", 50000), "state": {},
        "headers": [
            (b"host", b"127.0.0.1:8765"), (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
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


def bodies(count: int, first: int) -> list[bytes]:
    from benchmarks.engine_bench import MESSAGES

    tag = secrets.token_hex(4)
    return [
        json.dumps(
            {
                "session": f"bench{n % SESSIONS + 1:012d}{tag}",
                "id": f"m{n}",
                "text": MESSAGES[n % len(MESSAGES)],
            }
        ).encode()
        for n in range(first, first + count)
    ]


async def run(args: argparse.Namespace) -> None:
    from bot.settings import Settings
    from bot.store import sqlite_inline
    from bot.web.app import create_app

    commits: list[float] = []
    commit = sqlite_inline.InlineConnection.commit

    async def timed_commit(self: sqlite_inline.InlineConnection) -> None:
        started = time.perf_counter()
        await commit(self)
        commits.append(time.perf_counter() - started)

    sqlite_inline.InlineConnection.commit = timed_commit  # type: ignore[method-assign]
    app = create_app(Settings(), run_dispatcher=False)
    every = bodies(SESSIONS + args.messages, 0)

    async with app.router.lifespan_context(app):
        for body in every[:SESSIONS]:
            status, answer = await post(app, body)
            assert status == 200, answer
        todo = iter(every[SESSIONS:])
        latencies: list[float] = []
        statuses: set[int] = set()

        async def client() -> None:
            for body in todo:
                sent = time.perf_counter()
                status, _ = await post(app, body)
                statuses.add(status)
                latencies.append(time.perf_counter() - sent)

        commits.clear()
        profile = cProfile.Profile() if args.profile else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        await asyncio.gather(*(client() for _ in range(args.concurrency)))
        if profile is not None:
            profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sqlite_inline.InlineConnection.commit = commit  # type: ignore[method-assign]

    latencies.sort()
    n = len(latencies)
    print(f"code: {args.code.resolve()}")
    print(f"{n} messages, {args.concurrency} at a time: {n / wall:.0f}/s; CPU {cpu * 1000 / n:.3f} ms per "
          f"message; answers {sorted(statuses)}")  # fmt: skip
    print(f"latency p50 {latencies[n // 2] * 1000:.1f} ms, p99 {latencies[int(n * 0.99)] * 1000:.1f} ms, "
          f"max {latencies[-1] * 1000:.1f} ms")  # fmt: skip
    if commits:
        commits.sort()
        print(f"{len(commits)} commits: median {statistics.median(commits) * 1000:.2f} ms, "
              f"max {commits[-1] * 1000:.1f} ms, all {sum(commits):.2f} s")  # fmt: skip
    if profile is not None:
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top + 20)
        for name in args.callees:
            stats.print_callees(name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile", action="store_true", help="cProfile the messages (slows them)")
    parser.add_argument("--top", type=int, default=40, help="functions to list with --profile")
    parser.add_argument(
        "--callees",
        action="append",
        default=[],
        help="with --profile: list what functions matching this pattern call (e.g. engine.py:.*handle)",
    )
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to run (default: this)")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))  # before anything of the service is imported
    with tempfile.TemporaryDirectory() as tmp:
        environment(args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'webchat.db'}")
        from bot.store.migrate import upgrade

        upgrade(os.environ["HOTLINE_DATABASE_URL"])
        import uvloop

        uvloop.run(run(args))


if __name__ == "__main__":
    main()
