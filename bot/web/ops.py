"""What an operator's monitoring reads: ``GET /readyz`` (may this process take traffic) and ``GET /metrics``.

``/healthz`` (in :mod:`bot.web.app`) stays the liveness check: the process answers. ``/readyz`` says
whether it can do its work, and if not, why, in short words (never a secret or an error's text):

* ``database``: a ``SELECT 1`` did not answer within :data:`DB_TIMEOUT_SECONDS`;
* ``content`` / ``model``: the flows and articles, or the language model, are not loaded;
* ``dispatcher_starting`` / ``dispatcher_stale``: this process runs the outbox dispatcher, and it has not
  looked for due events yet, or not for :func:`stale_after` seconds (it is stuck or died);
* ``starting:<channel>`` / ``failed:<channel>``: a channel or pager built after start-up
  (:mod:`bot.channels.pending`) is not built yet, or could not be.

``/metrics`` is off the public site: 404 unless ``HOTLINE_METRICS_TOKEN`` is set, then 401 unless the
request carries ``Authorization: Bearer <token>``. The outbox, rota and readiness gauges are computed
here, in the async route, before the registry is rendered (a collector would run synchronously, with
no way to query the database without blocking the event loop).
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select, text

from bot.escalation.rota import chain_at
from bot.metrics import CONTENT_TYPE, Gauge, render, word
from bot.store.models import OutboxEvent

if TYPE_CHECKING:
    from bot.runtime import Services

DB_TIMEOUT_SECONDS = 2.0

OUTBOX_DEPTH = Gauge(
    "hotline_outbox_depth", "Outbox events waiting, by kind and status (pending, held).", ["kind", "status"]
)
OUTBOX_OLDEST = Gauge(
    "hotline_outbox_oldest_age_seconds",
    "By kind and status: for pending, how long since the oldest event that is due now was written; for "
    "held, how long the oldest has been held.",
    ["kind", "status"],
)
OUTBOX_DEAD = Gauge("hotline_outbox_dead_rows", "Outbox events given up (status dead), by kind.", ["kind"])
ONCALL = Gauge(
    "hotline_oncall_counsellors", "Counsellors on call now in the rota (the paging chain's length)."
)
READY = Gauge("hotline_ready", "1 if GET /readyz would answer 200 (this process can do its work), else 0.")
NOT_READY = Gauge("hotline_not_ready", "1 for each reason GET /readyz gives now (a fixed word).", ["reason"])


def stale_after(services: Services) -> float:
    """How long the dispatcher may go without looking for due events: it looks at least every interval."""
    return max(30.0, 10 * services.settings.dispatcher_interval_seconds)


async def readiness(services: Services) -> list[str]:
    """Why this process cannot do its work now (empty: it can)."""
    reasons: list[str] = []
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS), services.db.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # whatever the driver raises: the reason is the same word
        reasons.append("database")
    if not services.content.flows.nodes or not services.content.knowledge.articles:
        reasons.append("content")
    if services.nlu is None or not getattr(services.nlu, "ready", True):
        reasons.append("model")
    if services.dispatching:
        last = services.dispatcher.last_cycle
        if last is None:
            reasons.append("dispatcher_starting")
        elif (services.clock.now() - last).total_seconds() > stale_after(services):
            reasons.append("dispatcher_stale")
    for pending, _ in services.later:
        if not pending.ready:
            reasons.append(f"starting:{pending.name}")
    reasons.extend(f"failed:{name}" for name in services.failed())
    return reasons


def refused(request: Request, services: Services) -> Response | None:
    """Without a metrics token set: 404, word for word what an unknown path gets (nothing says the route
    exists). Without the right bearer token: 401. Compared in constant time."""
    token = services.settings.metrics_token
    expected = token.get_secret_value().encode() if token is not None else b""
    if not expected:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        return JSONResponse(
            {"error": "a bearer token is needed"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    return None


async def refresh_gauges(services: Services) -> None:
    """Set the gauges read from the database and the rota (cheap: the outbox's status index)."""
    now = services.clock.now()
    async with services.sessionmaker() as session:
        waiting = await session.execute(
            select(OutboxEvent.kind, OutboxEvent.status, func.count())
            .where(OutboxEvent.status.in_(("pending", "held", "dead")))
            .group_by(OutboxEvent.kind, OutboxEvent.status)
        )
        due = await session.execute(
            select(OutboxEvent.kind, func.min(OutboxEvent.created_at))
            .where(OutboxEvent.status == "pending", OutboxEvent.not_before <= now)
            .group_by(OutboxEvent.kind)
        )
        held = await session.execute(
            select(OutboxEvent.kind, func.min(OutboxEvent.not_before))
            .where(OutboxEvent.status == "held")
            .group_by(OutboxEvent.kind)
        )
        oncall = len(await chain_at(session, now))
    counts = list(waiting.all())
    oldest: dict[tuple[str, str], datetime] = {(kind, "pending"): at for kind, at in due.all()}
    oldest |= {(kind, "held"): at for kind, at in held.all()}
    for gauge in (OUTBOX_DEPTH, OUTBOX_OLDEST, OUTBOX_DEAD):
        gauge.clear()  # a kind that emptied must not keep its last value
    for kind, status, count in counts:
        if status == "dead":
            OUTBOX_DEAD.labels(kind=word(kind)).set(count)
            continue
        OUTBOX_DEPTH.labels(kind=word(kind), status=status).set(count)
        at = oldest.get((kind, status))
        age = max((now - at).total_seconds(), 0.0) if at is not None else 0.0
        OUTBOX_OLDEST.labels(kind=word(kind), status=status).set(age)
    ONCALL.set(oncall)


def install(app: FastAPI, services: Services) -> None:
    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """200 ``{"ready": true}``, or 503 with the reasons (short words)."""
        reasons = await readiness(services)
        if reasons:
            return JSONResponse({"ready": False, "reasons": reasons}, status_code=503)
        return JSONResponse({"ready": True})

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        refusal = refused(request, services)
        if refusal is not None:
            return refusal
        reasons = await readiness(services)
        READY.set(0 if reasons else 1)
        NOT_READY.clear()
        for reason in reasons:
            NOT_READY.labels(reason=word(reason.partition(":")[0])).set(1)
        if "database" not in reasons:
            await refresh_gauges(services)
        return Response(render(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
