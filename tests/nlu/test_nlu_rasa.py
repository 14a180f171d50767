"""The optional Rasa backend against a small real HTTP server on loopback: answering, down, too slow."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.nlu import BuiltinNLU
from bot.nlu.rasa import RasaNLU

SECRET_TEXT = "ck dang danh e o phong 302 khach san hoa hong"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeRasa:
    """A tiny Rasa look-alike: answers ``POST /model/parse`` with a set intent, optionally slowly."""

    def __init__(self, intent: str, confidence: float = 0.93, delay: float = 0.0) -> None:
        self.intent, self.confidence, self.delay = intent, confidence, delay
        self.received: list[dict[str, Any]] = []

    async def parse(self, request: Request) -> JSONResponse:
        self.received.append(await request.json())
        await asyncio.sleep(self.delay)
        return JSONResponse({"text": "", "intent": {"name": self.intent, "confidence": self.confidence}})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/model/parse", self.parse, methods=["POST"])])


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(fake: FakeRasa) -> str:
        port = _free_port()
        config = uvicorn.Config(
            fake.app(), host="127.0.0.1", port=port, log_level="error", timeout_graceful_shutdown=1
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=5)


async def test_rasa_answers_and_its_topic_is_used(model: BuiltinNLU, serve: Any) -> None:
    fake = FakeRasa("legal", 0.77)
    nlu = RasaNLU(serve(fake), fallback=model)
    understood = await nlu.understand("xét nghiệm hiv ở đâu")
    assert fake.received == [{"text": "xét nghiệm hiv ở đâu"}]
    assert understood.topic == "legal" and understood.topic_score == 0.77
    assert understood.emergency is False


async def test_safety_never_depends_on_rasa(model: BuiltinNLU, serve: Any) -> None:
    nlu = RasaNLU(serve(FakeRasa("other", 0.99)), fallback=model)
    understood = await nlu.understand("ck dang danh e")
    assert understood.topic == "other"
    assert understood.emergency is True  # the built-in detector always runs


async def test_an_emergency_intent_from_rasa_raises_the_alarm(model: BuiltinNLU, serve: Any) -> None:
    nlu = RasaNLU(serve(FakeRasa("emergency_overdose", 0.8)), fallback=model)
    understood = await nlu.understand("chao ban")
    assert understood.emergency is True and understood.emergency_kind == "overdose"


async def test_rasa_down_falls_back_without_logging_the_text(
    model: BuiltinNLU, caplog: pytest.LogCaptureFixture
) -> None:
    nlu = RasaNLU(f"http://127.0.0.1:{_free_port()}", fallback=model, timeout=1.0)
    with caplog.at_level(logging.WARNING):
        understood = await nlu.understand(SECRET_TEXT)
    assert understood == model.understand_sync(SECRET_TEXT)
    assert any("built-in model" in record.getMessage() for record in caplog.records)
    assert all(
        "302" not in record.getMessage() and "danh" not in record.getMessage() for record in caplog.records
    )


async def test_rasa_too_slow_falls_back_in_time(
    model: BuiltinNLU, serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    nlu = RasaNLU(serve(FakeRasa("legal", delay=3.0)), fallback=model, timeout=0.3)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        understood = await nlu.understand(SECRET_TEXT)
    assert time.monotonic() - started < 2.0
    assert understood.topic == model.understand_sync(SECRET_TEXT).topic
    assert understood.emergency is True
    assert caplog.records and all("302" not in record.getMessage() for record in caplog.records)


async def test_rasa_unreadable_answer_falls_back(model: BuiltinNLU, serve: Any) -> None:
    nlu = RasaNLU(serve(FakeRasa("", 0.5)), fallback=model)
    understood = await nlu.understand("bán dâm bị phạt bao nhiêu")
    assert understood.topic == model.understand_sync("bán dâm bị phạt bao nhiêu").topic
