"""The other outputs of ``hotline stats`` on the replayed quarter: CSV, XLSX, the table, --by, the chart."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
from matplotlib.image import imread
from openpyxl import load_workbook

from bot.clock import FrozenClock
from bot.runtime import Services
from tests.stats.cli import hotline_async
from tests.stats.replay import replay

QUARTER = ("--from", "2026-01", "--to", "2026-03")
PNG = b"\x89PNG\r\n\x1a\n"


def sections(text: str) -> dict[str, list[list[str]]]:
    """The CSV's sections: title -> header and rows."""
    found: dict[str, list[list[str]]] = {}
    rows: list[list[str]] | None = None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            rows = None
        elif rows is None:
            rows = found.setdefault(row[0], [])
        else:
            rows.append(row)
    return found


def sheet_rows(sheet: Any) -> list[list[object]]:
    """A sheet's rows without the empty cells that pad them to the widest row."""
    rows = []
    for row in sheet.iter_rows(values_only=True):
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        rows.append(values)
    return rows


async def test_csv_xlsx_table_and_chart_show_the_same_suppressed_figures(
    services: Services, client: httpx.AsyncClient, clock: FrozenClock, tmp_path: Path
) -> None:
    await replay(services, client, clock)
    url = services.settings.database_url

    result = await hotline_async(url, "stats", *QUARTER, "--format", "csv")
    tables = sections(result.stdout)
    assert tables["channel_by_month"] == [
        ["month", "webchat", "telegram", "phone", "total"],
        ["2026-01", "7", "x", "<5", "15"],
        ["2026-02", "10", "5", "0", "15"],
        ["2026-03", "7", "<5", "x", "16"],
        ["total", "24", "14", "8", "46"],
    ]
    assert tables["calls"] == [
        ["figure", "value"], ["calls_count", "8"], ["median_duration_seconds", "90"], ["abandoned", "<5"],
    ]  # fmt: skip
    assert tables["by_province"][1:] == [
        ["Hà Nội", "x"],
        ["Hải Phòng", "<5"],
        ["not_told", "39"],
        ["total", "46"],
    ]

    # the counsellors' close forms: codes only, suppressed like every other table
    assert tables["close_risk"] == [
        ["end_risk", "cases"], ["none", "<5"], ["low", "x"], ["medium", "0"], ["high", "0"], ["total", "7"],
    ]  # fmt: skip
    assert tables["close_referrals"] == [["service", "cases"], ["police-113", "5"]]
    assert ["violence_partner", "5"] in tables["close_reasons"] and ["hiv_sti", "<5"] in tables[
        "close_reasons"
    ]
    assert ["gbv", "5"] in tables["close_programme"] and ["violence", "5"] in tables["close_chi"]
    result = await hotline_async(url, "stats", *QUARTER, "--lang", "en")
    text = result.stdout
    assert "Close form: reasons for contact" in text and "Close form: Child Helpline International" in text
    assert any(
        line.split() == ["Violence", "by", "a", "partner", "or", "family", "5"] for line in text.splitlines()
    ), text
    assert any(line.split() == ["Gender-based", "violence", "5"] for line in text.splitlines())

    workbook_path = tmp_path / "quarter.xlsx"
    await hotline_async(
        url, "stats", *QUARTER, "--format", "xlsx", "--out", str(workbook_path), "--lang", "en"
    )
    workbook = load_workbook(workbook_path, read_only=True)
    assert {"channel_by_month", "topic_by_month", "escalations", "calls", "legend"} <= set(
        workbook.sheetnames
    )
    rows = sheet_rows(workbook["channel_by_month"])
    assert rows[0] == ["Contacts by month and channel"] and rows[1] == [
        "2026-01-01 – 2026-03-31 (Asia/Ho_Chi_Minh)"
    ]
    assert rows[3:] == [
        ["Month", "Web chat", "Telegram", "Phone", "Total"],
        ["2026-01", 7, "x", "<5", 15],
        ["2026-02", 10, 5, 0, 15],
        ["2026-03", 7, "<5", "x", 16],
        ["Total", 24, 14, 8, 46],
    ]
    waits = sheet_rows(workbook["waits"])[3:]
    assert waits[:2] == [["Kind", "Median", "90th percentile"], ["Emergency", "2:00", "10:00"]]
    workbook.close()

    result = await hotline_async(url, "stats", *QUARTER, "--by", "topic", "--lang", "vi")
    lines = result.stdout.splitlines()
    assert lines[0] == "Thống kê đường dây hỗ trợ: 2026-01-01 – 2026-03-31 (Asia/Ho_Chi_Minh)"
    assert lines[3].split() == ["Chủ", "đề", "2026-01", "2026-02", "2026-03", "Tổng"]
    assert lines[7].split() == ["Bạo", "lực", "0", "0", "<5", "<5"], "violence: 2 in March"
    assert "Cuộc gọi" not in result.stdout, "--by shows only its table"

    chart = tmp_path / "quarter.png"
    await hotline_async(url, "stats", *QUARTER, "--format", "json", "--chart", str(chart))
    data = chart.read_bytes()
    assert data.startswith(PNG)
    height, width, _channels = imread(str(chart)).shape
    assert (width, height) == (1000, 1100)


async def test_mistakes_are_refused_with_what_to_do(services: Services) -> None:
    url = services.settings.database_url
    result = await hotline_async(url, "stats", "--from", "2026-13", exit_code=1)
    assert "not a date" in result.output
    result = await hotline_async(url, "stats", "--from", "2026-03", "--to", "2026-01", exit_code=1)
    assert "starts (2026-03-01) after it ends (2026-01-31)" in result.output
    result = await hotline_async(url, "stats", "--format", "xlsx", exit_code=2)
    assert "--out" in result.output
