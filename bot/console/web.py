"""What every console page needs: who is logged in, the page template, the form token.

Shared by the console's routers (``routes.py``, ``stats.py``). The session cookie holds a random token
whose keyed hash finds the session in the database (:mod:`bot.console.sessions`); the key is the console key
(bot/store/crypto.py), so every router that builds a :class:`ConsoleWeb` reads the same cookies, and a new
console key ends every session.
"""

# No `from __future__ import annotations` here: FastAPI resolves the signatures of these methods
# (``Depends(web.current_api)``) at run time.
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bot.console import sessions as console_sessions
from bot.console.auth import COOKIE, Hashing, Sessions, Staff, load_staff
from bot.console.i18n import words
from bot.console.sessions import Lifetimes

if TYPE_CHECKING:
    from bot.console.deps import ConsoleServices

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
# The security headers every response gets are added by bot/web/headers.py.
PAGE_HEADERS = {"Cache-Control": "no-store"}


class NeedLogin(Exception):
    """Raised inside a route: send the browser to the login page."""


class ConsoleWeb:
    """Login state and page rendering for the console's routes."""

    def __init__(self, services: "ConsoleServices") -> None:
        self.services = services
        settings = services.settings
        self._sessions_key = services.crypto.console_key
        self._sessions = Sessions(self._sessions_key)
        self.hashing = Hashing()
        self.lifetimes = Lifetimes(
            idle=timedelta(minutes=settings.console_idle_minutes),
            absolute=timedelta(hours=settings.console_session_hours),
        )
        self.secure = settings.public_url.startswith("https://")

    @property
    def sessions(self) -> Sessions:
        """Sessions under the console key in use: after `hotline rotate-key console` (learnt by every
        process within HOTLINE_KEY_REFRESH_SECONDS) no earlier session is valid. Read it per request, never
        keep it."""
        key = self.services.crypto.console_key
        if self._sessions_key != key:
            self._sessions, self._sessions_key = Sessions(key), key
        return self._sessions

    def locale_of(self, request: Request) -> str:
        return "en" if request.cookies.get("console_lang") == "en" else "vi"

    async def current(self, request: Request) -> Staff:
        """The logged-in member of staff; raises :class:`NeedLogin` when there is none."""
        token = request.cookies.get(COOKIE)
        if not token:
            raise NeedLogin
        async with self.services.sessionmaker() as session, session.begin():
            staff_id = await console_sessions.find(
                session, self.sessions, token, now=self.services.clock.now(), lifetimes=self.lifetimes
            )
            staff = None if staff_id is None else await load_staff(session, staff_id)
        if staff is None:
            raise NeedLogin
        return staff

    async def still_logged_in(self, request: Request) -> bool:
        """Whether the request's session is still live, without counting this as a use (an open event
        stream must not keep a session from going idle)."""
        async with self.services.sessionmaker() as session:
            return (
                await console_sessions.find(
                    session, self.sessions, request.cookies.get(COOKIE), now=self.services.clock.now(),
                    lifetimes=self.lifetimes, touch=False,
                )
                is not None
            )  # fmt: skip

    async def current_api(self, request: Request) -> Staff:
        """Like :meth:`current`, for JSON and form endpoints: 401 instead of a redirect."""
        try:
            return await self.current(request)
        except NeedLogin:
            raise HTTPException(401, "log in first") from None

    def check_form(self, request: Request, token: str | None) -> None:
        cookie = request.cookies.get(COOKIE) or ""
        if not self.sessions.check_form_token(cookie, token):
            raise HTTPException(403, "the form has expired: reload the page")

    def page(self, request: Request, template: str, staff: Staff | None, **values: Any) -> HTMLResponse:
        """Render a console template with the words of the staff's language and the form token."""
        locale = self.locale_of(request)
        cookie = request.cookies.get(COOKIE) or ""
        return TEMPLATES.TemplateResponse(
            request,
            template,
            {
                "t": words(locale),
                "locale": locale,
                "staff": staff,
                "token": self.sessions.form_token(cookie) if cookie else "",
                **values,
            },
            headers=PAGE_HEADERS,
        )
