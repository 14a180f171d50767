"""The web console at ``/console``: log in, the live queue, take, talk, hand over, close; the rota.

Server-rendered pages with a little JavaScript: the queue and the open conversation refresh from a
server-sent event stream (``/console/events``). Forms carry a token bound to the session cookie, and
the cookie is ``SameSite=Strict``. Opening a conversation is written to the audit log.
"""

# No `from __future__ import annotations` here: FastAPI must resolve the dependencies of the routes
# defined inside build_router (closures) at run time.
import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import func, select

from bot.console import sessions as console_sessions
from bot.console import throttle
from bot.console.auth import COOKIE, DEVICE_COOKIE, DEVICE_DAYS, Staff, authenticate
from bot.console.i18n import words
from bot.console.web import ConsoleWeb, NeedLogin
from bot.escalation.desk import READ_REASONS, DeskError, ReasonNeeded, level_of_kind
from bot.escalation.rota import (
    RotaChange,
    RotaError,
    RotaNeedsConfirmation,
    chain_at,
    import_rota,
    parse_rota,
)
from bot.escalation.watch import possible_risks
from bot.http.clients import client_address
from bot.http.ids import FormRowId, RowId
from bot.metrics import Counter
from bot.store.closeform import END_RISKS, PROGRAMME, REASONS, CloseForm
from bot.store.escalations import OUTCOMES
from bot.store.models import AuditEntry, Conversation, Counsellor, Escalation, Message

if TYPE_CHECKING:
    from bot.console.deps import ConsoleServices
# An open event stream checks every this many beats (of 1.5 s) that its session has not ended.
SESSION_CHECK_BEATS = 20
REFUSED = Counter(
    "hotline_console_login_refused",
    "Console logins refused: a wrong name or password, or a client made to wait (429).",
    ["reason"],
)


def back_to(request: Request, public_url: str) -> str:
    """Where to send the browser back to after switching language: the console page it came from (its
    ``Referer``), if that is a console page of this site; never another site (an open redirect). Only
    the path is kept, so the answer is always a page of this site."""
    referer = urlsplit(request.headers.get("referer") or "")
    if referer.netloc and referer.netloc not in (request.url.netloc, urlsplit(public_url).netloc):
        return "/console"
    path = referer.path
    if not path.startswith("/console") or "\\" in path or path.startswith("//"):
        return "/console"
    return path + (f"?{referer.query}" if referer.query else "")


