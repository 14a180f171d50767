"""The statistics page of the console over HTTP: supervisors only, the figures, the chart, downloads."""

from __future__ import annotations

import io
import re
from html import unescape

import httpx
from openpyxl import load_workbook

from bot.clock import FrozenClock
from bot.runtime import Services
from tests.console.test_console import PASSWORD, add_staff
from tests.stats.replay import replay

QUARTER = "from=2026-01-01&to=2026-03-31"


async def log_in(client: httpx.AsyncClient, username: str) -> None:
    response = await client.post("/console/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 303, response.text


async def test_only_a_supervisor_sees_the_statistics(client: httpx.AsyncClient, services: Services) -> None:
    response = await client.get("/console/stats", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/console/login"
    assert (await client.get(f"/console/stats/chart.png?{QUARTER}")).status_code == 401
    assert (await client.get(f"/console/stats/report.csv?{QUARTER}")).status_code == 401

    await add_staff(services, "lan")
    await log_in(client, "lan")
    assert "/console/stats" not in (await client.get("/console")).text, "no link for a counsellor"
    assert (await client.get("/console/stats")).status_code == 403
    assert (await client.get(f"/console/stats/chart.png?{QUARTER}")).status_code == 403
    assert (await client.get(f"/console/stats/report.json?{QUARTER}")).status_code == 403


async def test_the_page_the_chart_and_the_downloads(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    await replay(services, client, clock)
    await add_staff(services, "boss", role="supervisor")
    await log_in(client, "boss")
    client.cookies.set("console_lang", "en", path="/console")

    page = await client.get(f"/console/stats?{QUARTER}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    months = re.search(r'<table class="stats" id="stats-channel_by_month">(.*?)</table>', html, re.S)
    assert months is not None
    cells = [unescape(cell) for cell in re.findall(r"<td[^>]*>([^<]*)</td>", months.group(1))]
    assert cells == [
        "2026-01", "7", "x", "<5", "15",
        "2026-02", "10", "5", "0", "15",
        "2026-03", "7", "<5", "x", "16",
        "Total", "24", "14", "8", "46",
    ]  # fmt: skip
    assert "Emergency" in html and "2:00" in html and "10:00" in html, "median and 90th percentile"
    chart_url = re.search(r'<img id="stats-chart" src="([^"]+)"', html)
    assert chart_url is not None
    chart = await client.get(chart_url.group(1).replace("&amp;", "&"))
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n")

    data = (await client.get(f"/console/stats/report.json?{QUARTER}")).json()
    assert data["contacts"] == 46 and data["calls"] == {
        "count": 8,
        "median_duration_seconds": 90,
        "abandoned": "<5",
    }
    download = await client.get(f"/console/stats/report.csv?{QUARTER}")
    assert "attachment" in download.headers["content-disposition"]
    assert "2026-01,7,x,<5,15" in download.text
    workbook = load_workbook(io.BytesIO((await client.get(f"/console/stats/report.xlsx?{QUARTER}")).content))
    assert workbook["calls"]["B7"].value == "<5", "abandoned calls"
    assert (await client.get(f"/console/stats/report.pdf?{QUARTER}")).status_code == 404

    wrong = await client.get("/console/stats?from=2026-13-01")
    assert wrong.status_code == 200 and "not a date" in wrong.text, (
        "the mistake is shown, with a default period"
    )
