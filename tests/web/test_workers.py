"""``hotline serve --workers N``: N processes share the port on PostgreSQL; SQLite is refused."""

from __future__ import annotations

import os
import secrets
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import SECRET
from tests.support.server import hotline_env, run_cli, start_server

pytestmark = pytest.mark.slow


def children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def listening_inode(port: int) -> str:
    """The inode of the socket listening on a loopback port (/proc/net/tcp: state 0A is LISTEN)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
            return fields[9]
    raise AssertionError(f"nothing listens on {port}")


def until(condition, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def answered(url: str) -> bool:
    response = httpx.post(
        f"{url}/api/webchat", json={"session": secrets.token_hex(16), "text": "PrEP là gì"}, timeout=30
    )
    return response.status_code == 200 and bool(response.json()["replies"])


def test_several_workers_are_refused_on_sqlite(tmp_path: Path) -> None:
    env = hotline_env(f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}", SECRET)
    done = run_cli(["serve", "--workers", "2", "--port", "1"], env)
    assert done.returncode == 2, done.stderr
    assert "--workers needs PostgreSQL" in done.stderr
    assert not (tmp_path / "hotline.db").exists(), "refused before anything was done"


def test_two_workers_share_the_port_replace_a_dead_one_and_stop_together(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share PostgreSQL; SQLite is refused (above)")
    # one client (loopback) opens every session here: the per-address caps would refuse them
    caps = {"HOTLINE_FLOOD_SESSIONS_PER_MINUTE": "0", "HOTLINE_FLOOD_SESSIONS_PER_HOUR": "0"}
    env = hotline_env(database_url, SECRET, {"HOTLINE_DISPATCHER_INTERVAL_SECONDS": "1", **caps})
    server = start_server(env, tmp_path / "server.log", args=("--workers", "2"), timeout=120)
    try:
        parent = server.process.pid
        until(lambda: len(children(parent)) == 2)
        workers = children(parent)
        listening = f"socket:[{listening_inode(int(server.url.rsplit(':', 1)[1]))}]"
        for pid in workers:  # each one serves the one listening socket
            assert listening in {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        assert all(answered(server.url) for _ in range(10))

        dead = min(workers)
        os.kill(dead, signal.SIGKILL)
        until(lambda: len(children(parent)) == 2 and dead not in children(parent))
        until(lambda: server.log.read_text(errors="replace").count("Application startup complete") == 3)
        assert all(answered(server.url) for _ in range(10))
        assert server.process.poll() is None, "the supervisor outlives a worker"

        remaining = children(parent)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        for pid in remaining:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        log = server.log.read_text(errors="replace")
        assert "exited with -9: starting another" in log
        assert log.count("Application shutdown complete") >= 2, "each worker shut down gracefully"
    finally:
        server.stop()
