"""Where a phone-line greeting's time goes: ``POST /ivr/voice`` through the whole ASGI app, in-process.

    .venv/bin/python benchmarks/greeting_profile.py [--calls 5000] [--concurrency 32] [--profile]
        [--database-url URL] [--code /tmp/base-checkout]

Builds the app as ``hotline serve`` does (web chat and phone line, a fresh SQLite file by default),
answers 200 calls to warm it, then ``--calls`` new calls, each signed as Twilio signs, ``--concurrency``
at a time, straight into the ASGI app (no socket, no HTTP parser: what is left is the app's own cost).
Prints the calls per second, the process's CPU time per call, p50/p99/max latency, the commits' times
and the garbage collector's passes; with ``--profile``, cProfile's top functions by own and total time.
``--code DIR`` runs another checkout's code (a baseline; run both in turns). Bounded; nothing leaves the
machine.
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
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL = "http://127.0.0.1:8765"
sys.path.insert(0, str(ROOT))

from benchmarks.channel_configs import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, twilio_call  # noqa: E402


def environment(database_url: str) -> None:
    os.environ.update(
        HOTLINE_ENV="test",
        HOTLINE_DATABASE_URL=database_url,
        HOTLINE_SECRET_KEY=secrets.token_hex(32),
        HOTLINE_LOG_LEVEL="WARNING",
        HOTLINE_PUBLIC_URL=PUBLIC_URL,
        HOTLINE_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        HOTLINE_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        HOTLINE_TWILIO_CALLER_ID=CALLER_ID,
    )


def signed_call(n: int) -> tuple[str, bytes]:
    from twilio.request_validator import RequestValidator

    params = twilio_call(n)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/ivr/voice", params)
    return signature, urlencode(params).encode()


async def post(app: Any, signature: str, body: bytes) -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/ivr/voice", "raw_path": b"/ivr/voice", "query_string": b"",
        "root_path": "", "server": ("127.0.0.1", 8765), "client": ("127.0.0.1", 50000), "state": {},
        "headers": [
            (b"host", b"127.0.0.1:8765"), (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()), (b"x-twilio-signature", signature.encode()),
        ],
    }  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # a client that stays: never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


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
    first = secrets.randbelow(1 << 40) << 20
    calls = [signed_call(first + n) for n in range(args.calls + 200)]
    passes: list[tuple[int, float]] = []
    started_pass = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started_pass[0] = time.perf_counter()
        else:
            passes.append((info["generation"], time.perf_counter() - started_pass[0]))

    async with app.router.lifespan_context(app):
        for signature, body in calls[:200]:
            assert await post(app, signature, body) == 200
        todo = iter(calls[200:])
        latencies: list[float] = []
        statuses: set[int] = set()

        async def client() -> None:
            for signature, body in todo:
                sent = time.perf_counter()
                statuses.add(await post(app, signature, body))
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
    sqlite_inline.InlineConnection.commit = commit  # type: ignore[method-assign]

    latencies.sort()
    n = len(latencies)
    print(f"code: {args.code.resolve()}")
    print(f"{n} calls, {args.concurrency} at a time: {n / wall:.0f}/s; CPU {cpu * 1000 / n:.3f} ms per call; "
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
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile", action="store_true", help="cProfile the calls (slows them)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to run (default: this)")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))  # before anything of the service is imported
    with tempfile.TemporaryDirectory() as tmp:
        environment(args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'greeting.db'}")
        from bot.store.migrate import upgrade

        upgrade(os.environ["HOTLINE_DATABASE_URL"])
        import uvloop

        uvloop.run(run(args))


if __name__ == "__main__":
    main()
