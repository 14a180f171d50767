"""Benchmark of start-up and memory: ``hotline serve`` to ``/healthz``, to the first web chat answer, and
its resident memory once every channel is built; in each channel configuration.

Run from the repository root::

    python benchmarks/startup_bench.py [--rounds 3] [--configs none,web+phone,all]
        [--baseline /tmp/base-checkout] [--train-rounds 1]

Each round starts a real ``hotline serve`` on the embedded SQLite (a fresh database, already migrated, in
a temporary folder), with the language model file of the checkout (``var/models``, made by
``hotline train`` first if missing), once per configuration (:mod:`benchmarks.channel_configs`):
``none`` (the web chat alone), ``web+phone`` (the web chat and the phone line) and ``all`` (every
channel, against fakes on loopback). For each it prints, as medians over the rounds:

- start-up: seconds from the process start to ``/healthz`` answering (the figure issue 17 asks for),
  and to the first ``POST /api/webchat`` answered;
- the server's CPU seconds by ``/healthz`` (on a busy machine the wall time grows; the CPU time says what
  one idle core would take);
- its RSS once ``/readyz`` answers 200 (the channels built after listening, e.g. Telegram, are built).

``--baseline DIR`` starts another checkout (e.g. a worktree of main) the same way, interleaved with this
one (baseline, this, baseline, this, ...), and prints both and their ratios: on a shared machine only a
same-run comparison means anything. ``--train-rounds N`` also times N starts with an empty model folder
(the start trains the model: slow). At the end: the import time of ``bot.web.app`` and which heavy
libraries a start of each configuration imported. Prints figures; asserts nothing. Targets (issue 17): at
most 2 s to ``/healthz``; RSS after load (``benchmarks/http_bench.py``) at most 200 MiB with the web chat
and the phone line, 300 MiB with every channel.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.channel_configs import CONFIGS, Fakes, channel_env, loopback_fakes, rss_mib  # noqa: E402
from tests.support.server import free_port  # noqa: E402

HEAVY = ("aiogram", "twilio.rest", "aiohttp", "matplotlib", "openpyxl", "sklearn", "scipy", "pydantic.v1")


def environment(
    code: Path, folder: Path, models: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a ``hotline`` process of the checkout ``code``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        PYTHONPATH=str(code),
        HOTLINE_ENV="test",
        HOTLINE_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'hotline.db'}",
        HOTLINE_SECRET_KEY=secrets.token_urlsafe(48),
        HOTLINE_MODEL_DIR=str(models),
        HOTLINE_LOG_LEVEL="WARNING",
        HOTLINE_PUBLIC_URL="https://hotline.example.org",
    )
    env.update(extra or {})
    return env


def hotline(code: Path, args: list[str], env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "bot.cli", *args]
    subprocess.run(command, env=env, cwd=code, check=True, capture_output=True)  # noqa: S603


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux), or NaN where /proc is absent."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Start:
    healthz: float  # seconds from the process start to /healthz answering
    answer: float  # ... to the first web chat answer
    cpu: float  # the server's CPU seconds by /healthz
    rss: float  # MiB once /readyz answers 200


def _answers(url: str) -> bool:
    try:
        response = httpx.post(
            f"{url}/api/webchat", json={"session": secrets.token_hex(16), "text": "PrEP là gì"}, timeout=5
        )
    except httpx.TransportError:
        return False
    return response.status_code == 200 and bool(response.json()["replies"])


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def serve(code: Path, env: dict[str, str], log: Path) -> Start:
    """Start ``hotline serve`` of ``code`` and time it (see the module's docstring)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    with log.open("ab") as handle:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--no-migrate"],
            env=env, cwd=code, stdout=handle, stderr=subprocess.STDOUT,
        )  # fmt: skip
    marks: dict[str, float] = {}
    try:
        while time.perf_counter() - started < 180:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
            if "healthz" not in marks and _ok(f"{url}/healthz"):
                marks["healthz"] = time.perf_counter() - started
                marks["cpu"] = cpu_seconds(process.pid)
            if "healthz" in marks and "answer" not in marks and _answers(url):
                marks["answer"] = time.perf_counter() - started
            if "answer" in marks and _ok(f"{url}/readyz"):
                return Start(marks["healthz"], marks["answer"], marks["cpu"], rss_mib(process.pid))
            time.sleep(0.01)
        raise RuntimeError("not ready in 180 s")
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def imported(code: Path, env: dict[str, str]) -> tuple[float, float, list[str]]:
    """Import time (wall, CPU) of bot.web.app, and which heavy libraries building the app imported."""
    probe = (
        "import sys, time\n"
        "started, cpu = time.perf_counter(), time.process_time()\n"
        "import bot.web.app\n"
        "print(time.perf_counter() - started, time.process_time() - cpu)\n"
        "from bot.runtime import build_services\n"
        "from bot.settings import Settings\n"
        "bot.web.app.create_app(services=build_services(Settings()))\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe], env=env, cwd=code, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    wall, cpu = (float(x) for x in out[0].split())
    return wall, cpu, [m for m in out[1].split(",") if m]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def show(label: str, starts: list[Start]) -> str:
    return (
        f"{label:<24} /healthz {median([s.healthz for s in starts]):5.2f} s "
        f"(min {min(s.healthz for s in starts):.2f}, max {max(s.healthz for s in starts):.2f}); "
        f"first answer {median([s.answer for s in starts]):5.2f} s; "
        f"CPU by /healthz {median([s.cpu for s in starts]):4.2f} s; "
        f"RSS when ready {median([s.rss for s in starts]):4.0f} MiB"
    )


def ratio(label: str, new: list[Start], old: list[Start]) -> str:
    def r(field: str) -> float:
        return median([getattr(s, field) for s in new]) / median([getattr(s, field) for s in old])

    return (
        f"{label:<24} this / baseline: /healthz {r('healthz'):.2f}, first answer {r('answer'):.2f}, "
        f"CPU {r('cpu'):.2f}, RSS {r('rss'):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"among {', '.join(CONFIGS)}")
    parser.add_argument("--baseline", type=Path, help="another checkout to start the same way, interleaved")
    parser.add_argument("--train-rounds", type=int, default=0, help="starts that train the model (slow)")
    args = parser.parse_args()
    configs = args.configs.split(",")
    codes = {"this": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    order = sorted(codes, key=lambda name: name != "baseline")  # baseline first in every round
    starts: dict[tuple[str, str], list[Start]] = {(c, k): [] for c in codes for k in configs}
    heavy: dict[tuple[str, str], tuple[float, float, list[str]]] = {}
    trained: list[Start] = []
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp, loopback_fakes() as fakes:
        folder = Path(tmp)
        envs: dict[tuple[str, str], dict[str, str]] = {}
        for name, code in codes.items():
            work = folder / name
            work.mkdir()
            for config in configs:
                envs[name, config] = environment(
                    code, work, code / "var" / "models", channel_env(config, fakes)
                )
            first = envs[name, configs[0]]
            hotline(code, ["db", "upgrade"], first)
            hotline(code, ["train"], first)  # quick when the checkout's model file is there
            for config in configs:  # a start not counted: files in the page cache, bytecode written
                serve(code, envs[name, config], work / "serve.log")
        for _ in range(args.rounds):
            for config in configs:
                for name in order:
                    starts[name, config].append(serve(codes[name], envs[name, config], folder / "serve.log"))
        for round_ in range(args.train_rounds):
            env = environment(ROOT, folder / "this", folder / f"empty-{round_}")
            env["HOTLINE_SECRET_KEY"] = envs["this", configs[0]]["HOTLINE_SECRET_KEY"]
            trained.append(serve(ROOT, env, folder / "serve.log"))
        for name in order:
            for config in configs:
                heavy[name, config] = imported(codes[name], envs[name, config])
        _report(args.rounds, configs, order, starts, heavy, trained, fakes)


def _report(
    rounds: int,
    configs: list[str],
    order: list[str],
    starts: dict[tuple[str, str], list[Start]],
    heavy: dict[tuple[str, str], tuple[float, float, list[str]]],
    trained: list[Start],
    fakes: Fakes,
) -> None:
    print(f"hotline serve, SQLite, model file present; medians of {rounds} rounds, interleaved")
    for config in configs:
        for name in order:
            print(show(f"{config} ({name})", starts[name, config]))
        if "baseline" in order:
            print(ratio(config, starts["this", config], starts["baseline", config]))
    if trained:
        print(show("none, training the model", trained))
    for name in order:
        for config in configs:
            wall, cpu, libraries = heavy[name, config]
            print(
                f"{config} ({name}): import bot.web.app {wall:.2f} s (CPU {cpu:.2f} s); heavy libraries "
                f"imported by building the app: {', '.join(libraries) or 'none'}"
            )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    del fakes


if __name__ == "__main__":
    main()
