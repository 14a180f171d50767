"""Recorded prompts: <Play> where the operator's manifest lists a recording, <Say> everywhere else."""

from __future__ import annotations

import functools
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from bot.clock import FrozenClock
from bot.engine.content import Content
from bot.nlu import NLU
from bot.runtime import Services, build_services
from bot.settings import Settings
from bot.web.app import create_app
from tests.fakes.twilio_caller import FakeCaller
from tests.ivr.conftest import AUTH_TOKEN, PUBLIC_URL

RECORDED = ("vi/main.menu.mp3", "vi/ivr.footer.mp3", "vi/article.hiv-testing.wav")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def audio_server(tmp_path: Path) -> Iterator[str]:
    """A static file server on loopback, standing for where the operator keeps the recordings."""
    root = tmp_path / "www" / "audio"
    root.mkdir(parents=True)
    (root / "manifest.txt").write_text("# recorded by the programme\n" + "\n".join(RECORDED) + "\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path / "www")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/audio"
    finally:
        server.shutdown()
        server.server_close()


async def _services(settings: Settings, clock: FrozenClock, nlu: NLU, content: Content) -> Services:
    built = build_services(settings, clock=clock, nlu=nlu, content=content)
    await built.start(dispatcher=False)
    return built


@pytest.fixture
async def recorded_client(
    settings: Settings, audio_server: str, clock: FrozenClock, nlu: NLU, content: Content
) -> AsyncIterator[httpx.AsyncClient]:
    services = await _services(
        settings.model_copy(update={"twilio_audio_url": audio_server}), clock, nlu, content
    )
    app = create_app(services=services, run_dispatcher=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            yield http
    finally:
        await services.close()


async def test_recordings_are_played_where_they_exist(
    recorded_client: httpx.AsyncClient, audio_server: str, clock: FrozenClock
) -> None:
    caller = FakeCaller(recorded_client, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, clock=clock)
    heard = await caller.dial_in()
    assert heard.played == [f"{audio_server}/vi/ivr.footer.mp3"], "the footer is recorded"
    assert "ẩn danh" in heard.text, "the welcome is not: text-to-speech"
    heard = await caller.press("1")
    assert heard.played == [f"{audio_server}/vi/main.menu.mp3", f"{audio_server}/vi/ivr.footer.mp3"]
    assert "Bạn cần hỗ trợ gì" not in heard.text, "the recording replaces the menu's text"
    assert "Bấm phím một để chọn HIV và bệnh tình dục." in heard.said, "the keys are still spoken"
    await caller.press(caller.key_for("HIV và bệnh tình dục"))
    heard = await caller.press(caller.key_for("Xét nghiệm HIV"))
    assert heard.played[0] == f"{audio_server}/vi/article.hiv-testing.wav"


async def test_an_unreachable_manifest_falls_back_to_speech(
    settings: Settings, clock: FrozenClock, nlu: NLU, content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    url = "http://127.0.0.1:9/nothing-here"
    services = await _services(settings.model_copy(update={"twilio_audio_url": url}), clock, nlu, content)
    try:
        app = create_app(services=services, run_dispatcher=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            heard = await FakeCaller(
                http, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, clock=clock
            ).dial_in()
    finally:
        await services.close()
    assert heard.played == []
    assert heard.said, "everything is spoken"
    assert "using text-to-speech" in caplog.text
