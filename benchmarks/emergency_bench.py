"""How fast an emergency reaches people under a flood, a background load and a crash (issue 13, item 5).

    .venv/bin/python benchmarks/emergency_bench.py [--trials 20] [--flood 60] [--database-url URL] [--quick]

It runs the real service, ``hotline serve`` in a subprocess (``hotline db upgrade``, ``hotline train``
and ``hotline rota import`` first), on a fresh SQLite database in a temporary folder, or on a fresh
PostgreSQL database created on the server ``--database-url`` names (and dropped afterwards). Every channel
is on, against the fakes of ``tests/fakes`` on loopback: Telegram (webhook, staff group, a counsellor on
the rota with a Telegram chat), Zalo (Bot Platform and OA) and Twilio (voice, SMS pages). Settings are the
defaults (flood caps included) but for the addresses of the fakes.

What it does, all to 127.0.0.1, bounded in count and time (it ends by itself within about 5 minutes):

1. *start-up*: process spawn to the first web chat answer, with the model file present;
2. *baseline*: the trials below, sent the same way, with no flood and no load; then a pause (``--pause``,
   a minute), since pages to one recipient are combined above K a minute and the next phase should not
   be measured against this one's pages (the same pause comes before the kill);
3. *under flood and load*: a background load of web chat questions (a few a second, from several
   addresses) for the rest of the run; a flood of ``--flood`` emergencies from one web chat client (one
   address, a new session each time, as a script would) in about 1.5 s; then ``--trials`` real
   emergencies from other people, alternating Telegram (a signed webhook update) and web chat (each from
   its own address, by ``X-Forwarded-For``: the app trusts loopback as its proxy by default);
4. *kill -9*: an emergency by Telegram whose staff-group page the fake Bot API holds open; the server is
   killed while that page is in flight and started again (same database, same instance identity), and
   the time from the kill to the page delivered is measured; and the start-up of that restart.

Per trial it measures the *safety reply* (web chat: the HTTP response; Telegram: until the fake Bot API
receives the ``sendMessage`` to that person's chat) and the *first page* (until the fake Bot API receives
a page for that emergency in the staff group or the on-call counsellor's chat; a combined page, "N new
emergencies", counts for every emergency sent before it arrived). A trial not answered within the wait
counts as that wait (shown with ``>``). Prints p50, p99 and max beside the issue's targets, and the load
average, since the machine may be shared. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the fakes live in tests/fakes; the script runs from benchmarks/

from startup_bench import cpu_seconds, free_port  # noqa: E402 (its neighbour in benchmarks/)

from tests.fakes.telegram_api import Call, FakeTelegram  # noqa: E402
from tests.fakes.twilio_api import FakeTwilio  # noqa: E402
from tests.fakes.zalo_api import FakeZalo  # noqa: E402

EMERGENCY = "cuu em voi, no dang danh em"  # violence now: the safety reply names 113
QUESTIONS = [
    "xet nghiem hiv o dau",
    "PrEP là gì",
    "bcs bi rach phai lam sao",
    "ban dam bi phat bao nhieu",
    "thuoc lac co nguy hiem ko",
    "e bi cong an bat thi sao",
]
WEBHOOK_SECRET = secrets.token_urlsafe(24)  # Telegram signs its webhook calls with it
STAFF_CHAT = -1001234567890
COUNSELLOR_CHAT = 777000001
ROTA = f"""
counsellors:
  - {{name: Lan, telegram: {COUNSELLOR_CHAT}, phone: "+84900000001"}}
