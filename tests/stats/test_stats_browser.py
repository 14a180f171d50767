"""The statistics page in a real browser (Debian's Chromium driven by Playwright), on the real server:
a supervisor logs in, follows the link, chooses the quarter, and sees the figures and the chart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.clock import FrozenClock
from bot.engine.content import Content
from bot.nlu import NLU
from bot.runtime import build_services
from bot.settings import Settings
from tests.conftest import SECRET
from tests.stats.replay import replay
from tests.support.browser import ARGS, CHROMIUM, require_chromium
from tests.support.server import LiveServer, hotline_env, run_cli, start_server

pytestmark = pytest.mark.browser
PASSWORD = "mat khau that dai"


async def replay_quarter(settings: Settings, nlu: NLU, content: Content) -> None:
    """Fill the server's database with the replayed quarter (the server itself runs on the real clock)."""
    from bot.web.app import create_app

    clock = FrozenClock()
    services = build_services(settings, clock=clock, nlu=nlu, content=content)
    await services.start(dispatcher=False)
    try:
        app = create_app(services=services, run_dispatcher=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            await replay(services, http, clock)
    finally:
        await services.close()


@pytest.fixture
def server(settings: Settings, nlu: NLU, content: Content, tmp_path: Path) -> Iterator[LiveServer]:
    require_chromium()
    asyncio.run(replay_quarter(settings, nlu, content))
    env = hotline_env(settings.database_url, SECRET)
    done = run_cli(
        ["staff", "add", "boss", "--role", "supervisor", "--password-stdin"], env, stdin=PASSWORD + "\n"
    )
    assert done.returncode == 0, done.stderr
    live = start_server(env, tmp_path / "server.log")
    try:
        yield live
    finally:
        live.stop()


def test_a_supervisor_sees_the_figures_and_the_chart(server: LiveServer) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context().new_page()
        blocked: list[str] = []  # what the Content-Security-Policy (bot/web/headers.py) refused
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(server.url + "/console")
        page.fill("input[name=username]", "boss")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login")
        page.click("a[href='/console/stats']")
        expect(page.locator("h1")).to_have_text("Thống kê đường dây hỗ trợ")

        page.fill("input[name=from]", "2026-01-01")
        page.fill("input[name=to]", "2026-03-31")
        page.click("#stats-show")
        expect(page.locator("#stats-range")).to_contain_text("2026-01-01 – 2026-03-31")
        months = page.locator("#stats-channel_by_month tbody tr")
        expect(months).to_have_count(4)
        expect(months.nth(0).locator("td")).to_have_text(["2026-01", "7", "x", "<5", "15"])
        expect(months.nth(3).locator("td")).to_have_text(["Tổng", "24", "14", "8", "46"])
        expect(page.locator("#stats-waits tbody tr").first.locator("td")).to_have_text(
            ["Khẩn cấp", "2:00", "10:00"]
        )
        expect(page.locator("#stats-by_province tbody tr").nth(1).locator("td")).to_have_text(
            ["Hải Phòng", "<5"]
        )

        chart = page.locator("#stats-chart")
        chart.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => { const i = document.getElementById('stats-chart'); return i.complete && i.naturalWidth > 0; }"
        )
        assert page.evaluate("() => document.getElementById('stats-chart').naturalWidth") == 1000
        # the report's styles come from console.css now (no inline <style> under the CSP)
        assert (
            page.evaluate("() => getComputedStyle(document.getElementById('stats-period')).display") == "flex"
        )
        browser.close()
    assert not blocked, blocked
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log