def build_router(services: "ConsoleServices") -> APIRouter:
    """The console's routes, bound to the running services."""
    router = APIRouter(prefix="/console", include_in_schema=False)
    web = ConsoleWeb(services)
    secure = web.secure
    locale_of, current, current_api = web.locale_of, web.current, web.current_api
    check_form, page = web.check_form, web.page

    @router.get("/login")
    async def login_form(request: Request) -> HTMLResponse:
        return page(request, "login.html", None, error=None)

    @router.post("/login")
    async def login(
        request: Request, username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=1024)],
    ) -> Response:  # fmt: skip
        t = words(locale_of(request))
        now = services.clock.now()
        device_cookie = request.cookies.get(DEVICE_COOKIE)
        device = web.sessions.known_device(device_cookie, username)
        who = throttle.client(
            services.crypto,
            username=username,
            address=client_address(request, services.settings.trusted_proxies),
            device=device,
        )
        async with services.sessionmaker() as session:
            wait = await throttle.wait_for(session, who, now=now)
        if wait:
            REFUSED.labels(reason="throttled").inc()
            refused = page(request, "login.html", None, error=t["login_locked"].format(seconds=wait))
            refused.status_code = 429
            refused.headers["Retry-After"] = str(wait)
            return refused
        staff, account_id = await authenticate(
            services.sessionmaker, web.hashing, username, password, known=device is not None
        )
        async with services.sessionmaker() as session, session.begin():
            if staff is None:
                # Audited without the name tried or the address: only the account, when the name is one
                # (names that are no account are only counted: a spray must not fill the audit log).
                REFUSED.labels(reason="wrong").inc()
                locked = await throttle.failed(session, who, now=now)
                if account_id is not None:
                    session.add(AuditEntry(staff_id=account_id, action="login_failed", at=now))
                if locked:
                    session.add(AuditEntry(staff_id=account_id, action="login_locked", at=now))
            else:
                await throttle.succeeded(session, who)
                await throttle.purge_expired(session, now=now)
                await console_sessions.purge_expired(session, now=now, idle=web.lifetimes.idle)
                # a session this browser still had ends: one browser, one session
                await console_sessions.end(session, web.sessions, request.cookies.get(COOKIE))
                token = await console_sessions.open_session(
                    session, web.sessions, staff.id, now=now, lifetimes=web.lifetimes
                )
        if staff is None:
            refused = page(request, "login.html", None, error=t["login_failed"])
            refused.status_code = 401
            return refused
        response = RedirectResponse("/console", status_code=303)
        response.set_cookie(
            COOKIE, token, max_age=int(web.lifetimes.absolute.total_seconds()), httponly=True,
            samesite="strict", secure=secure, path="/console",
        )  # fmt: skip
        response.set_cookie(
            DEVICE_COOKIE, web.sessions.add_device(device_cookie, staff.username),
            max_age=DEVICE_DAYS * 86400, httponly=True, samesite="strict", secure=secure, path="/console/login",
        )  # fmt: skip
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        async with services.sessionmaker() as session, session.begin():
            await console_sessions.end(session, web.sessions, request.cookies.get(COOKIE))
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(COOKIE, path="/console")
        return response

    @router.get("/lang")
    async def switch_language(request: Request) -> Response:
        response = RedirectResponse(back_to(request, services.settings.public_url), status_code=303)
        response.set_cookie("console_lang", "vi" if locale_of(request) == "en" else "en", samesite="strict",
                            path="/console")  # fmt: skip
        return response

    @router.get("")
    async def queue_page(request: Request) -> Response:
        try:
            staff = await current(request)
        except NeedLogin:
            return RedirectResponse("/console/login", status_code=303)
        return page(request, "queue.html", staff)

    @router.get("/api/queue")
    async def queue_json(staff: Annotated[Staff, Depends(current_api)]) -> JSONResponse:
        items = await services.desk.queue()
        # Waiting longer than the page's acknowledgement window (when re-paging starts): shown red.
        late_after = services.settings.page_ack_seconds
        return JSONResponse(
            [
                {
                    "id": i.escalation_id,
                    "level": level_of_kind(i.kind),
                    "kind": i.kind,
                    "risk": i.risk,
                    "locale": i.locale,
                    "channel": i.channel,
                    "status": i.status,
                    "waited": i.waited_seconds,
                    "late": i.status == "open" and i.waited_seconds >= late_after,
                    "handed_over": i.handed_over and i.holder_id == staff.counsellor_id,
                    "flooded": i.flooded,
                    "holder": i.holder,
                    "mine": i.holder_id is not None and i.holder_id == staff.counsellor_id,
                    # a missed safety check-in: when the person set it, on the service's clock
                    "checkin_set_at": (
                        i.checkin_set_at.astimezone(ZoneInfo(services.settings.timezone)).strftime("%H:%M")
                        if i.checkin_set_at is not None
                        else None
                    ),
                }
                for i in items
            ]
        )

    @router.get("/api/possible")
    async def possible_json(staff: Annotated[Staff, Depends(current_api)]) -> JSONResponse:
        """Conversations where the bot asked "are you in danger right now?" (nobody paged), last 24 h."""
        now = services.clock.now()
        items = await possible_risks(services.sessionmaker, now=now)
        return JSONResponse(
            [
                {
                    "contact": i.contact_id,
                    "channel": i.channel,
                    "kind": i.kind,
                    "ago": int((now - i.asked_at).total_seconds()),
                    "answer": i.answer,
                    "emergency": i.emergency,
                }
                for i in items
            ]
        )

    @router.post("/escalations/{escalation_id}/take")
    async def take(
        request: Request, escalation_id: RowId, token: Annotated[str | None, Form()] = None
    ) -> Response:
        try:
            staff = await current(request)
        except NeedLogin:
            return RedirectResponse("/console/login", status_code=303)
        check_form(request, token)
        t = words(locale_of(request))
        if staff.counsellor_id is None:
            raise HTTPException(403, t["not_counsellor"])
        try:
            result = await services.desk.take(
                escalation_id, staff.counsellor_id, via="console", staff_id=staff.id
            )
        except DeskError as exc:
            raise HTTPException(409, str(exc)) from exc
        services.dispatcher.wake()
        if not result.taken:
            return page(request, "queue.html", staff, notice=t["taken_by_other"].format(id=escalation_id,
                                                                                       name=result.holder))  # fmt: skip
        return RedirectResponse(f"/console/escalations/{escalation_id}", status_code=303)

    @router.get("/escalations/{escalation_id}")
    async def conversation_page(
        request: Request, escalation_id: RowId, reason: str | None = None
    ) -> Response:
        try:
            staff = await current(request)
        except NeedLogin:
            return RedirectResponse("/console/login", status_code=303)
        try:
            lines = await services.desk.transcript(
                escalation_id, staff.counsellor_id, staff_id=staff.id, supervisor=staff.supervisor,
                reason=reason, via="console",
            )  # fmt: skip
        except ReasonNeeded as exc:
            asked = page(request, "reason.html", staff, escalation_id=escalation_id, reasons=READ_REASONS,
                         error=str(exc) if reason else None)  # fmt: skip
            asked.status_code = 400 if reason else 200
            return asked
        except DeskError as exc:
            raise HTTPException(403, str(exc)) from exc
        async with services.sessionmaker() as session:
            escalation = await session.get(Escalation, escalation_id)
            others = (
                await session.execute(
                    select(Counsellor).where(Counsellor.active, Counsellor.id != (staff.counsellor_id or 0))
                )
            ).scalars()
            colleagues = [(c.id, c.display_name) for c in others]
            conversation = (
                await session.get(Conversation, escalation.conversation_id)
                if escalation is not None and escalation.conversation_id is not None
                else None
            )
        person_locale = conversation.locale if conversation is not None else "vi"
        staff_locale = locale_of(request)
        # saved replies: the label in the counsellor's language, the text in the person's
        saved = [
            {"shortcut": r.shortcut, "title": r.title.get(staff_locale), "text": r.text.get(person_locale),
             "id": r.id}
            for r in services.content.knowledge.saved_replies
        ]  # fmt: skip
        holds = (
            escalation is not None
            and escalation.taken_by == staff.counsellor_id
            and escalation.status == "taken"
        )
        notes = await services.desk.notes(
            escalation_id, staff.counsellor_id, staff_id=staff.id, supervisor=staff.supervisor, reason=reason
        )
        history = await services.desk.history(
            escalation_id, staff.counsellor_id, supervisor=staff.supervisor, reason=reason
        )
        directory = [(s.id, s.name.get(staff_locale)) for s in services.content.knowledge.services]
        return page(
            request, "conversation.html", staff, escalation=escalation, lines=lines, outcomes=OUTCOMES,
            colleagues=colleagues, holds=holds, reason=None if holds else reason, saved=saved,
            person_locale=person_locale, notes=notes, history=history, reasons=REASONS, programme=PROGRAMME,
            risks=END_RISKS, directory=directory, zone=ZoneInfo(services.settings.timezone),
        )  # fmt: skip

    @router.get("/escalations/{escalation_id}/earlier")
    async def earlier_page(request: Request, escalation_id: RowId, reason: str | None = None) -> Response:
        """The returning person's words from before this contact, opened on purpose (audited each time)."""
        try:
            staff = await current(request)
        except NeedLogin:
            return RedirectResponse("/console/login", status_code=303)
        try:
            lines = await services.desk.earlier_transcript(
                escalation_id,
                staff.counsellor_id,
                staff_id=staff.id,
                supervisor=staff.supervisor,
                reason=reason,
            )
        except DeskError as exc:
            raise HTTPException(403, str(exc)) from exc
        return page(request, "earlier.html", staff, escalation_id=escalation_id, lines=lines, reason=reason)

    @router.post("/escalations/{escalation_id}/notes")
    async def add_note(
        request: Request, escalation_id: RowId, text: Annotated[str, Form(max_length=4000)],
        token: Annotated[str | None, Form()] = None,
    ) -> Response:  # fmt: skip
        staff = await current_api(request)
        check_form(request, token)
        try:
            await services.desk.add_note(escalation_id, staff.counsellor_id or 0, text, staff_id=staff.id)
        except DeskError as exc:
            raise HTTPException(409, str(exc)) from exc
        return RedirectResponse(f"/console/escalations/{escalation_id}#notes", status_code=303)

    @router.get("/api/escalations/{escalation_id}/messages")
    async def messages_json(
        escalation_id: RowId, staff: Annotated[Staff, Depends(current_api)], reason: str | None = None
    ) -> JSONResponse:
        """The transcript as JSON (the page polls it); audited like the page, with the same reasons."""
        try:
            lines = await services.desk.transcript(
                escalation_id, staff.counsellor_id, staff_id=staff.id, supervisor=staff.supervisor,
                reason=reason, via="api",
            )  # fmt: skip
        except ReasonNeeded as exc:
            # 403 without a reason (ask for one), 400 with a reason that is not one of the codes
            status = 400 if reason else 403
            return JSONResponse(
                {
                    "error": "reason_required" if status == 403 else "reason_invalid",
                    "detail": str(exc),
                    "message": {"vi": words("vi")["reason_required"], "en": words("en")["reason_required"]},
                    "reasons": list(READ_REASONS),
                },
                status_code=status,
            )
        except DeskError as exc:
            raise HTTPException(403, str(exc)) from exc
        async with services.sessionmaker() as session:
            status = await session.scalar(select(Escalation.status).where(Escalation.id == escalation_id))
        return JSONResponse(
            {
                "status": status,
                "lines": [{"who": who, "text": text, "at": at.isoformat()} for who, text, at in lines],
            }
        )

    @router.post("/escalations/{escalation_id}/reply")
    async def reply(
        request: Request, escalation_id: RowId, text: Annotated[str, Form()],
        token: Annotated[str | None, Form()] = None,
    ) -> Response:  # fmt: skip
        staff = await current_api(request)
        check_form(request, token)
        try:
            await services.desk.reply(escalation_id, staff.counsellor_id or 0, text)
        except DeskError as exc:
            raise HTTPException(409, str(exc)) from exc
        services.dispatcher.wake()
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"ok": True})
        return RedirectResponse(f"/console/escalations/{escalation_id}", status_code=303)

    @router.post("/escalations/{escalation_id}/close")
    async def close(
        request: Request, escalation_id: RowId, outcome: Annotated[str, Form()],
        reasons: Annotated[list[str], Form()], risk: Annotated[str, Form()],
        follow_up: Annotated[str, Form(pattern="^(yes|no)$")],
        referrals: Annotated[list[str] | None, Form()] = None, token: Annotated[str | None, Form()] = None,
    ) -> Response:  # fmt: skip
        """Close with the short form: reasons, the risk at the end, referrals made, follow-up wanted."""
        staff = await current_api(request)
        check_form(request, token)
        form = CloseForm(tuple(reasons), risk, tuple(referrals or ()), follow_up == "yes")
        try:
            await services.desk.close(
                escalation_id,
                staff.counsellor_id or 0,
                outcome,
                supervisor=staff.supervisor,
                staff_id=staff.id,
                form=form,
                directory_ids={s.id for s in services.content.knowledge.services},
            )
        except DeskError as exc:
            raise HTTPException(409, str(exc)) from exc
        services.dispatcher.wake()
        return RedirectResponse("/console", status_code=303)

    @router.post("/escalations/{escalation_id}/handover")
    async def hand_over(
        request: Request, escalation_id: RowId, to: FormRowId,
        token: Annotated[str | None, Form()] = None, note: Annotated[str | None, Form(max_length=4000)] = None,
    ) -> Response:  # fmt: skip
        staff = await current_api(request)
        check_form(request, token)
        try:
            await services.desk.hand_over(
                escalation_id, staff.counsellor_id or 0, to, note=note, staff_id=staff.id
            )
        except DeskError as exc:
            raise HTTPException(409, str(exc)) from exc
        services.dispatcher.wake()
        return RedirectResponse("/console", status_code=303)

    async def _fingerprint() -> str:
        async with services.sessionmaker() as session:
            rows = await session.execute(
                select(Escalation.id, Escalation.status, Escalation.taken_by).where(
                    Escalation.status.in_(("open", "taken"))
                )
            )
            messages = await session.scalar(select(func.max(Message.id)))
        return json.dumps([sorted(tuple(r) for r in rows.all()), messages or 0], default=str)

    @router.get("/events")
    async def events(request: Request, staff: Annotated[Staff, Depends(current_api)]) -> StreamingResponse:
        """Server-sent events: ``change`` whenever the queue or a transcript changes."""

        async def stream() -> AsyncIterator[bytes]:
            last = ""
            yield b"retry: 3000\n\n"
            for beat in itertools.count(1):
                if await request.is_disconnected():
                    break
                if beat % SESSION_CHECK_BEATS == 0 and not await web.still_logged_in(request):
                    break  # logged out or revoked: the page's next request is sent to the login
                fingerprint = await _fingerprint()
                if fingerprint != last:
                    last = fingerprint
                    yield b"event: change\ndata: {}\n\n"
                else:
                    yield b": keep-alive\n\n"
                await asyncio.sleep(1.5)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    @router.get("/rota")
    async def rota_page(request: Request) -> Response:
        try:
            staff = await current(request)
        except NeedLogin:
            return RedirectResponse("/console/login", status_code=303)
        async with services.sessionmaker() as session:
            chain = [c.display_name for c in await chain_at(session, services.clock.now())]
        return page(request, "rota.html", staff, chain=chain, message=None)

    @router.post("/rota")
    async def rota_import(
        request: Request, rota: Annotated[str, Form()], token: Annotated[str | None, Form()] = None,
        rebind: Annotated[bool, Form()] = False, reactivate: Annotated[bool, Form()] = False,
    ) -> Response:  # fmt: skip
        staff = await current_api(request)
        check_form(request, token)
        if not staff.supervisor:
            raise HTTPException(403, "only a supervisor can change the rota")
        t = words(locale_of(request))
        now = services.clock.now()
        pending: list[RotaChange] = []
        status = 200
        try:
            plan = parse_rota(rota, today=date.fromtimestamp(now.timestamp()))
            async with services.sessionmaker() as session, session.begin():
                result = await import_rota(
                    session, services.crypto, plan, now=now, rebind=rebind, reactivate=reactivate,
                    staff_id=staff.id, via="console",
                )  # fmt: skip
        except RotaNeedsConfirmation as exc:
            pending, message, status = exc.changes, t["rota_confirm"], 409
        except RotaError as exc:
            message, status = str(exc), 400
        else:
            message = t["rota_saved"].format(counsellors=result.counsellors, shifts=result.shifts)
        async with services.sessionmaker() as session:
            chain = [c.display_name for c in await chain_at(session, now)]
        # refused: the pasted rota comes back, so the supervisor can tick the confirmation and resend it
        shown = page(request, "rota.html", staff, chain=chain, message=message, pending=pending,
                     rota=rota if status != 200 else "")  # fmt: skip
        shown.status_code = status
        return shown

    return router


def install(app: Any, services: "ConsoleServices") -> None:
    """Mount the console on the app, with its login redirect."""
    from fastapi.staticfiles import StaticFiles

    from bot.console import moderation, stats

    app.include_router(build_router(services))
    app.include_router(stats.build_router(services))
    app.include_router(moderation.build_router(services))
    app.mount(
        "/console/static", StaticFiles(directory=Path(__file__).resolve().parent / "static"), name="console"
    )
