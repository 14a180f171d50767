"""Fixtures for escalation: a rota, and a pager that records what staff would receive."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from bot.escalation.paging import Page
from bot.escalation.rota import import_rota, parse_rota
from bot.runtime import Services
from tests.support.db import drain  # noqa: F401 (re-exported for the tests here)

ROTA = """
timezone: Asia/Ho_Chi_Minh
counsellors:
  - name: Lan
    telegram: 1001
    phone: "+84900000001"
  - name: Minh
    telegram: 1002
  - name: Hoa
    phone: "+84900000003"
weekly:
  - days: [mon, tue, wed, thu, fri, sat, sun]
    from: "00:00"
    to: "24:00"
    chain: [Lan, Minh]
"""


@dataclass
class RecordingPager:
    """Stands in for a transport (Telegram, SMS): records each page and message it is asked to send."""

    route: str
    pages: list[tuple[str, Page]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)

    async def page(self, address: str, page: Page) -> None:
        self.pages.append((address, page))

    async def notify(self, address: str, text: str) -> None:
        self.notes.append((address, text))


@pytest.fixture
async def rota(services: Services) -> dict[str, int]:
    plan = parse_rota(ROTA, today=date(2026, 1, 1), weeks=4)
    async with services.sessionmaker() as session, session.begin():
        await import_rota(session, services.crypto, plan, now=services.clock.now())
    from sqlalchemy import select

    from bot.store.models import Counsellor

    async with services.sessionmaker() as session:
        return {c.display_name: c.id for c in (await session.execute(select(Counsellor))).scalars()}


@pytest.fixture
def telegram_pager(services: Services) -> RecordingPager:
    pager = RecordingPager("telegram")
    services.pagers["telegram"] = pager
    services.settings.telegram_staff_chat_id = -100555
    return pager
