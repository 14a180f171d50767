"""Login spraying against the console, and what it does to everyone else (issue 15).

    .venv/bin/python benchmarks/attack_login.py [--seconds 10] [--clients 16] [--database-url URL]

It runs the real service, ``hotline serve`` in a subprocess on loopback (``hotline db upgrade`` and
``hotline staff add`` first), on a fresh SQLite database in a temporary folder (or the database
``--database-url`` names, which must be empty or at the current revision). One counsellor, ``lan``,
logs in once from her browser, which keeps its device cookie. Then, all to 127.0.0.1 and bounded in
time and count (at most ``--seconds`` and ``--max-attempts`` per phase):

1. *baseline*: ``GET /healthz`` one after another, no other load;
2. *one address*: ``--clients`` parallel clients send wrong passwords for ``lan`` from one address, as a
   script on one machine would, while ``/healthz`` is timed the same way;
3. *many addresses*: the same, each attempt from a new address (``X-Forwarded-For``; the service trusts
   loopback as its proxy by default): a botnet, for which no address ever reaches a limit, so every
   attempt costs a password check. During it, ``lan`` logs in from her own browser with the right
   password, and from a browser she never used, at an address nobody attacked;
4. *spraying*: each attempt from a new address at a new user name (nothing to lock, on any design).

Prints the median and p95 of ``/healthz`` in each phase and the ratio to the baseline, how the attempts
were answered (401 checked and refused, 429 throttled), and the two logins of ``lan``. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/support starts the server; the script runs from benchmarks/

from tests.support.server import LiveServer, hotline_env, run_cli, start_server  # noqa: E402

PASSWORD = "mat khau that dai cua Lan"  # noqa: S105 (a test account on a throw-away database)


@dataclass
class Phase:
    name: str
    healthz: list[float] = field(default_factory=list)  # seconds
    answers: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def probe(client: httpx.AsyncClient, phase: Phase, until: float, limit: int) -> None:
    """Time ``GET /healthz`` one after another until ``until`` (at most ``limit`` requests)."""
    while time.monotonic() < until and len(phase.healthz) < limit:
        started = time.perf_counter()
        response = await client.get("/healthz")
        phase.healthz.append(time.perf_counter() - started)
        response.raise_for_status()
        await asyncio.sleep(0.01)


async def attacker(
    client: httpx.AsyncClient, phase: Phase, until: float, budget: itertools.count[int], limit: int,
    addresses: itertools.count[int] | None, spray: bool,
) -> None:  # fmt: skip
    while time.monotonic() < until and next(budget) < limit:
        if addresses is None:
            forwarded = "203.0.113.7"
        else:
            n = next(addresses)
            forwarded = f"198.18.{n // 250 % 250}.{n % 250 + 1}"
        response = await client.post(
            "/console/login",
            data={"username": secrets.token_hex(4) if spray else "lan", "password": secrets.token_hex(8)},
            headers={"X-Forwarded-For": forwarded},
        )
        phase.answers[response.status_code] += 1


async def attack(
    url: str, phase: Phase, *, clients: int, seconds: float, limit: int, spread: bool, spray: bool = False
) -> None:
    until = time.monotonic() + seconds
    budget = itertools.count()
    addresses = itertools.count() if spread else None
    limits = httpx.Limits(max_connections=clients + 1)
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        health = httpx.AsyncClient(base_url=url, timeout=60)
        async with health:
            await asyncio.gather(
                probe(health, phase, until, 100_000),
                *(attacker(client, phase, until, budget, limit, addresses, spray) for _ in range(clients)),
            )
    phase.seconds = time.monotonic() - started


async def timed_login(client: httpx.AsyncClient, address: str) -> tuple[int, float]:
    started = time.perf_counter()
    response = await client.post(
        "/console/login", data={"username": "lan", "password": PASSWORD}, headers={"X-Forwarded-For": address}
    )
    return response.status_code, time.perf_counter() - started


async def run(server: LiveServer, args: argparse.Namespace) -> None:
    url = server.url
    own = httpx.AsyncClient(base_url=url, timeout=60)  # lan's browser: logs in once, keeps its cookies
    status, _ = await timed_login(own, "192.0.2.10")
    print(f"lan's first login from her browser: HTTP {status}")
    assert status == 303, "the set-up login failed"
    await own.post("/console/logout")

    baseline = Phase("baseline (no load)")
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for _ in range(20):  # warm up
            await client.get("/healthz")
        await probe(client, baseline, time.monotonic() + args.seconds, 300)

    one = Phase(f"{args.clients} clients, wrong passwords from one address")
    await attack(url, one, clients=args.clients, seconds=args.seconds, limit=args.max_attempts, spread=False)

    many = Phase(f"{args.clients} clients, each attempt from a new address")
    logins: dict[str, tuple[int, float]] = {}

    async def lan_logs_in() -> None:
        await asyncio.sleep(args.seconds / 2)
        logins["her own browser, the attacked address"] = await timed_login(own, "203.0.113.7")
        async with httpx.AsyncClient(base_url=url, timeout=60) as fresh:
            logins["a new browser, another address"] = await timed_login(fresh, "192.0.2.99")

    await asyncio.gather(
        attack(url, many, clients=args.clients, seconds=args.seconds, limit=args.max_attempts, spread=True),
        lan_logs_in(),
    )
    await own.aclose()

    spraying = Phase(f"{args.clients} clients, a new address and user name each time")
    await attack(
        url,
        spraying,
        clients=args.clients,
        seconds=args.seconds,
        limit=args.max_attempts,
        spread=True,
        spray=True,
    )

    base_median = statistics.median(baseline.healthz)
    base_p95 = percentile(baseline.healthz, 0.95)
    print(f"\n{'phase':52} {'n':>5} {'median':>9} {'p95':>9} {'x median':>9} {'x p95':>7}")
    for phase in (baseline, one, many, spraying):
        median, p95 = statistics.median(phase.healthz), percentile(phase.healthz, 0.95)
        print(
            f"{phase.name:52} {len(phase.healthz):5d} {median * 1000:7.1f}ms {p95 * 1000:7.1f}ms"
            f" {median / base_median:9.1f} {p95 / base_p95:7.1f}"
        )
    for phase in (one, many, spraying):
        total = sum(phase.answers.values())
        answers = ", ".join(f"{count} x {code}" for code, count in sorted(phase.answers.items()))
        throttled = phase.answers.get(429, 0)
        print(
            f"\n{phase.name}: {total} attempts in {phase.seconds:.1f} s ({answers}); "
            f"{throttled} of {total} got 429 ({throttled / max(total, 1):.0%})"
        )
    print("\nlan logs in with the right password during the many-address attack:")
    for where, (code, seconds) in logins.items():
        verdict = "logged in" if code == 303 else "REFUSED"
        print(f"  {where:40} HTTP {code} ({verdict}) in {seconds * 1000:.0f} ms")
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (the machine may be shared)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--max-attempts", type=int, default=5000, help="bad logins per phase at most")
    parser.add_argument("--database-url", help="default: a fresh SQLite database in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="attack-login-") as folder:
        database = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'hotline.db'}"
        env = hotline_env(database, secrets.token_urlsafe(48), {"HOTLINE_LOG_LEVEL": "WARNING"})
        for command, stdin in (
            (["db", "upgrade"], None),
            (["staff", "add", "lan", "--password-stdin"], PASSWORD),
        ):
            done = run_cli(command, env, stdin=f"{stdin}\n" if stdin else None)
            if done.returncode != 0:
                raise SystemExit(f"hotline {' '.join(command)} failed: {done.stderr[-2000:]}")
        server = start_server(env, Path(folder) / "server.log")
        try:
            asyncio.run(run(server, args))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
