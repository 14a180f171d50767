"""The OA's access token and its single-use refresh token, kept so that a restart loses neither.

The pair starts as ``HOTLINE_ZALO_OA_ACCESS_TOKEN`` / ``HOTLINE_ZALO_OA_REFRESH_TOKEN``. When Zalo says
the access token expired (-216), the refresh token is traded for a new pair, which is stored encrypted
in ``stored_secrets`` and used from then on, also after a restart. A refresh token works once, so two
refreshes must never run at once: an asyncio lock serialises them in a process, and the stored row is
locked (``SELECT ... FOR UPDATE``) across processes on PostgreSQL. Whoever comes second finds the new
pair already there and uses it.

The stored pair remembers a keyed fingerprint of the refresh token in the settings it grew from. When an
operator puts a *new* pair into the settings (after authorising the OA again), that one wins.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.zalo.errors import ZaloAuthError
from bot.channels.zalo.oa_api import OaApi, TokenPair
from bot.clock import Clock
from bot.settings import Settings
from bot.store.crypto import Crypto
from bot.store.models import StoredSecret

log = logging.getLogger(__name__)

ROW_NAME = "zalo_oa_tokens"
NO_TOKENS = (
    "The Zalo OA has no access token: set HOTLINE_ZALO_OA_ACCESS_TOKEN and HOTLINE_ZALO_OA_REFRESH_TOKEN, "
    "or store a pair with `hotline zalo-oa set-tokens`."
)


class OaTokens:
    """The current token pair of the Official Account."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        clock: Clock,
        settings: Settings,
        api: OaApi,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._crypto = crypto
        self._clock = clock
        self._settings = settings
        self._api = api
        self._lock = asyncio.Lock()
        self._current: TokenPair | None = None

    def _seed(self) -> str:
        token = self._settings.zalo_oa_refresh_token
        return self._crypto.ref_hash("zalo_oa_seed", token.get_secret_value()) if token else ""

    def _from_settings(self) -> TokenPair | None:
        access, refresh = self._settings.zalo_oa_access_token, self._settings.zalo_oa_refresh_token
        return TokenPair(access, refresh) if access and refresh else None

    def _encode(self, pair: TokenPair) -> str:
        return self._crypto.encrypt_json(
            {
                "access_token": pair.access_token.get_secret_value(),
                "refresh_token": pair.refresh_token.get_secret_value(),
                "seed": self._seed(),
            }
        )

    def _decode(self, row: StoredSecret | None) -> TokenPair | None:
        """The stored pair, unless the settings hold a newer one than the pair it grew from."""
        if row is None:
            return None
        data = self._crypto.decrypt_json(row.value_enc)
        if data.get("seed") != self._seed():
            return None
        return TokenPair(SecretStr(data["access_token"]), SecretStr(data["refresh_token"]))

    async def current(self) -> TokenPair:
        """The pair to use now (read once, then kept in memory)."""
        if self._current is None:
            async with self._sessionmaker() as session:
                row = await session.get(StoredSecret, ROW_NAME)
                pair = self._decode(row) or self._from_settings()
            if pair is None:
                raise ZaloAuthError(NO_TOKENS)
            self._current = pair
        return self._current

    async def refresh(self, stale: SecretStr) -> TokenPair:
        """A working pair after Zalo refused ``stale``: refreshed here, or by whoever was first."""
        async with self._lock:
            now = self._clock.now()
            async with self._sessionmaker() as session, session.begin():
                row = await self._locked_row(session)
                pair = self._decode(row) or self._from_settings()
                if pair is None:
                    raise ZaloAuthError(NO_TOKENS)
                if pair.access_token.get_secret_value() != stale.get_secret_value():
                    self._current = pair  # refreshed already (by another task or process)
                    return pair
                settings = self._settings
                if settings.zalo_oa_app_id is None or settings.zalo_oa_app_secret is None:
                    raise ZaloAuthError(
                        "The OA access token expired and cannot be refreshed: set HOTLINE_ZALO_OA_APP_SECRET."
                    )
                new = await self._api.refresh(
                    settings.zalo_oa_app_id, settings.zalo_oa_app_secret, pair.refresh_token
                )
                self._current = new  # the old refresh token is spent: keep the new one even if saving fails
                if row is None:
                    session.add(StoredSecret(name=ROW_NAME, value_enc=self._encode(new), updated_at=now))
                else:
                    row.value_enc = self._encode(new)
                    row.updated_at = now
            log.info("zalo-oa: access token refreshed and stored")
            return new

    async def _locked_row(self, session: AsyncSession) -> StoredSecret | None:
        """The stored pair's row, locked for this transaction on PostgreSQL (created there if missing)."""
        query = select(StoredSecret).where(StoredSecret.name == ROW_NAME).with_for_update()
        row = (await session.execute(query)).scalar_one_or_none()
        first = self._from_settings()
        if row is not None or first is None:
            return row
        # No stored pair yet: write the settings' pair first, so that there is a row to lock.
        seeded = StoredSecret(name=ROW_NAME, value_enc=self._encode(first), updated_at=self._clock.now())
        try:
            async with session.begin_nested():
                session.add(seeded)
                await session.flush()
        except IntegrityError:
            return (await session.execute(query)).scalar_one()  # another process wrote it: wait for its lock
        return seeded

    async def store(self, pair: TokenPair) -> None:
        """Keep a pair obtained by hand (after authorising the OA again); used from now on."""
        async with self._lock:
            now = self._clock.now()
            async with self._sessionmaker() as session, session.begin():
                query = select(StoredSecret).where(StoredSecret.name == ROW_NAME).with_for_update()
                row = (await session.execute(query)).scalar_one_or_none()
                if row is None:
                    session.add(StoredSecret(name=ROW_NAME, value_enc=self._encode(pair), updated_at=now))
                else:
                    row.value_enc = self._encode(pair)
                    row.updated_at = now
            self._current = pair
