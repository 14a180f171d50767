"""The ASGI app: one process serves the web chat, every webhook and the console."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from bot.channels.pending import PendingChannel
from bot.console import routes as console
from bot.http.cross_site import WebChatCors
from bot.http.direct import DirectRoutes, Endpoint
from bot.http.limits import BodyLimit
from bot.runtime import Services, build_services
from bot.settings import Settings
from bot.web import ops
from bot.web.headers import SecurityHeaders

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    run_dispatcher: bool = True,
    background: bool = False,
) -> FastAPI:
    """Build the app. Pass ``services`` to share them with a test; otherwise they are built from settings
    (``background``: the heavy channels after the server listens, :mod:`bot.channels.pending`)."""
    settings = settings or (services.settings if services else Settings())
    services = services or build_services(settings, background=background)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.start(dispatcher=run_dispatcher)
        try:
            yield
        finally:
            await services.close()

    # No API documentation in production: the routes are for the web chat, the webhooks and the console,
    # and a public schema only helps an attacker map them.
    openapi = None if settings.env == "production" else "/openapi.json"
    app = FastAPI(title="Hotline", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=openapi)
    app.state.services = services
    direct: dict[tuple[str, str], Endpoint] = {}
    for channel in services.channels.values():
        if isinstance(channel, PendingChannel):
            gate = channel.gate()  # its requests wait for it to be built
            if gate is not None:
                app.router.routes.append(gate)
            continue
        router = channel.router()
        if router is not None:
            app.include_router(router)
        direct_routes = getattr(channel, "direct_routes", None)
        if direct_routes is not None:
            direct.update(direct_routes())
    console.install(app, services)
    ops.install(app, services)  # /readyz and /metrics
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        """200 ``ok`` (or ``starting`` while channels are still being built); 503 if one never will be."""
        failed = services.failed()
        if failed:
            return JSONResponse({"status": "failed", "failed": failed}, status_code=503)
        starting = sorted({pending.name for pending, _ in services.later})
        if starting:
            return JSONResponse({"status": "starting", "starting": starting})
        return JSONResponse({"status": "ok"})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()]
        return JSONResponse({"error": "the request is not valid", "fields": fields}, status_code=422)

    if direct:  # the innermost of the app's middleware: inside the body limit and the headers
        app.add_middleware(DirectRoutes, routes=direct, on_http_error=http_error)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.webchat_origins:
        app.add_middleware(WebChatCors, origins=settings.webchat_origins)
    app.add_middleware(SecurityHeaders, https=settings.public_url.startswith("https://"))
    return app
