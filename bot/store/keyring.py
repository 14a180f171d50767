"""The key ring: which version of each rotatable key is in use, kept in the database (``key_versions``).

Every process reads it at start and again every ``HOTLINE_KEY_REFRESH_SECONDS`` (:class:`bot.runtime.
Services`), so a rotation reaches every running process without a restart. Only version numbers are
stored: the keys themselves are derived from the root secret (:mod:`bot.store.crypto`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.crypto import CONSOLE, ENCRYPTION, Crypto, KeyVersions
from bot.store.models import KeyVersion


async def load_versions(session: AsyncSession) -> KeyVersions:
    """The versions in use (version 1 for a purpose with no row: a deployment that never rotated)."""
    rows = {row.purpose: row for row in (await session.execute(select(KeyVersion))).scalars()}
    encryption, console = rows.get(ENCRYPTION), rows.get(CONSOLE)
    return KeyVersions(
        encryption=encryption.version if encryption else 1,
        encryption_previous=encryption.previous if encryption else None,
        console=console.version if console else 1,
    )


async def load_crypto(secret: bytes, sessionmaker: async_sessionmaker[AsyncSession]) -> Crypto:
    """A :class:`Crypto` with the key versions in use, for a command that writes without the services."""
    async with sessionmaker() as session:
        return Crypto(secret, await load_versions(session))