weekly:
  - {{days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00", chain: [Lan]}}
"""
PAGE = re.compile(r"^(?:🚨|🔔) #(\d+): ")
COMBINED = re.compile(r"^🚨 \d+ ")
FLOOD_ANSWERS = {-1: "an answer WITHOUT the emergency numbers", 0: "no answer"}
TARGETS = {"safety": 1.0, "page": 2.0, "kill": 10.0, "startup": 3.0}


# ---------------------------------------------------------------------------------------------- the fake


@dataclass
class Delivery:
    """A ``sendMessage`` the fake Bot API answered: when it arrived, where to, what it said."""

    at: float
    chat: str
    text: str


class TimedTelegram(FakeTelegram):
    """The tests' fake Bot API, noting when each message arrived; it can hold some messages open.

    A held message (``hold(chat, text)`` is true) is answered 502 once released (or never, if the server
    dies first) and is not a delivery: it stands for a page still in flight when the server is killed.
    """

    def __init__(self) -> None:
        super().__init__(max_poll_wait=0.2)
        self.deliveries: list[Delivery] = []
        self.hold: Callable[[str, str], bool] | None = None
        self.held: list[Delivery] = []
        # threading events: the fake answers on its own loop in its own thread (tests/fakes/base.py)
        self.holding = threading.Event()
        self.release = threading.Event()

    async def _m_sendMessage(self, call: Call) -> Any:
        arrived = time.monotonic()
        chat, text = str(call.chat_id), str(call.params.get("text", ""))
        if self.hold is not None and self.hold(chat, text):
            self.held.append(Delivery(arrived, chat, text))
            self.holding.set()
            await asyncio.to_thread(self.release.wait, 60)
            raise web.HTTPBadGateway()
        self.deliveries.append(Delivery(arrived, chat, text))
        return await super()._m_sendMessage(call)

    def pages(self, since: float) -> Iterator[tuple[Delivery, int | None]]:
        """Pages to the staff group or the counsellor since ``since``: (delivery, escalation id or None
        for a combined page)."""
        for delivery in self.deliveries:
            if delivery.at < since or delivery.chat not in (str(STAFF_CHAT), str(COUNSELLOR_CHAT)):
                continue
            if match := PAGE.match(delivery.text):
                yield delivery, int(match.group(1))
            elif COMBINED.match(delivery.text):
                yield delivery, None

    def first_to(self, chat: str, since: float) -> Delivery | None:
        return next((d for d in self.deliveries if d.chat == chat and d.at >= since), None)


# ---------------------------------------------------------------------------------------------- the server


@dataclass
class Server:
    """``hotline serve`` in a subprocess, on one port for its whole life (restarts included)."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> float:
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "bot.cli", "serve", "--no-migrate", "--port", str(self.port)],
                env=self.env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
            )  # fmt: skip
        return time.monotonic()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def exited(self) -> bool:
        return self.process is None or self.process.poll() is not None


async def hotline(args: list[str], env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    finally:
        if process.returncode is None:  # timed out or cancelled: leave nothing running
            process.kill()
            await process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"hotline {' '.join(args)} failed:\n{out.decode(errors='replace')[-3000:]}")


def webchat_body(session: str, text: str) -> dict[str, str]:
    return {"session": session, "text": text}


async def first_answer(
    client: httpx.AsyncClient, server: Server, spawned: float, limit: float
) -> tuple[float, float]:
    """Seconds from ``spawned`` to the first answered web chat question (each try a new person), and the
    server's CPU seconds by then (on a busy machine the wall time grows; the CPU time does not)."""
    for n in itertools.count():
        if time.monotonic() - spawned > limit:
            raise RuntimeError(f"no web chat answer {limit:.0f} s after the start; see {server.log}")
        if server.exited():
            raise RuntimeError(f"the server exited: {server.log.read_text(errors='replace')[-3000:]}")
        try:
            response = await client.post(
                f"{server.url}/api/webchat",
                json=webchat_body(secrets.token_hex(16), QUESTIONS[0]),
                headers={"X-Forwarded-For": f"10.9.{n // 250 % 250}.{n % 250 + 1}"},
                timeout=5,
            )
            if response.status_code == 200 and response.json()["replies"]:
                assert server.process is not None
                return time.monotonic() - spawned, cpu_seconds(server.process.pid)
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------- trials


