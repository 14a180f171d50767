"""Console logins: Argon2 password hashes (checked in worker threads), the keys behind the session cookie,
the form token and the known-browser ("device") cookie.

The session itself lives in the database (:mod:`bot.console.sessions`); this module only makes and
hashes the random tokens, with a key of its own, so that a new console key ends every session.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import StaffAccount

COOKIE = "hotline_console"
DEVICE_COOKIE = "hotline_device"
DEVICE_DAYS = 180
# Browsers one device cookie remembers (a shared office computer): the oldest is dropped beyond this.
DEVICE_ENTRIES = 5
# Password checks at a time per process: Argon2 takes tens of milliseconds of CPU and memory each, and a
# burst of logins must not take every worker thread (nor every core) from the rest of the service.
# Half the cores (one on a 2-core server); known browsers have one more slot of their own (:class:`Hashing`).
HASHING_SLOTS = max(1, (os.cpu_count() or 2) // 2)
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


class Hashing:
    """Argon2 off the event loop: in worker threads, at most ``slots`` at a time (the others wait their
    turn), so that ``/healthz``, the web chat and the console keep answering during a burst of logins.

    Browsers that have logged in as the user before (a valid device cookie) check on a slot of their own:
    a flood of attempts from unknown browsers, each from a new address (a botnet the throttle cannot
    hold), makes strangers wait in line, never a counsellor at her own computer."""

    def __init__(self, slots: int = HASHING_SLOTS, known: int = 1) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._known = asyncio.Semaphore(known)

    async def verify(self, password_hash: str, password: str, *, known: bool = False) -> bool:
        async with self._known if known else self._slots:
            return await asyncio.to_thread(verify_password, password_hash, password)

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(hash_password, password)


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
    """The console's keyed hashes: of session tokens (the database keeps only these), of the form token
    bound to a session, and of known-browser cookies. All from the console key
    (:func:`bot.store.crypto.console_key`): a new key ends every session and forgets every known browser,
    and nothing else."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def new_token() -> str:
        """A random session token for the cookie (256 bits)."""
        return secrets.token_urlsafe(32)

    def token_hash(self, token: str) -> str:
        """What the database keeps of a session token."""
        return self._sign("session:" + token)

    def form_token(self, cookie: str) -> str:
        return self._sign("form:" + cookie)[:32]

    def check_form_token(self, cookie: str, token: str | None) -> bool:
        return bool(cookie) and bool(token) and _same(self.form_token(cookie), token or "")

    def _device_signature(self, username: str, nonce: str) -> str:
        return self._sign(f"device:{username.casefold()}:{nonce}")[:32]

    def known_device(self, cookie: str | None, username: str) -> str | None:
        """The id of this browser if its device cookie says ``username`` logged in from it, else None."""
        for entry in (cookie or "").split("~")[:DEVICE_ENTRIES]:
            nonce, _, signature = entry.partition(".")
            if nonce and _same(signature, self._device_signature(username, nonce)):
                return nonce
        return None

    def add_device(self, cookie: str | None, username: str) -> str:
        """The device cookie after ``username`` logged in from this browser (a new entry first)."""
        kept = [e for e in (cookie or "").split("~") if e and self.known_device(e, username) is None]
        nonce = secrets.token_urlsafe(12)
        entry = f"{nonce}.{self._device_signature(username, nonce)}"
        return "~".join([entry, *kept][:DEVICE_ENTRIES])


def _same(expected: str, given: str) -> bool:
    """A constant-time comparison that takes any text (``hmac.compare_digest`` raises on non-ASCII str)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


async def authenticate(
    sessionmaker: async_sessionmaker[AsyncSession], hashing: Hashing, username: str, password: str,
    *, known: bool = False,
) -> tuple[Staff | None, int | None]:  # fmt: skip
    """The member of staff if the password is right; and the id of the account the name belongs to (for
    the audit of a refusal), if any. The password is checked with no database connection held; ``known``:
    from a browser known to have logged in as ``username`` (:class:`Hashing`)."""
    async with sessionmaker() as session:
        account = (
            await session.execute(select(StaffAccount).where(StaffAccount.username == username))
        ).scalar_one_or_none()
    if account is None or not account.active:
        await hashing.verify(_dummy_hash(), password)
        return None, account.id if account is not None else None
    if not await hashing.verify(account.password_hash, password, known=known):
        return None, account.id
    return Staff(account.id, account.username, account.role, account.counsellor_id), account.id


async def load_staff(session: AsyncSession, staff_id: int) -> Staff | None:
    account = await session.get(StaffAccount, staff_id)
    if account is None or not account.active:
        return None
    return Staff(account.id, account.username, account.role, account.counsellor_id)
