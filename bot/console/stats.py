"""The console's statistics page for supervisors: ``/console/stats?from=&to=``.

The same report as ``hotline stats`` (:func:`bot.stats.report.load_report`), its chart as a PNG from
``/console/stats/chart.png`` and downloads (``/console/stats/report.csv|json|xlsx``), with the same
period parameters. Only a supervisor may see them; nothing on them can single a person out.
"""

# No `from __future__ import annotations` here: FastAPI resolves the routes' parameters at run time.
import asyncio
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from bot.console.auth import Staff
from bot.console.web import ConsoleWeb, NeedLogin
from bot.stats.chart import render_chart
from bot.stats.errors import StatsError
from bot.stats.formats import render
from bot.stats.labels import Words
from bot.stats.period import Period, make_period
from bot.stats.report import Report, load_report
from bot.stats.sections import legend, sections

if TYPE_CHECKING:
    from bot.console.deps import ConsoleServices

DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
From = Annotated[str | None, Query(alias="from", max_length=10)]
To = Annotated[str | None, Query(alias="to", max_length=10)]


def build_router(services: "ConsoleServices") -> APIRouter:
    """The statistics routes, bound to the running services."""
    router = APIRouter(prefix="/console/stats", include_in_schema=False)
    web = ConsoleWeb(services)
    settings = services.settings

    async def supervisor(request: Request) -> Staff:
        staff = await web.current_api(request)
        if not staff.supervisor:
            raise HTTPException(403, "only a supervisor can see the statistics")
        return staff

    def period_of(start: str | None, end: str | None) -> Period:
        return make_period(start or None, end or None, zone=settings.timezone, now=services.clock.now())

    async def report_of(start: str | None, end: str | None) -> Report:
        try:
            period = period_of(start, end)
        except StatsError as exc:
            raise HTTPException(400, str(exc)) from exc
        return await load_report(services.sessionmaker, period, min_cell=settings.stats_min_cell)

    @router.get("")
    async def stats_page(request: Request, start: From = None, end: To = None) -> Response:
        try:
            staff = await web.current(request)
        except NeedLogin:
            return RedirectResponse("/console/login", status_code=303)
        if not staff.supervisor:
            raise HTTPException(403, "only a supervisor can see the statistics")
        error = None
        try:
            period = period_of(start, end)
        except StatsError as exc:
            error = str(exc)
            period = period_of(None, None)
        report = await load_report(services.sessionmaker, period, min_cell=settings.stats_min_cell)
        words = Words(web.locale_of(request))
        query = urlencode({"from": period.start.isoformat(), "to": period.end.isoformat()})
        return web.page(
            request, "stats.html", staff, w=words, period=period, query=query, error=error,
            sections=sections(report, words), legend=legend(report, words),
        )  # fmt: skip

    @router.get("/chart.png")
    async def chart(request: Request, start: From = None, end: To = None) -> Response:
        await supervisor(request)
        report = await report_of(start, end)
        png = await asyncio.to_thread(render_chart, report, Words(web.locale_of(request)))
        return Response(png, media_type="image/png", headers=NO_STORE)

    @router.get("/report.{fmt}")
    async def download(request: Request, fmt: str, start: From = None, end: To = None) -> Response:
        await supervisor(request)
        if fmt not in DOWNLOADS:
            raise HTTPException(404, f"the report comes as {', '.join(DOWNLOADS)}")
        report = await report_of(start, end)
        body = render(report, fmt, Words(web.locale_of(request)))
        name = f"hotline-stats-{report.period.start.isoformat()}-{report.period.end.isoformat()}.{fmt}"
        headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(body, media_type=DOWNLOADS[fmt], headers=headers)

    return router
