"""How long a Prometheus scrape and a readiness check take on a full outbox.

SQLite, 20,000 sent (``done``) and 200 pending outbox rows; 20 calls of each through the ASGI app.
Run: ``.venv/bin/python benchmarks/metrics_bench.py``.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr
from sqlalchemy import insert

from bot.settings import Settings
from bot.store.models import Base, OutboxEvent
from bot.web.app import create_app

TOKEN = "t" * 32
DONE, PENDING, CALLS = 20_000, 200, 20


async def timed(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[float]:
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        response = await client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return times


async def main() -> None:
    folder = tempfile.mkdtemp()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=f"sqlite+aiosqlite:///{folder}/bench.db",
        secret_key="s" * 40,  # type: ignore[arg-type]
        metrics_token=SecretStr(TOKEN),
    )
    app = create_app(settings, run_dispatcher=False)
    services = app.state.services
    now = datetime.now(UTC)
    kinds = ("deliver", "page_send", "repage")
    async with services.db.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        rows = [
            {
                "kind": kinds[i % 3], "status": "done" if i < DONE else "pending", "payload_enc": "x",
                "not_before": now - timedelta(seconds=i), "created_at": now - timedelta(seconds=i),
                "attempts": 0, "lane": 2,
            }
            for i in range(DONE + PENDING)
        ]  # fmt: skip
        await connection.execute(insert(OutboxEvent), rows)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        scrape = await timed(client, "/metrics", {"Authorization": f"Bearer {TOKEN}"})
        ready = await timed(client, "/readyz", {})
    await services.db.dispose()
    print(
        f"GET /metrics: median {statistics.median(scrape):.1f} ms, max {max(scrape):.1f} ms ({CALLS} calls)"
    )
    print(f"GET /readyz:  median {statistics.median(ready):.1f} ms, max {max(ready):.1f} ms ({CALLS} calls)")


if __name__ == "__main__":
    asyncio.run(main())
