"""Running the real service in a subprocess (``hotline serve``), for browser and restart tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.settings import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A ``hotline serve`` process on a free loopback port."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """Kill it at once, as a crash or a power cut would (no clean shutdown)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def hotline_env(database_url: str, secret: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_ENV="test",
        HOTLINE_DATABASE_URL=database_url,
        HOTLINE_SECRET_KEY=secret,
        HOTLINE_LOG_LEVEL="INFO",
        HOTLINE_DISPATCHER_INTERVAL_SECONDS="0.2",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def run_cli(
    args: list[str], env: Mapping[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_server(
    env: Mapping[str, str],
    log: Path,
    port: int | None = None,
    timeout: float = 60,
    args: tuple[str, ...] = (),
) -> LiveServer:
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    handle = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), *args],
        env={**env, "HOTLINE_PUBLIC_URL": env.get("HOTLINE_PUBLIC_URL", url)},
        cwd=ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return LiveServer(url, process, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the server did not start in {timeout}s: {log.read_text(errors='replace')[-3000:]}")
