"""Refuse request bodies over a size limit before they are read into memory (413)."""

from __future__ import annotations

import json

from fastapi import HTTPException, Request
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: a body that declares a length over ``max_bytes`` gets 413 without being read.

    Bodies sent without a length (chunked) are limited where they are read: :func:`read_body`.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers", []):
                if name == b"content-length":
                    try:
                        declared = int(value)
                    except ValueError:
                        await _refuse(send, 400, "bad Content-Length")
                        return
                    if declared > self.max_bytes:
                        await _refuse(send, 413, f"the body is larger than {self.max_bytes} bytes")
                        return
        await self.app(scope, receive, send)


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 as soon as it grows past ``max_bytes``.

    A client that goes away mid-body (or is cut off by the server's request timeout,
    :mod:`bot.web.server`) gets a 400 nobody reads, instead of an unhandled ``ClientDisconnect``: a 500
    and a traceback in the log for every such connection.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise HTTPException(413, f"the body is larger than {max_bytes} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise HTTPException(400, "the connection ended before the whole body was sent") from None
    return b"".join(chunks)


async def _refuse(send: Send, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
