"""How fast the engine answers: messages through ``Engine.handle`` on a real database.

    .venv/bin/python benchmarks/engine_bench.py [--messages 300] [--database-url URL] [--concurrency 8]

Prints the median and 95th-percentile time per message, the throughput and the peak memory. Bounded
in count; nothing leaves the machine (SQLite file in a temporary folder by default).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from bot.messages import InboundMessage
from bot.runtime import build_services
from bot.settings import Settings
from bot.store.migrate import upgrade

MESSAGES = [
    "bcs bi rach phai lam sao",
    "ban dam bi phat bao nhieu",
    "xet nghiem hiv o dau",
    "PrEP là gì",
    "e bi cong an bat thi sao",
    "thuoc lac co nguy hiem ko",
    "menu",
    "1",
]


async def run(database_url: str, count: int, concurrency: int) -> None:
    upgrade(database_url)
    settings = Settings(_env_file=None, env="test", database_url=database_url, secret_key="b" * 40)  # type: ignore[call-arg, arg-type]
    started = time.perf_counter()
    services = build_services(settings, channel_factories=[])
    print(f"start-up (content + model): {time.perf_counter() - started:.2f} s")
    await services.start(dispatcher=False)
    users = [secrets.token_hex(8) for _ in range(max(concurrency, 1))]
    timings: list[float] = []

    async def worker(user: str, n: int) -> None:
        for i in range(n):
            message = InboundMessage("bench", user, text=MESSAGES[i % len(MESSAGES)])
            t0 = time.perf_counter()
            await services.engine.handle(message)
            timings.append(time.perf_counter() - t0)

    per_user = count // len(users)
    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    await asyncio.gather(*(worker(u, per_user) for u in users))
    elapsed = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    await services.close()
    timings.sort()
    print(f"database: {database_url.split(':', 1)[0]}, messages: {len(timings)}, concurrency: {len(users)}")
    print(f"median per message: {statistics.median(timings) * 1000:.1f} ms")
    print(f"p95 per message:    {timings[int(len(timings) * 0.95) - 1] * 1000:.1f} ms")
    print(
        f"p99 per message:    {timings[int(len(timings) * 0.99) - 1] * 1000:.1f} ms, max {timings[-1] * 1000:.1f} ms"
    )
    print(f"throughput:         {len(timings) / elapsed:.0f} messages/s")
    # CPU time of the process (every thread: SQLite's too) per message: less disturbed by a busy machine
    print(f"CPU per message:    {cpu / len(timings) * 1000:.2f} ms")
    print(f"peak memory (RSS):  {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(url, min(args.messages, 5000), args.concurrency))


if __name__ == "__main__":
    main()
