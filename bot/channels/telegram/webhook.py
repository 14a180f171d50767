"""``POST /telegram/webhook``: where Telegram delivers updates when a webhook is set.

What it answers, and why (Telegram sends an update again until it gets a 2xx):

* no or a wrong ``X-Telegram-Bot-Api-Secret-Token``: **401** before the body is read; nothing is parsed
  and nothing reaches the engine. (With no secret configured the webhook refuses everything.)
* a body over 256 kB: **413**; not JSON, JSON nested over 32 levels (:mod:`bot.http.jsonbody`), or JSON
  without an ``update_id``: **400**. Telegram never
  sends these, so the refusal is for whoever did, and says what is wrong.
* an update aiogram cannot read, or of a type this version does not know, an edited message, a group
  message: **200**, and nothing happens. Sending it again would not change that, so it is dropped. One
  that cannot be read is logged with its update type and the paths of the fields that failed
  (``message.from.is_bot``), never their values: ids and words stay out of the log.
* the engine could not take it (the database is down): **503**. The engine's transaction was rolled
  back, so nothing is half-written, and the update, sent again, is handled once (by its message id).
* otherwise **200** at once: the replies go out through the outbox, which is woken for them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiogram.types import Update
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from bot.channels.kit import Refused, read_json, refuse

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel

log = logging.getLogger(__name__)

PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_UPDATE_BYTES = 256_000


def _refuse(status: int, message: str) -> JSONResponse:
    return refuse("telegram", status, message)


def unreadable(data: dict[str, Any], exc: ValidationError) -> tuple[str, str]:
    """The update's type and the paths of the fields that failed validation, for the log (no values)."""
    kinds = [key[:40] for key in data if key != "update_id"]
    paths = sorted(
        {".".join(str(part)[:40] for part in error["loc"]) for error in exc.errors(include_input=False)}
    )
    more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
    return ",".join(kinds[:3]) or "no type", ", ".join(paths[:5]) + more


def webhook_router(channel: TelegramChannel) -> APIRouter:
    """The webhook route for one channel."""
    router = APIRouter()
    max_bytes = min(MAX_UPDATE_BYTES, channel.door.settings.max_body_bytes)

    @router.post(PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        if not channel.secret_matches(request.headers.get(SECRET_HEADER)):
            return _refuse(401, f"missing or wrong {SECRET_HEADER}")
        try:
            _, data = await read_json(request, max_bytes)
        except Refused as exc:
            return _refuse(exc.status, exc.reason)
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            return _refuse(400, "not a Telegram update: `update_id` is missing")
        try:
            update = Update.model_validate(data, context={"bot": channel.bot})
        except ValidationError as exc:
            kind, fields = unreadable(data, exc)
            log.warning("telegram update (%s) could not be read and was dropped; invalid: %s", kind, fields)
            return Response(status_code=200)
        try:
            await channel.feed(update)
        except Exception as exc:
            log.error(
                "telegram update not handled (%s); Telegram will send it again", type(exc).__name__,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )  # fmt: skip
            return _refuse(503, "the update could not be handled now; send it again")
        return Response(status_code=200)

    return router
