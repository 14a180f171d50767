"""The Zalo Bot Platform's HTTP API: ``POST {base}/bot{token}/{method}`` with a JSON body.

Answers are ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...}``
(much like Telegram's). The token is part of the URL, so neither URLs nor httpx's own exceptions are
ever put into our errors or logs.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from bot.channels.zalo.errors import ZaloApiError, ZaloAuthError

TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class BotApi:
    """A small client for the methods the hotline uses: getMe, setWebhook, sendMessage."""

    def __init__(self, base_url: str, token: SecretStr, http: httpx.AsyncClient) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._http = http

    async def call(self, method: str, payload: dict[str, Any] | None = None) -> Any:
        """Call a method; its ``result``, or :class:`ZaloApiError` / :class:`ZaloAuthError`."""
        url = f"{self._base}/bot{self._token.get_secret_value()}/{method}"
        try:
            response = await self._http.post(url, json=payload or {}, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            raise ZaloApiError(None, f"{method}: Zalo Bot API unreachable ({type(exc).__name__})") from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ZaloApiError(response.status_code, f"{method}: the answer is not JSON")
        if data.get("ok") is True:
            return data.get("result")
        code = data.get("error_code")
        code = code if isinstance(code, int) else response.status_code
        description = f"{method}: {data.get('description') or 'no description'}"
        # 401 is always the token; a 403 to sendMessage is about the chat (e.g. the person blocked the bot).
        if code == 401 or (code == 403 and method != "sendMessage"):
            raise ZaloAuthError(
                f"Zalo refused the bot token ({code}): check HOTLINE_ZALO_BOT_TOKEN (Zalo Bot Manager shows it)."
            )
        retry_after = None
        if code == 429:
            parameters = data.get("parameters")
            after = parameters.get("retry_after") if isinstance(parameters, dict) else None
            retry_after = float(after) if isinstance(after, int | float) else 5.0
        raise ZaloApiError(code, description, retry_after=retry_after)

    async def get_me(self) -> dict[str, Any]:
        result = await self.call("getMe")
        return result if isinstance(result, dict) else {}

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def send_message(self, chat_id: str, text: str) -> None:
        await self.call("sendMessage", {"chat_id": chat_id, "text": text})
