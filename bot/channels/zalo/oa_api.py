"""The Zalo Official Account HTTP API: customer-service messages and the OAuth v4 token refresh.

* ``POST {api}/v3.0/oa/message/cs``, header ``access_token``, body
  ``{"recipient": {"user_id": ...}, "message": {"text": ...}}``; the answer is ``{"error": 0, ...}`` when
  sent, else a negative code (``-216``: the access token expired).
* ``POST {oauth}/v4/oa/access_token``, header ``secret_key`` (the app secret), form ``app_id``,
  ``grant_type=refresh_token``, ``refresh_token``: a new access token *and* a new refresh token. The
  refresh token is single-use: the old one is dead once this answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from bot.channels.zalo.errors import ZaloApiError, ZaloAuthError, scrub

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
SENT = 0
EXPIRED_TOKEN = -216


@dataclass(frozen=True)
class TokenPair:
    """An OA access token and the refresh token that replaces it (both never print)."""

    access_token: SecretStr
    refresh_token: SecretStr


class OaApi:
    """A small client for the two calls the hotline makes."""

    def __init__(self, api_url: str, oauth_url: str, http: httpx.AsyncClient) -> None:
        self._api = api_url.rstrip("/")
        self._oauth = oauth_url.rstrip("/")
        self._http = http

    async def _post(self, url: str, what: str, **kwargs: Any) -> tuple[int, Any]:
        try:
            response = await self._http.post(url, timeout=TIMEOUT, **kwargs)
        except httpx.HTTPError as exc:
            raise ZaloApiError(None, f"{what}: Zalo unreachable ({type(exc).__name__})") from None
        try:
            return response.status_code, response.json()
        except ValueError:
            raise ZaloApiError(response.status_code, f"{what}: the answer is not JSON") from None

    async def check(self, access_token: SecretStr) -> tuple[int, str]:
        """Ask for the OA's own profile (``GET {api}/v2.0/oa/getoa``): Zalo's error code (0: the access
        token works) and its message. Sends nothing to anyone (``hotline doctor``)."""
        try:
            response = await self._http.get(
                f"{self._api}/v2.0/oa/getoa",
                headers={"access_token": access_token.get_secret_value()},
                timeout=TIMEOUT,
            )
            data = response.json()
        except httpx.HTTPError as exc:
            raise ZaloApiError(None, f"getoa: Zalo unreachable ({type(exc).__name__})") from None
        except ValueError:
            raise ZaloApiError(response.status_code, "getoa: the answer is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("error"), int):
            raise ZaloApiError(response.status_code, "getoa: unexpected answer")
        return data["error"], scrub(data.get("message", ""))

    async def send_text(self, access_token: SecretStr, user_id: str, text: str) -> tuple[int, str]:
        """Send one customer-service text; Zalo's error code (0 when sent) and its message."""
        status, data = await self._post(
            f"{self._api}/v3.0/oa/message/cs",
            "message/cs",
            headers={"access_token": access_token.get_secret_value()},
            json={"recipient": {"user_id": user_id}, "message": {"text": text}},
        )
        if not isinstance(data, dict) or not isinstance(data.get("error"), int):
            raise ZaloApiError(status, "message/cs: unexpected answer")
        return data["error"], scrub(data.get("message", ""))

    async def refresh(self, app_id: str, app_secret: SecretStr, refresh_token: SecretStr) -> TokenPair:
        """Trade the (single-use) refresh token for a new pair; :class:`ZaloAuthError` if it is refused."""
        status, data = await self._post(
            f"{self._oauth}/v4/oa/access_token",
            "oauth refresh",
            headers={"secret_key": app_secret.get_secret_value()},
            data={
                "app_id": app_id,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token.get_secret_value(),
            },
        )
        access = data.get("access_token") if isinstance(data, dict) else None
        refresh = data.get("refresh_token") if isinstance(data, dict) else None
        if isinstance(access, str) and access and isinstance(refresh, str) and refresh:
            return TokenPair(SecretStr(access), SecretStr(refresh))
        code = data.get("error") if isinstance(data, dict) else status
        name = scrub(data.get("error_name", "")) if isinstance(data, dict) else ""
        raise ZaloAuthError(
            f"Zalo refused the OA refresh token (error {code} {name}). Authorise the OA again "
            "(Zalo for Developers) and store the new pair with `hotline zalo-oa set-tokens`."
        )
