"""The fake-server base itself: one lifecycle for sync and async tests, every request recorded, failures on
demand (a status and body, N times, after M successes), each fake's own error shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.fakes.base import FakeServer
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.zalo_api import FakeZalo


class Echo(FakeServer):
    """The smallest fake: ``POST /echo`` answers the JSON it was sent."""

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/echo", self._echo)

    def error_body(self, status: int) -> dict[str, Any]:
        return {"failed": status}

    async def _echo(self, request: web.Request) -> web.Response:
        return web.json_response(self.call_of(request).json())


def test_a_sync_test_uses_it_with_a_plain_with_and_every_request_is_recorded() -> None:
    with Echo() as fake:
        answer = httpx.post(f"{fake.url}/echo", json={"n": 1})
        assert answer.json() == {"n": 1}
        (call,) = fake.calls
        assert (call.name, call.path, call.json(), call.status) == ("/echo", "/echo", {"n": 1}, 200)
        assert call.headers["content-type"] == "application/json"
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{fake.url}/echo", json={})


async def test_fail_answers_n_times_after_m_successes_then_works_again() -> None:
    async with Echo() as fake, httpx.AsyncClient(base_url=fake.url) as http:
        fake.fail("/echo", status=503, times=2, after=1)
        fake.fail("/echo", status=429, body={"slow": "down"})
        statuses = [(await http.post("/echo", json={"n": n})).status_code for n in range(5)]
        assert statuses == [200, 503, 503, 429, 200]
        assert (await http.post("/echo", json={})).status_code == 200
        fake.fail("/echo", status=500)
        refused = await http.post("/echo", json={})
        assert refused.json() == {"failed": 500}, "the fake's own error shape when no body is given"
    assert [c.status for c in fake.calls] == [200, 503, 503, 429, 200, 200, 500]
    assert len(fake.calls_of("/echo")) == 3, "only the answered ones"
    assert len(fake.calls_of("/echo", ok_only=False)) == 7


@pytest.mark.parametrize(
    ("fake", "name", "path", "shape"),
    [
        (FakeTelegram(), "sendMessage", "/bot{token}/sendMessage", "error_code"),
        (FakeZalo(), "sendMessage", "/bot{token}/sendMessage", "error_code"),
        (FakeTwilio(), "Messages", "/2010-04-01/Accounts/AC1/Messages.json", "code"),
    ],
    ids=["telegram", "zalo", "twilio"],
)
def test_every_fake_fails_on_demand_in_its_platforms_shape(
    fake: FakeServer, name: str, path: str, shape: str
) -> None:
    token = getattr(fake, "token", None) or getattr(fake, "bot_token", "")
    with fake:
        fake.fail(name, status=500)
        response = httpx.post(fake.url + path.format(token=token), data={"chat_id": "1", "text": "x"})
        assert response.status_code == 500 and shape in response.json()
        (call,) = fake.calls_of(name, ok_only=False)
        assert call.status == 500
