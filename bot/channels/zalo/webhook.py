"""What both Zalo webhooks share: reading the JSON body safely, and the answers they give."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from bot.channels import kit
from bot.channels.kit import Refused, accepted

__all__ = ["MAX_BODY", "Refused", "accepted", "as_id", "read_json", "refuse"]

MAX_BODY = 64_000  # Zalo events are small; anything bigger is not from Zalo


def refuse(status: int, reason: str) -> JSONResponse:
    return kit.refuse("zalo", status, reason)


async def read_json(request: Request, max_bytes: int) -> tuple[bytes, Any]:
    """The raw body and its JSON, at most :data:`MAX_BODY` (:func:`bot.channels.kit.read_json`)."""
    return await kit.read_json(request, min(MAX_BODY, max_bytes))


def as_id(value: object) -> str | None:
    """A platform id (a string or a number) as a non-empty string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if -(10**128) < value < 10**128 else None
    if isinstance(value, str) and value.strip() and len(value) <= 128:
        return value.strip()
    return None
