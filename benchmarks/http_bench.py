"""Requests per second through the whole service, beside a bare ASGI echo measured in the same run.

    make bench-tools                                   # Debian's wrk, once
    .venv/bin/python benchmarks/http_bench.py [--duration 10] [--connections 32]
        [--postgres postgresql+asyncpg://127.0.0.1/postgres] [--only webchat,voice,key,telegram]
        [--workers 1,2]   (with --postgres: the service with 1, then 2 worker processes, in one run)
        [--configs web+phone,all] [--code /tmp/base-checkout] [--warm 3]

One run starts, each in its own process on a loopback port:
- a bare Starlette + uvicorn JSON echo (the ceiling for one Python process on this machine, measured now);
- the service (``hotline serve``) on a fresh SQLite file, or on a fresh PostgreSQL database with
  ``--postgres`` (created and dropped here), once per channel configuration of ``--configs``
  (:mod:`benchmarks.channel_configs`): ``web+phone`` (the web chat and the phone line) and ``all``
  (every channel: Telegram, the Zalo bot, Zalo OA and Messenger too, each talking to its fake on loopback,
  in threads of this process). ``--code DIR`` serves another checkout (e.g. a worktree of main, for a
  baseline: run both, in turns, and compare the ratios to the echo).

Once a service answers, a first message on each of the sessions the web chat target then uses and
``--warm`` seconds of web chat messages on them go first, unmeasured (as ``benchmarks/webchat_profile.py``
opens its sessions first): measured from the start, the web chat's p99 (394 to 672 ms, five to eight
times its p50) was mostly the start's work, not the steady state's: ``hotline serve`` warms up and freezes its heap a second after it listens
(:mod:`bot.web.heap`), and the 256 sessions' first messages, each about half as dear again as a
follow-up (a new conversation and contact), all came in the first second or two. After them, the p99
was about twice the p50 (250/128, 173/92, 554/227 ms on a shared, busy machine). ``--warm 0`` measures
from the start, new sessions included, as before.

wrk (one thread, ``--connections`` connections, ``--duration`` seconds per target) then drives: the echo;
``POST /api/webchat`` with a new text message each time (256 sessions in turn, opened by the warm-up, so
every message goes to an existing conversation); ``POST /ivr/voice``, a new incoming call each time,
signed as Twilio signs; ``POST /ivr/key``, a key press on the main menu of an answered call; and
``POST /telegram/webhook``, a new text update each time (where Telegram is on). For each it prints req/s, p50, p99, the ratio to
the echo, non-2xx answers, socket errors and the CPU time per request of the server (its workers
included; steadier than req/s when the machine is shared), of PostgreSQL's processes (``db``, with
``--postgres``) and of wrk itself; at the end, for each configuration, the server's RSS after the load and
its start-up time (process start to ``/healthz``), and the machine's CPUs and load. On N CPUs, W workers
can give at most N / (server + db + wrk) requests per CPU-second however many workers run: that bounds
what ``--workers 1,2`` can show on a small machine.

Bounded in count and time; nothing leaves the machine. No figure here is a pass/fail: this machine is
shared, so compare the ratio to the echo, not the absolute figures, between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.channel_configs import (  # noqa: E402
    AUTH_TOKEN,
    WEBHOOK_SECRET,
    channel_env,
    loopback_fakes,
    rss_mib,
    twilio_call,
)
from benchmarks.engine_bench import MESSAGES  # noqa: E402 (the same everyday messages)
from benchmarks.startup_bench import cpu_seconds  # noqa: E402
from tests.support.server import LiveServer, free_port, hotline_env, run_cli  # noqa: E402

ECHO = """
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

async def echo(request: Request) -> JSONResponse:
    return JSONResponse(await request.json())

