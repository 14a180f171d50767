"""What both Zalo webhooks share: reading the JSON body safely, and the answers they give."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from bot.channels.zalo.errors import ZaloError
from bot.http.jsonbody import BadJson
from bot.http.jsonbody import read_json as read_json_body
from bot.metrics import webhook_refused

MAX_BODY = 64_000  # Zalo events are small; anything bigger is not from Zalo


class Refused(ZaloError):
    """A webhook request refused before anything is processed (status and a short reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def refuse(status: int, reason: str) -> JSONResponse:
    webhook_refused("zalo", status)
    return JSONResponse({"error": reason}, status_code=status)


def accepted(ignored: str | None = None) -> JSONResponse:
    """200: Zalo must not send it again (also for what we deliberately ignore)."""
    body: dict[str, Any] = {"ok": True}
    if ignored:
        body["ignored"] = ignored
    return JSONResponse(body)


async def read_json(request: Request, max_bytes: int) -> tuple[bytes, Any]:
    """The raw body (for signatures) and its JSON; :class:`Refused` (400/413) when it is not (or is nested
    too deeply, :mod:`bot.http.jsonbody`)."""
    try:
        return await read_json_body(request, min(MAX_BODY, max_bytes))
    except BadJson as exc:
        raise Refused(400, str(exc)) from None


def as_id(value: object) -> str | None:
    """A platform id (a string or a number) as a non-empty string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if -(10**128) < value < 10**128 else None
    if isinstance(value, str) and value.strip() and len(value) <= 128:
        return value.strip()
    return None
