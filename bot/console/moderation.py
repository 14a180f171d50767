"""The console's moderation page for bad-client reports: ``/console/moderation``.

Moderators (role ``moderator``) and supervisors read the pending reports, edit out what could identify
anyone, set the severity, approve (alerts go out, paced) or reject (nothing is ever sent), may ask the
reporter a question through the bot, and may withdraw an approved report (deleted at once). Every member of staff can enter a report a caller left by phone (the
form at the bottom). Each step is audited (bot/escalation/moderation.py). Nothing on the page names the
reporter: no conversation, key or channel address, only how many reports the same person sent.
"""

# No `from __future__ import annotations` here: FastAPI resolves the routes' parameters at run time.
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from bot.console.auth import Staff
from bot.console.moderation_words import moderation_words
from bot.console.web import ConsoleWeb, NeedLogin
from bot.escalation.moderation import Moderation, ModerationRefused
from bot.http.ids import RowId
from bot.store.alerts import FIELDS, SEVERITIES

if TYPE_CHECKING:
    from bot.console.deps import ConsoleServices

MODERATORS = ("moderator", "supervisor")
Text = Annotated[str | None, Form(max_length=500)]


def report_texts(
    place: str | None,
    when: str | None,
    what: str | None,
    person: str | None,
    vehicle: str | None,
    account: str | None,
) -> dict[str, str | None]:
    """A report form's free-text fields by name (as the moderation desk takes them)."""
    return {
        "place": place,
        "when": when,
        "what": what,
        "person": person,
        "vehicle": vehicle,
        "account": account,
    }


def build_router(services: "ConsoleServices") -> APIRouter:
    """The moderation routes, bound to the running services."""
    router = APIRouter(prefix="/console/moderation", include_in_schema=False)
    web = ConsoleWeb(services)
    desk = Moderation(
        services.sessionmaker, services.crypto, services.clock, services.content.flows, services.settings,
        services.content.knowledge, services.desk,
    )  # fmt: skip
    zone = ZoneInfo(services.settings.timezone)

    def moderator(staff: Staff) -> Staff:
        if staff.role not in MODERATORS:
            raise HTTPException(403, "only a moderator or a supervisor can moderate reports")
        return staff

    async def show(request: Request, staff: Staff, message: str | None = None, status: int = 200) -> Response:
        moderates = staff.role in MODERATORS
        views, approved = await desk.reports(staff.id) if moderates else ([], [])
        shown = web.page(
            request, "moderation.html", staff, m=moderation_words(web.locale_of(request)), reports=views,
            approved=approved,
            moderates=moderates, fields=FIELDS, severities=SEVERITIES, message=message, zone=zone,
            many=services.settings.alerts_many_reports,
        )  # fmt: skip
        shown.status_code = status
        return shown

    @router.get("")
    async def moderation_page(request: Request) -> Response:
        try:
            staff = await web.current(request)
        except NeedLogin:
            return RedirectResponse("/console/login", status_code=303)
        return await show(request, staff)

    @router.post("/phone")
    async def phone_entry(
        request: Request, province: Annotated[str, Form(max_length=80)], token: Text = None,
        place: Text = None, when: Text = None, what: Text = None, person: Text = None, vehicle: Text = None,
        account: Text = None, phone: Annotated[str | None, Form(max_length=40)] = None,
    ) -> Response:  # fmt: skip
        staff = await web.current_api(request)
        web.check_form(request, token)
        words = moderation_words(web.locale_of(request))
        texts = report_texts(place, when, what, person, vehicle, account)
        try:
            report_id = await desk.enter_from_phone(
                staff_id=staff.id, province=province, texts=texts, phone=phone
            )
        except ModerationRefused as exc:
            return await show(request, staff, str(exc), 400)
        return await show(request, staff, words["entered"].format(id=report_id))

    @router.post("/{report_id}")
    async def decide(
        request: Request, report_id: RowId, decision: Annotated[str, Form(max_length=16)], token: Text = None,
        severity: Annotated[str | None, Form(max_length=16)] = None, place: Text = None, when: Text = None,
        what: Text = None, person: Text = None, vehicle: Text = None, account: Text = None,
        edited: Annotated[bool, Form()] = False,
    ) -> Response:  # fmt: skip
        staff = moderator(await web.current_api(request))
        web.check_form(request, token)
        words = moderation_words(web.locale_of(request))
        texts = report_texts(place, when, what, person, vehicle, account)
        try:
            queued = await desk.save(
                # the page's form sends every field (``edited``): an emptied one is cleared
                report_id, staff_id=staff.id, texts={k: v or "" for k, v in texts.items()} if edited else {},
                severity=severity or None, decision=decision,
            )  # fmt: skip
        except ModerationRefused as exc:
            return await show(request, staff, str(exc), 409)
        services.dispatcher.wake()
        message = {"save": words["saved"], "reject": words["rejected"]}.get(decision)
        return await show(request, staff, message or words["approved"].format(n=queued))

    @router.post("/{report_id}/withdraw")
    async def withdraw(request: Request, report_id: RowId, token: Text = None) -> Response:
        staff = moderator(await web.current_api(request))
        web.check_form(request, token)
        try:
            await desk.withdraw(report_id, staff_id=staff.id)
        except ModerationRefused as exc:
            return await show(request, staff, str(exc), 409)
        return await show(request, staff, moderation_words(web.locale_of(request))["withdrawn"])

    @router.post("/{report_id}/ask")
    async def ask(
        request: Request, report_id: RowId, question: Annotated[str, Form(max_length=300)], token: Text = None
    ) -> Response:
        staff = moderator(await web.current_api(request))
        web.check_form(request, token)
        try:
            await desk.ask(report_id, staff_id=staff.id, question=question)
        except ModerationRefused as exc:
            return await show(request, staff, str(exc), 409)
        services.dispatcher.wake()
        return await show(request, staff, moderation_words(web.locale_of(request))["asked"])

    return router
