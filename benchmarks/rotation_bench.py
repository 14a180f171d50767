"""How long `hotline rotate-key encryption` takes, and what it costs the service's writes meanwhile.

    .venv/bin/python benchmarks/rotation_bench.py [--rows 20000] [--batch-size 200] [--database-url URL]

Fills a fresh database (SQLite in a temporary folder by default; a PostgreSQL URL names an empty
database) with ``--rows`` encrypted transcript lines, then rotates the encryption key while another
thread, standing for a service process (its own event loop and connections), writes one transcript line
every 5 ms, rereading the key versions before each as a process does every HOTLINE_KEY_REFRESH_SECONDS.
Prints the rotation's time and rate, and the median and worst time of those writes. Bounded in count;
nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bot.clock import SystemClock
from bot.store.crypto import Crypto
from bot.store.db import make_engine, make_sessionmaker
from bot.store.keyring import load_versions
from bot.store.migrate import upgrade
from bot.store.models import Conversation, Message
from bot.store.rotation import rotate_encryption

SECRET = b"bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


def service(url: str, stop: threading.Event, ready: threading.Event, latencies: list[float]) -> None:
    """Another process: one transcript line every 5 ms, under the key versions in use."""

    async def run() -> None:
        engine = make_engine(url)
        sessionmaker, crypto = make_sessionmaker(engine), Crypto(SECRET)
        ready.set()
        while not stop.is_set():
            started = time.perf_counter()
            async with sessionmaker() as session, session.begin():
                crypto.use(await load_versions(session))
                row = {"conversation_id": 1, "direction": "in", "body_enc": crypto.encrypt("x"),
                       "created_at": datetime.now(UTC)}  # fmt: skip
                await session.execute(insert(Message), [row])
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.005)
        await engine.dispose()

    asyncio.run(run())


async def fill(url: str, rows: int) -> None:
    engine = make_engine(url)
    sessionmaker, crypto, now = make_sessionmaker(engine), Crypto(SECRET), datetime.now(UTC)
    async with sessionmaker() as session, session.begin():
        session.add(Conversation(id=1, channel="webchat", user_key="u" * 64, context={}, created_at=now,
                                 last_seen_at=now))  # fmt: skip
    for start in range(0, rows, 2000):
        lines = [{"conversation_id": 1, "direction": "in", "body_enc": crypto.encrypt(f"tin nhắn số {i} " * 8),
                  "created_at": now} for i in range(start, min(rows, start + 2000))]  # fmt: skip
        async with sessionmaker() as session, session.begin():
            await session.execute(insert(Message), lines)
    await engine.dispose()


async def rotate(url: str, batch_size: int) -> tuple[int, float]:
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        done = await rotate_encryption(
            make_sessionmaker(engine), Crypto(SECRET), SystemClock(), settle_seconds=0, batch_size=batch_size,
            echo=lambda _: None,
        )  # fmt: skip
        return done.reencrypted, time.perf_counter() - started
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        asyncio.run(fill(url, args.rows))
        stop, ready, latencies = threading.Event(), threading.Event(), []
        thread = threading.Thread(target=service, args=(url, stop, ready, latencies))
        thread.start()
        ready.wait()
        try:
            count, took = asyncio.run(rotate(url, args.batch_size))
        finally:
            stop.set()
            thread.join()
    print(f"{url.split(':')[0]}: {count} values re-encrypted in {took:.1f} s ({count / took:.0f}/s)")
    print(f"service writes meanwhile: {len(latencies)}, median {statistics.median(latencies) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