app = Starlette(routes=[Route("/echo", echo, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning",
            access_log=False)
"""


@dataclass
class Result:
    target: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    cpu_ms: float = float("nan")  # the server's CPU time per request (steadier than req/s on a busy machine)
    db_cpu_ms: float = float("nan")  # PostgreSQL's processes' CPU time per request (with --postgres)
    wrk_cpu_ms: float = float("nan")  # the load generator's own CPU time per request


def _processes() -> dict[int, tuple[int, str]]:
    """Every process now: pid -> (parent pid, command name), from /proc (Linux; empty elsewhere)."""
    found: dict[int, tuple[int, str]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        found[int(stat.parent.name)] = (int(text.rsplit(")", 1)[1].split()[1]), name)
    return found


def server_cpu(pid: int, database: bool) -> tuple[float, float]:
    """CPU seconds used so far by ``pid`` and every process under it (a server's workers), and by the
    PostgreSQL server's processes (``database``; NaN otherwise)."""
    processes = _processes()
    tree, grew = {pid}, True
    while grew:
        more = {child for child, (parent, _) in processes.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    postgres = [p for p, (_, name) in processes.items() if name.startswith("postgres")]

    def total(pids: Iterable[int]) -> float:  # a process gone meanwhile counts nothing
        return sum(seconds for seconds in map(cpu_seconds, pids) if seconds == seconds)

    return total(tree), total(postgres) if database else float("nan")


# -- wrk ---------------------------------------------------------------------------------------------

LUA_FIXED = """
local reqs = {%s}
local formatted = {}
local i = 0
init = function(args)
  for n, r in ipairs(reqs) do formatted[n] = wrk.format("POST", r[1], r[2], r[3]) end
end
request = function()
  i = i %% #formatted + 1
  return formatted[i]
end
"""

LUA_WEBCHAT = """
local texts = {%s}
local sessions = {}
for n = 1, 256 do sessions[n] = string.format("bench%%012d%%s", n, "%s") end
local i = 0
request = function()
  i = i + 1
  local body = string.format('{"session":"%%s","id":"%s%%d","text":"%%s"}',
    sessions[i %% 256 + 1], i, texts[i %% #texts + 1])
  return wrk.format("POST", "/api/webchat", {["Content-Type"] = "application/json"}, body)
end
"""

LUA_TELEGRAM = """
local texts = {%s}
local i = 0
request = function()
  i = i + 1
  local chat = 700000000 + i %% 256
  local body = string.format(
    '{"update_id":%%d,"message":{"message_id":%%d,"date":1767580000,' ..
    '"chat":{"id":%%d,"type":"private","first_name":"Lan"},' ..
    '"from":{"id":%%d,"is_bot":false,"first_name":"Lan"},"text":"%%s"}}',
    %d + i, i, chat, chat, texts[i %% #texts + 1])
  return wrk.format("POST", "/telegram/webhook", {
    ["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = "%s"}, body)
end
"""

LUA_ECHO = """
request = function()
  return wrk.format("POST", "/echo", {["Content-Type"] = "application/json"},
    '{"session":"bench000000000001","id":"m1","text":"xet nghiem hiv o dau"}')
end
"""


def _lua_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid Lua string here


def _lua_fixed(requests: list[tuple[str, dict[str, str], str]]) -> str:
    rows = []
    for path, headers, body in requests:
        header_table = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
        rows.append(f"{{{_lua_string(path)}, {{{header_table}}}, {_lua_string(body)}}}")
    return LUA_FIXED % ",\n".join(rows)


def _texts() -> str:
    return ", ".join(_lua_string(t) for t in MESSAGES)


def _unit_ms(value: str) -> float:
    number = float(re.match(r"[\d.]+", value).group())  # type: ignore[union-attr]
    unit = value[len(re.match(r"[\d.]+", value).group()) :]  # type: ignore[union-attr]
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(
    target: str, url: str, script: str, connections: int, duration: int, pid: int, database: bool = False
) -> Result:
    cpu_before, db_before = server_cpu(pid, database)
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency"]
    output = subprocess.run(  # noqa: S603 (wrk, our arguments)
        [*command, "-s", handle.name, url], capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    cpu_after, db_after = server_cpu(pid, database)
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk is the only child ended meanwhile
    wrk_cpu = wrk_after.ru_utime + wrk_after.ru_stime - wrk_before.ru_utime - wrk_before.ru_stime
    Path(handle.name).unlink()
    latency = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)\s*$", output, re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"{target}: no latency figures from wrk:\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return Result(
        target=target,
        requests=requests,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50_ms=_unit_ms(latency["50"]),
        p99_ms=_unit_ms(latency["99"]),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        cpu_ms=(cpu_after - cpu_before) * 1000 / max(requests, 1),
        db_cpu_ms=(db_after - db_before) * 1000 / max(requests, 1),
        wrk_cpu_ms=wrk_cpu * 1000 / max(requests, 1),
    )


# -- servers -----------------------------------------------------------------------------------------


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 180) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"no answer from {url} in {timeout} s: {log.read_text(errors='replace')[-3000:]}")


@contextmanager
def echo_server(folder: Path) -> Iterator[LiveServer]:
    port = free_port()
    log = folder / "echo.log"
    process = subprocess.Popen(  # noqa: S603 (this Python, our arguments)
        [sys.executable, "-c", ECHO, str(port)], stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    try:
        started = time.monotonic()
        while time.monotonic() - started < 30:
            try:
                httpx.post(f"{server.url}/echo", json={}, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield server
    finally:
        server.stop()


@contextmanager
def database(folder: Path, postgres: str | None) -> Iterator[str]:
    if postgres is None:
        yield f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        return
    import asyncpg  # type: ignore[import-untyped]

    name = f"bench_{secrets.token_hex(4)}"
    plain = postgres.replace("postgresql+asyncpg://", "postgresql://")

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(plain)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Service:
    server: LiveServer
    startup_seconds: float


@contextmanager
def service(
    folder: Path, database_url: str, channels: dict[str, str], workers: int = 1, code: Path = ROOT
) -> Iterator[Service]:
    """``hotline serve`` of the checkout ``code`` with the ``channels`` settings, on a free port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = hotline_env(
        database_url,
        secrets.token_hex(32),
        {
            "HOTLINE_PUBLIC_URL": url,
            "HOTLINE_LOG_LEVEL": "WARNING",
            "HOTLINE_DISPATCHER_INTERVAL_SECONDS": "1",
            # one client (loopback) opens every session here: the per-address caps would refuse them
            "HOTLINE_FLOOD_SESSIONS_PER_MINUTE": "0",
            "HOTLINE_FLOOD_SESSIONS_PER_HOUR": "0",
            "PYTHONPATH": str(code),
            **channels,
        },
    )
    migrated = run_cli(["db", "upgrade"], env)
    if migrated.returncode != 0:
        raise RuntimeError(migrated.stderr)
    log = folder / "service.log"
    process = subprocess.Popen(  # noqa: S603 (this Python, our arguments)
        [
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            "--port",
            str(port),
            "--no-migrate",
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=code,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    server = LiveServer(url, process, log)
    try:
        started = wait_for(f"{url}/healthz", process, log)
        wait_for(f"{url}/readyz", process, log)  # Telegram is built after the server listens
        yield Service(server, started)
    finally:
        server.stop()


def open_sessions(url: str, tag: str) -> None:
    """A first message on each of the web chat script's 256 sessions (tagged ``tag``), one at a time."""
    with httpx.Client(timeout=10) as client:
        for n in range(1, 257):
            body = {"session": f"bench{n:012d}{tag}", "id": "open", "text": MESSAGES[n % len(MESSAGES)]}
            client.post(f"{url}/api/webchat", json=body).raise_for_status()


# -- the phone line's requests, signed as Twilio signs them -------------------------------------------


def _signed(url: str, path: str, params: dict[str, str]) -> tuple[str, dict[str, str], str]:
    from urllib.parse import urlencode

    from twilio.request_validator import RequestValidator

    signature = RequestValidator(AUTH_TOKEN).compute_signature(url + path, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return path, headers, urlencode(params)


def voice_requests(url: str, count: int) -> list[tuple[str, dict[str, str], str]]:
    first = secrets.randbelow(1 << 40) << 20  # new calls in every run, even on the same database
    return [_signed(url, "/ivr/voice", twilio_call(first + n)) for n in range(count)]


def key_requests(url: str, calls: int) -> list[tuple[str, dict[str, str], str]]:
    """Answer ``calls`` calls now, then one key press on each one's main menu, signed for its action URL."""
    requests = []
    first = secrets.randbelow(1 << 40) << 20
    with httpx.Client(timeout=10) as client:
        for n in range(calls):
            path, headers, body = _signed(url, "/ivr/voice", twilio_call(first + n))
            answer = client.post(url + path, headers=headers, content=body)
            action = re.search(r'<Gather[^>]*action="([^"]+)"', answer.text)
            if action is None:
                raise RuntimeError(f"no <Gather> in the greeting: {answer.status_code} {answer.text[:300]}")
            key_path = html.unescape(action.group(1)).removeprefix(url)
            params = twilio_call(first + n) | {"CallStatus": "in-progress", "Digits": "1"}
            requests.append(_signed(url, key_path, params))
    return requests


# -- the run -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server's URL (a database is made)")
    parser.add_argument("--only", default="webchat,voice,key,telegram")
    parser.add_argument(
        "--workers", default="1", help="worker counts to measure in turn, e.g. 1,2 (PostgreSQL)"
    )
    parser.add_argument("--configs", default="web+phone,all", help="channel configurations to serve in turn")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to serve (default: this)")
    parser.add_argument(
        "--warm", type=int, default=3, help="seconds of unmeasured web chat load before the targets (0: none)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench-tools` (Debian's wrk)")
    targets = args.only.split(",")
    counts = [int(n) for n in args.workers.split(",")]
    runs = [(config, workers) for config in args.configs.split(",") for workers in counts]
    results: list[Result] = []
    footprint: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, loopback_fakes() as fakes:
        folder = Path(tmp)
        with echo_server(folder) as echo:
            results.append(
                run_wrk("echo", echo.url, LUA_ECHO, args.connections, args.duration, echo.process.pid)
            )
        for config, workers in runs:
            label = f"/w{workers}" if len(counts) > 1 else ""
            label += f"/{config}" if len(runs) > len(counts) else ""
            channels = channel_env(config, fakes)
            with (
                database(folder, args.postgres) as url,
                service(folder, url, channels, workers, args.code.resolve()) as running,
            ):
                base = running.server.url
                sessions = secrets.token_hex(4)
                scripts = {
                    "webchat": LUA_WEBCHAT % (_texts(), sessions, "m"),
                    "telegram": LUA_TELEGRAM % (_texts(), secrets.randbelow(1 << 30), WEBHOOK_SECRET),
                }
                # The CPU per request is the server process's and its workers'.
                pid = running.server.process.pid
                if args.warm > 0:  # the measured sessions' first messages, then load (other message ids)
                    open_sessions(base, sessions)
                    warm_script = LUA_WEBCHAT % (_texts(), sessions, "w")
                    run_wrk("warm-up", base, warm_script, args.connections, args.warm, pid)
                for target in targets:
                    if target == "telegram" and "HOTLINE_TELEGRAM_TOKEN" not in channels:
                        continue
                    if target == "voice":
                        script = _lua_fixed(voice_requests(base, 20_000))
                    elif target == "key":
                        script = _lua_fixed(key_requests(base, 200))
                    else:
                        script = scripts[target]
                    results.append(
                        run_wrk(
                            target + label,
                            base,
                            script,
                            args.connections,
                            args.duration,
                            pid,
                            database=args.postgres is not None,
                        )
                    )
                footprint.append(
                    f"service{label} ({config}) RSS after the load: "
                    f"{rss_mib(running.server.process.pid):.0f} MiB; "
                    f"start-up to /healthz: {running.startup_seconds:.2f} s"
                )
    ceiling = results[0].rps
    print(f"code: {args.code.resolve()}; database: {'PostgreSQL' if args.postgres else 'SQLite'}; "
          f"{args.connections} connections, "
          f"{args.duration} s per target, one wrk thread, after {args.warm} s of web chat load; "
          f"echo measured in the same run")  # fmt: skip
    print(f"{'target':<20} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>9} {'of echo':>8} "
          f"{'non-2xx':>8} {'errors':>7} {'cpu ms/req':>10} {'db ms/req':>9} {'wrk ms/req':>10}")  # fmt: skip
    for r in results:
        print(f"{r.target:<20} {r.requests:>9} {r.rps:>9.0f} {r.p50_ms:>8.1f} {r.p99_ms:>9.1f} "
              f"{r.rps / ceiling:>8.1%} {r.non_2xx:>8} {r.socket_errors:>7} {r.cpu_ms:>10.3f} "
              f"{r.db_cpu_ms:>9.3f} {r.wrk_cpu_ms:>10.3f}")  # fmt: skip
    for line in footprint:
        print(line)
    load = os.getloadavg()
    print(f"this machine: {os.cpu_count()} CPUs; load average at the end {load[0]:.1f} (1 min), "
          f"{load[1]:.1f} (5 min)")  # fmt: skip


if __name__ == "__main__":
    main()
