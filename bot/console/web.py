"""What every console page needs: who is logged in, the page template, the form token.

Shared by the console's routers (``routes.py``, ``stats.py``). The session cookie is signed with the console
key (bot/store/crypto.py), so every router that builds a :class:`ConsoleWeb` reads the same cookies.
"""

# No `from __future__ import annotations` here: FastAPI resolves the signatures of these methods
# (``Depends(web.current_api)``) at run time.
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bot.console.auth import COOKIE, Sessions, Staff, load_staff
from bot.console.i18n import words

if TYPE_CHECKING:
    from bot.runtime import Services

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


class NeedLogin(Exception):
    """Raised inside a route: send the browser to the login page."""


class ConsoleWeb:
    """Login state and page rendering for the console's routes."""

    def __init__(self, services: "Services") -> None:
        self.services = services
        self._sessions_key = services.crypto.console_key
        self._sessions = Sessions(self._sessions_key)
        self.secure = services.settings.public_url.startswith("https://")

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
        staff_id = self.sessions.read(request.cookies.get(COOKIE))
        if staff_id is None:
            raise NeedLogin
        async with self.services.sessionmaker() as session:
            staff = await load_staff(session, staff_id)
        if staff is None:
            raise NeedLogin
        return staff

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