@dataclass
class Trial:
    """One real person's emergency, by Telegram (a chat id) or web chat (a session)."""

    channel: str
    user: str
    address: str = ""
    sent: float = 0.0
    safety: float | None = None  # seconds
    safety_ok: bool = False
    escalation: int | None = None
    page: float | None = None
    combined: bool = False
    error: str | None = None


class People:
    """Fresh people: Telegram chat ids and web chat addresses, never reused within a run."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def trial(self, channel: str) -> Trial:
        n = next(self._ids)
        if channel == "telegram":
            return Trial("telegram", str(880_000_000 + n))
        return Trial("webchat", secrets.token_hex(16), address=f"10.2.{n // 250 % 250}.{n % 250 + 1}")


async def send(client: httpx.AsyncClient, url: str, telegram: TimedTelegram, trial: Trial) -> None:
    """Send the emergency; for web chat the safety reply is the response itself."""
    trial.sent = time.monotonic()
    try:
        if trial.channel == "telegram":
            update = telegram.text_update(int(trial.user), EMERGENCY)
            response = await client.post(
                f"{url}/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            )
            if response.status_code != 200:
                trial.error = f"webhook answered {response.status_code}"
            return
        response = await client.post(
            f"{url}/api/webchat",
            json=webchat_body(trial.user, EMERGENCY),
            headers={"X-Forwarded-For": trial.address},
        )
        trial.safety = time.monotonic() - trial.sent
        replies = " ".join(r.get("text", "") for r in response.json().get("replies", []))
        trial.safety_ok = response.status_code == 200 and "113" in replies
        if response.status_code != 200:
            trial.error = f"web chat answered {response.status_code}"
    except httpx.HTTPError as exc:
        trial.error = type(exc).__name__


class Escalations:
    """Which escalation each trial opened, read from the database (by the person's keyed hash)."""

    def __init__(self, database_url: str, secret: str) -> None:
        from bot.store.crypto import Crypto
        from bot.store.db import make_engine

        self.crypto = Crypto(secret.encode())
        self.engine = make_engine(database_url)

    async def find(self, trials: Sequence[Trial]) -> None:
        from sqlalchemy import select

        from bot.store.models import Conversation, Escalation

        wanted = {(t.channel, self.crypto.user_key(t.channel, t.user)): t for t in trials if not t.escalation}
        if not wanted:
            return
        query = (
            select(Conversation.channel, Conversation.user_key, Escalation.id)
            .join(Escalation, Escalation.conversation_id == Conversation.id)
            .where(Conversation.user_key.in_([key for _, key in wanted]))
        )
        async with self.engine.connect() as connection:
            for channel, user_key, escalation_id in (await connection.execute(query)).all():
                trial = wanted.get((channel, user_key))
                if trial is not None and (trial.escalation is None or escalation_id < trial.escalation):
                    trial.escalation = escalation_id

    async def newest(self) -> int:
        """The id of the newest escalation so far (0 if none)."""
        from sqlalchemy import func, select

        from bot.store.models import Escalation

        async with self.engine.connect() as connection:
            return int((await connection.scalar(select(func.max(Escalation.id)))) or 0)

    async def close(self) -> None:
        await self.engine.dispose()


def settle(trial: Trial, telegram: TimedTelegram) -> bool:
    """Fill in what the fake has seen for this trial; whether nothing more is awaited."""
    if trial.error:
        return True
    if trial.channel == "telegram" and trial.safety is None:
        reply = telegram.first_to(trial.user, trial.sent)
        if reply is not None:
            trial.safety = reply.at - trial.sent
            trial.safety_ok = "113" in reply.text
    if trial.page is None and trial.escalation is not None:
        for delivery, escalation_id in telegram.pages(trial.sent):
            if escalation_id == trial.escalation or escalation_id is None:
                trial.page = delivery.at - trial.sent
                trial.combined = escalation_id is None
                break
    return trial.safety is not None and trial.page is not None


async def wait_for(
    trials: Sequence[Trial], telegram: TimedTelegram, escalations: Escalations, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await escalations.find([t for t in trials if t.sent and not t.error])
        if all(settle(t, telegram) for t in trials):
            return
        await asyncio.sleep(0.1)


async def run_trials(
    client: httpx.AsyncClient,
    url: str,
    telegram: TimedTelegram,
    escalations: Escalations,
    people: People,
    *,
    count: int,
    gap: float,
    wait: float,
) -> list[Trial]:
    """``count`` emergencies, alternating Telegram and web chat, ``gap`` seconds apart; then wait (at most
    ``wait`` seconds) for every safety reply and first page."""
    trials = [people.trial("telegram" if i % 2 == 0 else "webchat") for i in range(count)]
    tasks = []
    for trial in trials:
        tasks.append(asyncio.create_task(send(client, url, telegram, trial)))
        await asyncio.sleep(gap)
    await asyncio.gather(*tasks)
    await wait_for(trials, telegram, escalations, wait)
    return trials


# ---------------------------------------------------------------------------------------------- load, flood


@dataclass
class Load:
    """Web chat questions from ``people`` addresses (one session each), ``rate`` a second, open loop."""

    client: httpx.AsyncClient
    url: str
    rate: float
    people: int = 8
    max_in_flight: int = 16
    latencies: list[float] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)  # when a question failed or was refused
    skipped: int = 0

    async def run(self) -> None:
        sessions = [(secrets.token_hex(16), f"10.1.0.{i + 1}") for i in range(self.people)]
        in_flight: set[asyncio.Task[None]] = set()
        for n in itertools.count():
            session, address = sessions[n % len(sessions)]
            if len(in_flight) >= self.max_in_flight:
                self.skipped += 1
            else:
                task = asyncio.create_task(self._ask(session, address, QUESTIONS[n % len(QUESTIONS)]))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            await asyncio.sleep(1 / self.rate)

    async def _ask(self, session: str, address: str, text: str) -> None:
        started = time.monotonic()
        try:
            response = await self.client.post(
                f"{self.url}/api/webchat",
                json=webchat_body(session, text),
                headers={"X-Forwarded-For": address},
            )
            if response.status_code == 200:
                self.latencies.append(time.monotonic() - started)
            else:
                self.errors.append(started)
        except httpx.HTTPError:
            self.errors.append(started)


async def flood(client: httpx.AsyncClient, url: str, count: int, seconds: float) -> dict[int, int]:
    """``count`` emergencies from one address, a new session each, spread over ``seconds``: how many got
    each status (-1: an answer without the emergency numbers, 0: no answer)."""
    statuses: dict[int, int] = {}

    async def one() -> None:
        status = 0
        try:
            response = await client.post(
                f"{url}/api/webchat",
                json=webchat_body(secrets.token_hex(16), EMERGENCY),
                headers={"X-Forwarded-For": "10.66.6.6"},
            )
            replies = " ".join(r.get("text", "") for r in response.json().get("replies", []))
            status = response.status_code if "113" in replies else -1  # a capped client gets them too
        except (httpx.HTTPError, ValueError):
            pass
        statuses[status] = statuses.get(status, 0) + 1

    tasks = []
    for _ in range(count):
        tasks.append(asyncio.create_task(one()))
        await asyncio.sleep(seconds / max(count, 1))
    await asyncio.gather(*tasks)
    return statuses


# ---------------------------------------------------------------------------------------------- kill -9


@dataclass
class KillResult:
    held: bool = False
    kill_to_page: float | None = None
    restart_to_answer: tuple[float, float] | None = None
    killed: float = 0.0
    waited: float = 0.0
    combined: bool = False


async def kill_restart(
    client: httpx.AsyncClient,
    server: Server,
    telegram: TimedTelegram,
    escalations: Escalations,
    people: People,
    wait: float,
) -> KillResult:
    """An emergency whose staff-group page is in flight when the server is killed; then a restart."""
    result = KillResult(waited=wait)
    trial = people.trial("telegram")
    newest = await escalations.newest()

    def page_of_this_emergency(chat: str, text: str) -> bool:
        """The staff group's page for an escalation opened from now on (or a combined page)."""
        if chat != str(STAFF_CHAT):
            return False
        match = PAGE.match(text)
        return bool(COMBINED.match(text)) or (match is not None and int(match.group(1)) > newest)

    telegram.holding.clear()
    telegram.release.clear()
    telegram.hold = page_of_this_emergency
    await send(client, server.url, telegram, trial)
    try:
        if not await asyncio.to_thread(telegram.holding.wait, wait):
            return result  # the page never left: nothing to kill in the middle of
    finally:
        telegram.hold = None
    held = telegram.held[-1]
    match = PAGE.match(held.text)
    escalation = int(match.group(1)) if match else None
    server.kill()
    killed = result.killed = time.monotonic()
    telegram.release.set()
    result.held = True
    spawned = server.spawn()
    with contextlib.suppress(RuntimeError):
        result.restart_to_answer = await first_answer(client, server, spawned, limit=wait)
    while time.monotonic() - killed < wait:
        for delivery, escalation_id in telegram.pages(killed):
            if delivery.chat == str(STAFF_CHAT) and escalation_id in (escalation, None):
                result.kill_to_page = delivery.at - killed
                result.combined = escalation_id is None
                return result
        await asyncio.sleep(0.05)
    return result


# ---------------------------------------------------------------------------------------------- report


def quantile(values: Sequence[float], q: float) -> float:
    """The nearest-rank quantile (p99 of 20 values is the largest: no interpolation flatters it)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def figures(trials: Sequence[Trial], what: str, wait: float) -> tuple[str, float | None]:
    values = [getattr(t, what) for t in trials]
    missing = sum(v is None for v in values)
    measured = [wait if v is None else float(v) for v in values]
    if not measured:
        return "-", None
    mark = ">" if missing else ""
    p99 = quantile(measured, 0.99)
    text = (
        f"p50 {quantile(measured, 0.5):6.2f}  p99 {mark}{p99:6.2f}  max {mark}{max(measured):6.2f}  "
        f"n={len(measured)}" + (f" ({missing} not within {wait:.0f} s)" if missing else "")
    )
    return text, p99


def code_version() -> str:
    """The commit measured (and whether the work tree differs from it), for the record."""
    try:
        head = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"],  # noqa: S607
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return head[:100] + (" (with uncommitted changes)" if dirty else "")


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value <= target else "MISSED"


def report(
    *,
    startup: tuple[float, float],
    baseline: Sequence[Trial],
    loaded: Sequence[Trial],
    kill: KillResult | None,
    load: Load,
    statuses: dict[int, int],
    args: argparse.Namespace,
    database: str,
    wait: float,
    loads: list[tuple[float, float, float]],
) -> None:
    if args.verbose:
        print()
        for name, trials in (("baseline", baseline), ("flood+load", loaded)):
            for t in trials:
                print(
                    f"{name:<10} {t.channel:<8} escalation #{t.escalation}  "
                    f"safety {'-' if t.safety is None else f'{t.safety:.2f}'}"
                    f"{'' if t.safety_ok else ' (no 113)'}  "
                    f"page {'-' if t.page is None else f'{t.page:.2f}'}{' combined' if t.combined else ''}"
                    f"{f'  error: {t.error}' if t.error else ''}"
                )
    print()
    print(f"code: {code_version()}")
    print(f"database: {database}; trials: {len(loaded)} under flood and load, {len(baseline)} baseline")
    print(
        f"flood: {args.flood} emergencies from one address in {args.flood_seconds:.1f} s -> "
        + ", ".join(
            f"{n}x {FLOOD_ANSWERS.get(s, f'HTTP {s} with the emergency numbers')}"
            for s, n in sorted(statuses.items())
        )
    )
    if load.latencies:
        down = sum(kill is not None and kill.held and at >= kill.killed for at in load.errors)
        print(
            f"background load: {len(load.latencies)} questions answered "
            f"(p50 {quantile(load.latencies, 0.5):.2f} s, p99 {quantile(load.latencies, 0.99):.2f} s), "
            f"{len(load.errors) - down} failed or refused while the server was up "
            f"({down} more after the kill), {load.skipped} not sent ({load.max_in_flight} already waiting)"
        )
    for name, trials in (("baseline", baseline), ("flood+load", loaded)):
        failed = [t for t in trials if t.error or (t.safety is not None and not t.safety_ok)]
        combined = sum(t.combined for t in trials)
        if failed or combined:
            print(
                f"{name}: {len(failed)} trials without a proper safety reply"
                + (f" ({', '.join(sorted({t.error or 'no 113 in it' for t in failed}))})" if failed else "")
                + f"; {combined} of {len(trials)} first pages were combined pages ('N new emergencies')"
            )
    print()
    rows: list[tuple[str, str, str, str]] = []
    for label, what, target in (("safety reply", "safety", "safety"), ("first page", "page", "page")):
        for name, trials in (("baseline", baseline), ("flood+load", loaded)):
            for channel in ("telegram", "webchat", None):
                subset = [t for t in trials if channel is None or t.channel == channel]
                text, p99 = figures(subset, what, wait)
                check = verdict(p99, TARGETS[target]) if name == "flood+load" and channel is None else ""
                rows.append(
                    (f"{label}, {name}, {channel or 'all'}", text, f"p99 <= {TARGETS[target]:.0f} s", check)
                )
    rows.append(
        (
            "start-up (spawn -> first web chat answer)",
            f"{startup[0]:6.2f} s (server CPU {startup[1]:.2f} s)",
            "<= 3 s",
            verdict(startup[0], TARGETS["startup"]),
        )
    )
    if kill is not None:
        if not kill.held:
            rows.append(("kill -9 -> page delivered", "no page was in flight to kill", "<= 10 s", ""))
        else:
            value = kill.kill_to_page
            shown = f"{value:6.2f} s" if value is not None else f"> {kill.waited:.0f} s (not delivered)"
            if kill.combined:
                shown += " (a combined page)"
            rows.append(
                ("kill -9 -> page delivered", shown, "<= 10 s", verdict(value or math.inf, TARGETS["kill"]))
            )
            restart = kill.restart_to_answer
            rows.append(
                (
                    "restart (spawn -> first answer, under load)",
                    f"{restart[0]:6.2f} s (server CPU {restart[1]:.2f} s)" if restart else "no answer",
                    "",
                    "",
                )
            )
    width = max(len(r[0]) for r in rows)
    print(f"{'measure (seconds)':<{width}}  {'figures':<62}  {'target':<12}  verdict")
    for name, text, target_text, check in rows:
        print(f"{name:<{width}}  {text:<62}  {target_text:<12}  {check}")
    print()
    print(
        "load average (1, 5, 15 min) at start, before the trials and at the end: "
        + "; ".join(f"{a:.2f} {b:.2f} {c:.2f}" for a, b, c in loads)
        + f" on {os.cpu_count()} cores"
    )


# ---------------------------------------------------------------------------------------------- the run


@contextlib.asynccontextmanager
async def database(admin_url: str | None, folder: Path) -> AsyncIterator[str]:
    """A fresh database: SQLite in ``folder``, or a new PostgreSQL database on ``admin_url``'s server."""
    if admin_url is None:
        yield f"sqlite+aiosqlite:///{folder / 'hotline.db'}"
        return
    import asyncpg  # type: ignore[import-untyped]

    name = f"emergency_bench_{secrets.token_hex(4)}"
    plain = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(plain)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        connection = await asyncpg.connect(plain)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def environment(url: str, secret: str, folder: Path, fakes: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_ENV="test",
        HOTLINE_DATABASE_URL=url,
        HOTLINE_SECRET_KEY=secret,
        HOTLINE_LOG_LEVEL="INFO",
        # the same identity across the restart (the lanes branch takes back its own leases by it)
        HOTLINE_INSTANCE_ID="emergency-bench",
        HOTLINE_LOCK_DIR=str(folder),
        HOTLINE_TELEGRAM_TOKEN=fakes["telegram_token"],
        HOTLINE_TELEGRAM_API_URL=fakes["telegram"],
        HOTLINE_TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        HOTLINE_TELEGRAM_STAFF_CHAT_ID=str(STAFF_CHAT),
        HOTLINE_ZALO_BOT_TOKEN=fakes["zalo_bot_token"],
        HOTLINE_ZALO_BOT_WEBHOOK_SECRET=secrets.token_urlsafe(24),
        HOTLINE_ZALO_BOT_API_URL=fakes["zalo"],
        HOTLINE_ZALO_OA_APP_ID=fakes["zalo_app_id"],
        HOTLINE_ZALO_OA_SECRET_KEY=secrets.token_urlsafe(24),
        HOTLINE_ZALO_OA_APP_SECRET=fakes["zalo_app_secret"],
        HOTLINE_ZALO_OA_ACCESS_TOKEN=fakes["zalo_access"],
        HOTLINE_ZALO_OA_REFRESH_TOKEN=fakes["zalo_refresh"],
        HOTLINE_ZALO_OA_API_URL=fakes["zalo"],
        HOTLINE_ZALO_OA_OAUTH_URL=fakes["zalo"],
        HOTLINE_TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        HOTLINE_TWILIO_AUTH_TOKEN=secrets.token_urlsafe(24),
        HOTLINE_TWILIO_CALLER_ID="+15550000000",
        HOTLINE_TWILIO_API_URL=fakes["twilio"],
        HOTLINE_ONCALL_NUMBERS="+84900000001",
        PYTHONUNBUFFERED="1",
    )
    return env


async def pause(seconds: float, since: float) -> None:
    """Wait until ``seconds`` after ``since``. Pages to one recipient are combined above K a minute (from
    the lanes branch on): a pause of a minute lets the earlier trials' pages out of that minute, so that
    the next phase is not measured against the previous one's pages."""
    await asyncio.sleep(max(0.0, seconds - (time.monotonic() - since)))


async def bench(args: argparse.Namespace) -> None:
    loads = [os.getloadavg()]
    wait = args.wait
    twilio = FakeTwilio().start()
    zalo = FakeZalo().start()
    telegram = TimedTelegram().start()
    server: Server | None = None
    load_task: asyncio.Task[None] | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="emergency-bench-") as tmp:
            folder = Path(tmp)
            async with database(args.database_url, folder) as url:
                secret = secrets.token_urlsafe(48)
                fakes = {
                    "telegram": telegram.url,
                    "telegram_token": telegram.token,
                    "zalo": zalo.url,
                    "zalo_bot_token": zalo.bot_token,
                    "zalo_app_id": zalo.app_id,
                    "zalo_app_secret": zalo.app_secret,
                    "zalo_access": next(iter(zalo.valid_access)),
                    "zalo_refresh": next(iter(zalo.refresh_tokens)),
                    "twilio": twilio.url,
                }
                env = environment(url, secret, folder, fakes)
                env.update(dict(item.split("=", 1) for item in args.env))
                (folder / "rota.yaml").write_text(ROTA)
                print("preparing: hotline db upgrade, hotline train, hotline rota import ...", flush=True)
                await hotline(["db", "upgrade"], env)
                await hotline(["train"], env)
                await hotline(["rota", "import", str(folder / "rota.yaml")], env)
                server = Server({**env}, folder / "server.log")
                server.env["HOTLINE_PUBLIC_URL"] = server.url
                escalations = Escalations(url, secret)
                limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
                async with httpx.AsyncClient(timeout=httpx.Timeout(wait), limits=limits) as client:
                    spawned = server.spawn()
                    startup = await first_answer(client, server, spawned, limit=120)
                    print(f"start-up: {startup[0]:.2f} s", flush=True)
                    people = People()
                    baseline = await run_trials(
                        client, server.url, telegram, escalations, people,
                        count=args.baseline, gap=args.gap, wait=wait,
                    )  # fmt: skip
                    print(f"baseline: {len(baseline)} trials done", flush=True)
                    await pause(args.pause, baseline[-1].sent)
                    load = Load(client, server.url, rate=args.load_rate)
                    load_task = asyncio.create_task(load.run())
                    await asyncio.sleep(2.0)  # the load is under way before the flood
                    loads.append(os.getloadavg())
                    statuses = await flood(client, server.url, args.flood, args.flood_seconds)
                    print(f"flood: {statuses}", flush=True)
                    loaded = await run_trials(
                        client, server.url, telegram, escalations, people,
                        count=args.trials, gap=args.gap, wait=wait,
                    )  # fmt: skip
                    print(f"under flood and load: {len(loaded)} trials done", flush=True)
                    kill = None
                    if not args.no_kill:
                        await pause(args.pause, loaded[-1].sent)
                        kill = await kill_restart(
                            client, server, telegram, escalations, people, args.kill_wait
                        )
                        print("kill -9 trial done", flush=True)
                    load_task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await load_task
                    loads.append(os.getloadavg())
                    await escalations.close()
                    report(
                        startup=startup, baseline=baseline, loaded=loaded, kill=kill, load=load,
                        statuses=statuses, args=args, database=url.split(":", 1)[0], wait=wait, loads=loads,
                    )  # fmt: skip
                    server.stop()
                    if args.keep_log:
                        args.keep_log.write_bytes(server.log.read_bytes())
    finally:
        if load_task is not None:
            load_task.cancel()
        if server is not None:
            server.stop()
        telegram.stop()
        zalo.stop()
        twilio.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="emergencies under flood and load (>= 20)")
    parser.add_argument("--baseline", type=int, default=None, help="the same, with no flood or load")
    parser.add_argument("--flood", type=int, default=60, help="emergencies from one web chat client")
    parser.add_argument("--flood-seconds", type=float, default=1.5)
    parser.add_argument("--load-rate", type=float, default=4.0, help="background questions a second")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between trials under load")
    parser.add_argument(
        "--pause", type=float, default=60.0, help="seconds from a phase's last trial to the next phase"
    )
    parser.add_argument("--wait", type=float, default=60.0, help="longest wait for a reply or a page")
    parser.add_argument("--kill-wait", type=float, default=90.0, help="longest wait after the kill")
    parser.add_argument("--no-kill", action="store_true", help="skip the kill -9 trial")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (a fresh database on it)")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server (experiments)")
    parser.add_argument("--keep-log", type=Path, default=None, help="copy the server's log here")
    parser.add_argument("--quick", action="store_true", help="small counts and waits: a smoke run")
    parser.add_argument("--verbose", action="store_true", help="print every trial")
    parser.add_argument("--limit", type=float, default=330.0, help="stop (and clean up) after this long")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.flood, args.gap = min(args.trials, 4), min(args.flood, 10), 0.2
        args.wait, args.kill_wait, args.pause = min(args.wait, 20.0), min(args.kill_wait, 30.0), 0.0
    args.trials = max(1, min(args.trials, 200))
    args.flood = max(0, min(args.flood, 500))
    args.baseline = min(args.trials if args.baseline is None else args.baseline, 200)
    args.load_rate = max(0.5, min(args.load_rate, 20.0))
    started = time.monotonic()
    try:
        asyncio.run(asyncio.wait_for(bench(args), timeout=args.limit))
    except TimeoutError:
        sys.exit(f"the bench ran out of time ({args.limit:.0f} s, --limit) and stopped everything it started")
    print(f"bench time: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
