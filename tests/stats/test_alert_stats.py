"""``hotline stats`` counts bad-client alerts (reports, approved, rejected, alerts sent, lookups, matches)
with the same small-number suppression as every other figure, and keeps them after reports expire."""

from __future__ import annotations

import json
import secrets

import httpx

from bot.clock import FrozenClock
from bot.runtime import Services
from bot.store.retention import purge
from tests.escalation.test_alerts import decide, report, say
from tests.stats.cli import hotline_async


async def test_alert_figures_with_suppression_after_expiry(
    services: Services, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await report(client, secrets.token_hex(16))
    await decide(services)
    for n in range(6):
        await say(client, secrets.token_hex(16), f"kiểm tra số 0912 000 {n:03d}")
    await say(client, secrets.token_hex(16), "kiểm tra số 0901 234 567")

    clock.advance(days=200)  # the report expired and was deleted; the statistics stay
    async with services.sessionmaker() as session, session.begin():
        removed = await purge(session, now=clock.now(), settings=services.settings)
    assert removed["client_reports"] == 1
    url = services.settings.database_url
    result = await hotline_async(url, "stats", "--from", "2026-01", "--to", "2026-01", "--format", "json")
    assert json.loads(result.stdout)["alerts"] == {
        "reports": "<5", "approved": "<5", "rejected": 0, "alerts_sent": 0, "lookups": 7, "matches": "<5"
    }  # fmt: skip
    table = await hotline_async(url, "stats", "--from", "2026-01", "--to", "2026-01")
    assert "Cảnh báo khách xấu" in table.stdout or "Bad-client alerts" in table.stdout
