"""What every channel module may use, so that no channel imports another: webhook answers and body
reading, and replies as plain text for a platform without buttons.

Webhooks
    :func:`refuse` answers a refused request (a status and a short reason, counted in
    ``hotline_webhook_refused_total``), :func:`read_json` reads a JSON body under a size limit (413 past
    it, 400 when it is not JSON or nested too deeply, as :class:`Refused`), :func:`accepted` is the
    200 a sender must not retry.

Numbered choices
    :func:`blocks` renders replies as texts: the last list of choices in a batch is numbered (the engine
    maps a typed ``2``, or the label itself, to the second choice of the node the conversation waits on);
    earlier lists (related articles) are bullets, so that a number is never ambiguous. :func:`split` cuts
    a long text under a platform's limit at a paragraph, line or word.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from bot.errors import HotlineError
from bot.http.jsonbody import BadJson
from bot.http.jsonbody import read_json as read_json_body
from bot.messages import Reply
from bot.metrics import webhook_refused

SEPARATORS = ("\n\n", "\n", " ")


class Refused(HotlineError):
    """A webhook request refused before anything is processed (status and a short reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def refuse(channel: str, status: int, reason: str) -> JSONResponse:
    """The answer to a refused webhook request, counted by channel and status."""
    webhook_refused(channel, status)
    return JSONResponse({"error": reason}, status_code=status)


def accepted(ignored: str | None = None) -> JSONResponse:
    """200: the sender must not send it again (also for what is deliberately ignored, saying why)."""
    body: dict[str, Any] = {"ok": True}
    if ignored:
        body["ignored"] = ignored
    return JSONResponse(body)


async def read_json(request: Request, max_bytes: int) -> tuple[bytes, Any]:
    """The raw body (for signatures) and its JSON: 413 past ``max_bytes`` (an ``HTTPException``, before
    the rest is read); :class:`Refused` with 400 when it is not JSON or is nested too deeply
    (:mod:`bot.http.jsonbody`)."""
    try:
        return await read_json_body(request, max_bytes)
    except BadJson as exc:
        raise Refused(400, str(exc)) from None


# -- replies as text -------------------------------------------------------------------------------


def block(reply: Reply, *, numbered: bool) -> str:
    """One reply as text, with its choices below it."""
    if not reply.choices:
        return reply.text
    if numbered:
        lines = [f"{n}. {choice.label}" for n, choice in enumerate(reply.choices, start=1)]
    else:
        lines = [f"• {choice.label}" for choice in reply.choices]
    return reply.text.rstrip() + "\n\n" + "\n".join(lines)


def blocks(replies: Sequence[Reply]) -> list[str]:
    """Each reply as text; only the last list of choices is numbered."""
    last = max((i for i, reply in enumerate(replies) if reply.choices), default=-1)
    return [
        block(reply, numbered=i == last) for i, reply in enumerate(replies) if reply.text or reply.choices
    ]


def split(text: str, limit: int, units: Callable[[str], int] = len) -> list[str]:
    """Cut a text into parts of at most ``limit`` (as ``units`` counts), at a paragraph, line or word
    where possible."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if units(rest) <= limit:
            parts.append(rest)
            break
        cut = limit
        while units(rest[:cut]) > limit:  # e.g. emoji count twice in UTF-16
            cut -= 1
        head = rest[:cut]
        for separator in SEPARATORS:
            at = head.rfind(separator)
            if at > limit // 3:
                head = head[:at]
                break
        parts.append(head.rstrip())
        rest = rest[len(head) :].strip()
    return [part for part in parts if part]
