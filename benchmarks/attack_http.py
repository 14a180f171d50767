"""The HTTP attacks of issue 15, re-run against the real service on loopback: slow clients and deep JSON.

    .venv/bin/python benchmarks/attack_http.py [--root DIR] [--only a,b,c] [--connections 1000]

It runs ``hotline serve`` (of this checkout, or of ``--root``: another checkout of the project, e.g. an
older commit, run with this virtualenv) in a subprocess on a fresh SQLite database in a temporary folder,
with the web chat and the Zalo Bot Platform webhook on, and nothing else. Bounded in count and time
(about two minutes), all to 127.0.0.1:

a. *slow headers*: ``--connections`` (1,000) connections each send a request line and then one header
   line every 5 s, never the blank line that ends them; for 40 s it counts how many of them the server
   has closed, while a normal ``GET /healthz`` is sent every second (its latency, and how many failed).
b. *open files*: the server started with its open-files limit at 1,024 (soft and hard, as under
   systemd's default without ``LimitNOFILE``, and so that it cannot raise it); 1,100 slow connections,
   then for 30 s a normal ``GET /healthz`` every 0.5 s with a 3 s timeout: how many failed.
c. *JSON depth*: bodies nested 10, 1,000, 30,000 and 100,000 levels POSTed to ``/api/webchat`` and to the Zalo
   webhook (with its secret): the status codes, and the lines the server wrote to its log for them.

It raises its own open-files limit (it holds the attack's connections). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/support has the server helpers; the script runs from benchmarks/

from tests.support.server import LiveServer, free_port  # noqa: E402

ZALO_SECRET = "attack-bench-zalo-secret"  # noqa: S105 (a test secret for a throwaway server)


@dataclass
class Server(LiveServer):
    port: int = 0

    def log_lines(self) -> int:
        return len(self.log.read_bytes().splitlines())


@contextlib.contextmanager
def serving(root: Path, folder: Path, name: str, *, open_files: int | None = None) -> Iterator[Server]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_ENV="test",
        HOTLINE_DATABASE_URL=f"sqlite+aiosqlite:///{folder / (name + '.db')}",
        HOTLINE_SECRET_KEY="attack-bench-secret-0123456789-abcdefghijkl",  # noqa: S106
        HOTLINE_MODEL_DIR=str(ROOT / "var" / "models"),
        HOTLINE_LOCK_DIR=str(folder),
        HOTLINE_ZALO_BOT_TOKEN="123:attack-bench",  # noqa: S106
        HOTLINE_ZALO_BOT_WEBHOOK_SECRET=ZALO_SECRET,
        HOTLINE_ZALO_BOT_API_URL="http://127.0.0.1:9",
        HOTLINE_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )

    def limit_files() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    log = folder / f"{name}.log"
    with log.open("ab") as handle:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
            cwd=root, env=env, stdout=handle, stderr=subprocess.STDOUT, preexec_fn=limit_files,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", process, log, port)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(log.read_text(errors="replace")[-2000:])
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.3)
        else:
            raise RuntimeError("the server did not start")
        yield server
    finally:
        server.stop()


class SlowClient:
    """One connection that sends a request line, then a header line every few seconds, never the end."""

    def __init__(self) -> None:
        self.closed_at: float | None = None
        self.opened = False

    async def run(self, port: int, started: float, until: float) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
        except (OSError, TimeoutError):
            self.closed_at = time.monotonic() - started
            return
        self.opened = True
        try:
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
            while time.monotonic() < until:
                try:
                    data = await asyncio.wait_for(reader.read(1024), 5)
                except TimeoutError:
                    writer.write(b"X-Slow: %d\r\n" % secrets.randbelow(10))
                    await writer.drain()
                    continue
                if not data:  # closed by the server
                    break
            else:
                return
        except OSError:
            pass
        self.closed_at = time.monotonic() - started
        writer.close()


async def probe(url: str, until: float, every: float, wait: float) -> tuple[list[float], int]:
    """GET /healthz every ``every`` s until ``until``: latencies of the answered ones, and the failures."""
    latencies: list[float] = []
    failures = 0
    async with httpx.AsyncClient(timeout=wait) as http:
        while time.monotonic() < until:
            began = time.monotonic()
            try:
                response = await http.get(f"{url}/healthz", headers={"Connection": "close"})
                if response.status_code == 200:
                    latencies.append(time.monotonic() - began)
                else:
                    failures += 1
            except httpx.HTTPError:
                failures += 1
            await asyncio.sleep(max(0.0, every - (time.monotonic() - began)))
    return latencies, failures


def describe(latencies: list[float], failures: int) -> str:
    if not latencies:
        return f"0 answered, {failures} failed"
    ms = sorted(x * 1000 for x in latencies)
    return (
        f"{len(ms)} answered, {failures} failed; latency median {statistics.median(ms):.1f} ms, "
        f"max {ms[-1]:.1f} ms"
    )


async def slow_headers(server: Server, connections: int, seconds: float) -> None:
    started = time.monotonic()
    until = started + seconds
    clients = [SlowClient() for _ in range(connections)]
    tasks = [asyncio.create_task(c.run(server.port, started, until)) for c in clients]
    await asyncio.sleep(1)  # let them connect
    latencies, failures = await probe(server.url, until, 1.0, 5.0)
    await asyncio.gather(*tasks)
    closed = [c.closed_at for c in clients if c.opened and c.closed_at is not None]
    opened = sum(c.opened for c in clients)
    when = f", the last after {max(closed):.1f} s" if closed else ""
    print(
        f"   {opened} of {connections} connected; closed by the server within {seconds:.0f} s: {len(closed)}{when}"
    )
    print(f"   GET /healthz meanwhile: {describe(latencies, failures)}")


async def open_files(server: Server, connections: int, seconds: float) -> None:
    started = time.monotonic()
    until = started + seconds + 2
    clients = [SlowClient() for _ in range(connections)]
    tasks = [asyncio.create_task(c.run(server.port, started, until)) for c in clients]
    await asyncio.sleep(2)
    latencies, failures = await probe(server.url, until, 0.5, 3.0)
    await asyncio.gather(*tasks)
    print(
        f"   {connections} slow connections, then {seconds:.0f} s of GET /healthz: {describe(latencies, failures)}"
    )


def json_depth(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for depth in (10, 1_000, 30_000, 100_000):  # 100,000 levels are 200 KB: over both bodies' limits
            body = b"[" * depth + b"]" * depth
            session = secrets.token_hex(16).encode()
            for name, path, content, headers in (
                ("web chat", "/api/webchat", b'{"session": "%s", "text": %s}' % (session, body), {}),
                ("Zalo webhook", "/zalo/webhook", b'{"event_name": "x", "message": %s}' % body,
                 {"X-Bot-Api-Secret-Token": ZALO_SECRET}),
            ):  # fmt: skip
                before = server.log_lines()
                response = http.post(
                    path, content=content, headers={"Content-Type": "application/json", **headers}
                )
                time.sleep(0.3)  # let the server write its log
                lines = server.log_lines() - before
                print(f"   depth {depth:>7,} to the {name:<12} -> {response.status_code}, {lines} log lines")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the checkout whose `hotline serve` is attacked"
    )
    parser.add_argument("--only", default="a,b,c", help="which attacks (a, b, c)")
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    root = args.root.resolve()
    head = subprocess.run(  # noqa: S603
        ["git", "-C", str(root), "log", "-1", "--format=%h %s"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    print(f"attacking `hotline serve` of {root} ({head.stdout.strip()[:70]})")
    with tempfile.TemporaryDirectory(prefix="hotline-attack-") as tmp:
        folder = Path(tmp)
        if "a" in args.only:
            print(f"a. {args.connections:,} slow-header connections, 40 s")
            with serving(root, folder, "a") as server:
                asyncio.run(slow_headers(server, args.connections, 40))
        if "b" in args.only:
            print("b. open files limited to 1,024: 1,100 slow connections, then normal requests")
            with serving(root, folder, "b", open_files=1024) as server:
                asyncio.run(open_files(server, 1100, 30))
        if "c" in args.only:
            print("c. nested JSON")
            with serving(root, folder, "c") as server:
                json_depth(server)


if __name__ == "__main__":
    main()
