"""The console's rota page: a rebind or reactivation is shown and asked for, never done silently."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from bot.escalation.rota import telegram_user_hash
from bot.runtime import Services
from bot.store.models import AuditEntry, Counsellor
from tests.console.test_console import add_staff, login

ROTA = """
counsellors:
  - {name: Lan, telegram: 7001}
weekly:
  - {days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00", chain: [Lan]}
"""


async def lan_hash(services: Services) -> str | None:
    async with services.sessionmaker() as session:
        return await session.scalar(
            select(Counsellor.telegram_user_hash).where(Counsellor.display_name == "Lan")
        )


async def test_a_rebind_on_the_rota_page_needs_the_confirmation_box(
    client: httpx.AsyncClient, services: Services
) -> None:
    await add_staff(services, "sup", role="supervisor")
    token = await login(client, "sup")
    assert (await client.post("/console/rota", data={"token": token, "rota": ROTA})).status_code == 200

    rebound = ROTA.replace("7001", "7999")
    refused = await client.post("/console/rota", data={"token": token, "rota": rebound})
    assert refused.status_code == 409
    assert "Chưa lưu gì" in refused.text and 'id="pending-changes"' in refused.text
    assert "Lan: Telegram sẽ đổi sang một id/số khác" in refused.text
    assert 'name="rebind"' in refused.text and 'name="reactivate"' not in refused.text
    assert await lan_hash(services) == telegram_user_hash(services.crypto, "7001"), "nothing changed"

    done = await client.post("/console/rota", data={"token": token, "rota": rebound, "rebind": "true"})
    assert done.status_code == 200 and "Đã lưu lịch trực" in done.text
    assert await lan_hash(services) == telegram_user_hash(services.crypto, "7999")
    async with services.sessionmaker() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    changes = [(a.staff_id is not None, a.detail) for a in rows if a.action == "rota_change"]
    assert changes[-1] == (True, {"field": "telegram", "change": "changed", "via": "console"})
    assert [a.detail["confirmed"] for a in rows if a.action == "rota_import" and a.detail] == [[], ["rebind"]]
