"""Console logins: Argon2 password hashes, a signed session cookie, a per-session form token."""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import StaffAccount

COOKIE = "hotline_console"
LIFETIME_SECONDS = 12 * 3600
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user name is unknown, so both cases take the same time. Made
    on first use, not at import: argon2 is slow on purpose, and every start-up would pay for it."""
    return _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Staff:
    """The logged-in member of staff."""

    id: int
    username: str
    role: str
    counsellor_id: int | None

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


class Sessions:
    """Signs and checks the session cookie and the form token with the console key
    (:func:`bot.store.crypto.console_key`: a new one ends every session)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    def issue(self, staff_id: int, now: float | None = None) -> str:
        expires = int((now or time.time()) + LIFETIME_SECONDS)
        value = f"{staff_id}.{expires}"
        return f"{value}.{self._sign(value)}"

    def read(self, cookie: str | None, now: float | None = None) -> int | None:
        """The staff id in a valid, unexpired cookie, else None."""
        if not cookie or cookie.count(".") != 2:
            return None
        staff_id, expires, signature = cookie.split(".")
        if not hmac.compare_digest(signature, self._sign(f"{staff_id}.{expires}")):
            return None
        if not staff_id.isdigit() or not expires.isdigit() or int(expires) < (now or time.time()):
            return None
        return int(staff_id)

    def form_token(self, cookie: str) -> str:
        return self._sign("form:" + cookie)[:32]

    def check_form_token(self, cookie: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.form_token(cookie), token or "")


async def authenticate(session: AsyncSession, username: str, password: str) -> Staff | None:
    account = (
        await session.execute(
            select(StaffAccount).where(StaffAccount.username == username, StaffAccount.active)
        )
    ).scalar_one_or_none()
    if account is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(account.password_hash, password):
        return None
    return Staff(account.id, account.username, account.role, account.counsellor_id)


async def load_staff(session: AsyncSession, staff_id: int) -> Staff | None:
    account = await session.get(StaffAccount, staff_id)
    if account is None or not account.active:
        return None
    return Staff(account.id, account.username, account.role, account.counsellor_id)
