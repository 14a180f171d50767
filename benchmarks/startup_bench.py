"""Benchmark of start-up: ``hotline serve`` to the first web chat answer, and the import time of the app.

Run from the repository root: ``python benchmarks/startup_bench.py [--rounds 3]``. Each round starts a
real ``hotline serve`` on the embedded SQLite (a fresh database, already migrated, in a temporary folder)
with no channel configured, and times from the process start to the first ``POST /api/webchat`` answered:

- *with the model file*: the language model was built by ``hotline train`` before (the usual start);
- *without*: an empty model folder, so the start trains the model (and writes its file).

It also prints the import time of ``bot.web.app`` and whether aiogram, twilio's REST client, matplotlib
or openpyxl were imported by a start with no channel (they should not be). Prints figures; asserts
nothing. The target (issue 13): at most 3 s with the model file.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("aiogram", "twilio.rest", "matplotlib", "openpyxl")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(folder: Path, models: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_ENV="test",
        HOTLINE_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'hotline.db'}",
        HOTLINE_SECRET_KEY=secrets.token_urlsafe(48),
        HOTLINE_MODEL_DIR=str(models),
        HOTLINE_LOG_LEVEL="WARNING",
    )
    return env


def hotline(args: list[str], env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "bot.cli", *args]
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)  # noqa: S603


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux), or NaN where /proc is absent."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_to_first_answer(env: dict[str, str], log: Path) -> tuple[float, float]:
    """Seconds from starting ``hotline serve`` to the first web chat answer, and the server's CPU seconds
    by then (on a busy machine the wall time grows; the CPU time says what one idle core would take)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    with log.open("ab") as handle:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
            env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        while time.perf_counter() - started < 120:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                response = httpx.post(
                    f"{url}/api/webchat",
                    json={"session": secrets.token_hex(16), "text": "PrEP là gì"},
                    timeout=5,
                )
                if response.status_code == 200 and response.json()["replies"]:
                    return time.perf_counter() - started, cpu_seconds(process.pid)
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise RuntimeError("no answer in 120 s")
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def import_figures() -> tuple[list[float], list[str]]:
    """Import time of bot.web.app, and which heavy libraries building the app (no channel) imported."""
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
    with tempfile.TemporaryDirectory() as folder:
        env = environment(Path(folder), ROOT / "var" / "models")
        out = subprocess.run(  # noqa: S603
            [sys.executable, "-c", probe], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.splitlines()
    return [float(x) for x in out[0].split()], [m for m in out[1].split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with_model: list[tuple[float, float]] = []
    without: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        folder = Path(tmp)
        models = folder / "models"
        env = environment(folder, models)
        hotline(["db", "upgrade"], env)
        hotline(["train"], env)
        for _ in range(args.rounds):
            with_model.append(serve_to_first_answer(env, folder / "serve.log"))
        for round_ in range(args.rounds):
            empty = environment(folder, folder / f"empty-{round_}")
            empty["HOTLINE_SECRET_KEY"] = env["HOTLINE_SECRET_KEY"]
            without.append(serve_to_first_answer(empty, folder / "serve.log"))
    seconds, heavy = import_figures()

    def show(rounds: list[tuple[float, float]]) -> str:
        wall = [w for w, _ in rounds]
        cpu = statistics.median(c for _, c in rounds)
        return (
            f"median {statistics.median(wall):.2f} s  (min {min(wall):.2f}, max {max(wall):.2f}); "
            f"server CPU {cpu:.2f} s"
        )

    print(f"serve -> first web chat answer, model file present ({args.rounds} rounds): {show(with_model)}")
    print(f"serve -> first web chat answer, no model file     ({args.rounds} rounds): {show(without)}")
    print(f"import bot.web.app: {seconds[0]:.2f} s (CPU {seconds[1]:.2f} s)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"heavy libraries imported by a start with no channel: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
