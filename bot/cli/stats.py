"""``hotline stats``: the programme's figures for a period, as a table, CSV, JSON or XLSX, and a chart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from bot.cli.common import load_settings
from bot.stats.chart import render_chart
from bot.stats.errors import StatsError
from bot.stats.formats import FORMATS, render
from bot.stats.labels import Words
from bot.stats.period import Period, make_period
from bot.stats.report import Report, load_report
from bot.stats.sections import BY


async def _report(database_url: str, period: Period, min_cell: int) -> Report:
    from bot.store.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    try:
        return await load_report(make_sessionmaker(engine), period, min_cell=min_cell)
    finally:
        await engine.dispose()


@click.command("stats")
@click.option(
    "--from", "start", metavar="DATE", help="First day: 2026-01-15, 2026-01 or 2026 (default: 12 months ago)."
)
@click.option(
    "--to", "end", metavar="DATE", help="Last day, included: 2026-03-31, 2026-03 or 2026 (default: today)."
)
@click.option("--by", type=click.Choice(BY), help="Only this table, with this as its rows.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (needed for xlsx)."
)
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), help="Also draw the chart as PNG.")
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    help="Language of tables, XLSX and chart (default HOTLINE_DEFAULT_LOCALE).",
)
@click.pass_context
def stats_command(
    ctx: click.Context, start: str | None, end: str | None, by: str | None, fmt: str, out: Path | None,
    chart: Path | None, lang: str | None,
) -> None:  # fmt: skip
    """Contacts, escalations and calls for a period; counts under HOTLINE_STATS_MIN_CELL are hidden."""
    from bot.clock import SystemClock

    root = ctx.find_root().obj or {}
    settings = load_settings(database_url=root.get("database_url"))
    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx writes a workbook: give --out FILE.xlsx")
    try:
        period = make_period(start, end, zone=settings.timezone, now=SystemClock().now())
        report = asyncio.run(_report(settings.database_url, period, settings.stats_min_cell))
    except StatsError as exc:
        raise click.ClickException(str(exc)) from exc
    words = Words(lang or settings.default_locale)
    output = render(report, fmt, words, by)
    if out is not None:
        if isinstance(output, bytes):
            out.write_bytes(output)
        else:
            out.write_text(output, encoding="utf-8")
        click.echo(f"written to {out}", err=True)
    else:
        click.echo(output, nl=False)
    if chart is not None:
        chart.write_bytes(render_chart(report, words))
        click.echo(f"chart written to {chart}", err=True)


COMMANDS = [stats_command]
