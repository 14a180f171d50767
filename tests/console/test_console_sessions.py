"""Console sessions kept on the server, the login throttle and the console's security headers (issue 15).

Every test here fails on the old console: a signed cookie that lived 12 hours whatever happened, a lock of
5 failures per user name in memory that refused the right password too, Argon2 on the event loop, no
CSP, a redirect to any ``Referer`` and a public ``/openapi.json``.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.console import auth
from bot.console.auth import COOKIE, DEVICE_COOKIE
from bot.runtime import Services
from bot.store.models import AuditEntry, ConsoleSession, LoginFailure, StaffAccount
from bot.web.app import create_app
from tests.conftest import SECRET
from tests.console.test_console import PASSWORD, add_staff

WRONG = "not the password"


def new_browser(services: Services, base_url: str = "http://testserver") -> httpx.AsyncClient:
    """Another browser (its own cookies) on the service."""
    app = create_app(services=services, run_dispatcher=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
async def browser(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with new_browser(services) as other:
        yield other


@pytest.fixture
def quick_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each (hash, password) checked with Argon2 once: the throttle tests try the same wrong password
    dozens of times, and what they test is the count, not the hash."""
    monkeypatch.setattr(auth, "verify_password", functools.cache(auth.verify_password))


def refused_total(reason: str) -> float:
    from bot.console.routes import REFUSED

    return REFUSED.value(reason=reason)


def at(address: str) -> dict[str, str]:
    """Headers of a request from ``address`` behind the trusted proxy (loopback)."""
    return {"X-Forwarded-For": address}


async def log_in(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, address: str = "198.51.100.7"
) -> httpx.Response:
    return await client.post(
        "/console/login", data={"username": username, "password": password}, headers=at(address)
    )


async def staff_id(services: Services, username: str) -> int:
    async with services.sessionmaker() as session:
        found = await session.scalar(select(StaffAccount.id).where(StaffAccount.username == username))
        assert found is not None
        return found


async def sessions_of(services: Services, username: str) -> int:
    account = await staff_id(services, username)
    async with services.sessionmaker() as session:
        query = select(func.count()).select_from(ConsoleSession).where(ConsoleSession.staff_id == account)
        return int(await session.scalar(query) or 0)


async def run_cli(services: Services, args: list[str], stdin: str | None = None) -> str:
    """``hotline ...`` against the test database (in a thread: the command runs its own event loop)."""
    from bot.cli import main

    env = {"HOTLINE_ENV": "test", "HOTLINE_SECRET_KEY": SECRET}
    database = ["--database-url", services.settings.database_url]
    result = await asyncio.to_thread(
        CliRunner().invoke, main, [*database, *args], input=stdin, env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


# --- sessions ---------------------------------------------------------------------------------------------


async def test_a_cookie_is_dead_after_logout(client: httpx.AsyncClient, services: Services) -> None:
    await add_staff(services, "lan")
    assert (await log_in(client, "lan")).status_code == 303
    stolen = client.cookies[COOKIE]
    async with services.sessionmaker() as session:
        stored = (await session.execute(select(ConsoleSession.token_hash))).scalars().all()
    assert len(stored) == 1 and stolen not in stored[0], "the database keeps a keyed hash, not the token"
    assert (await client.get("/console/api/queue")).status_code == 200

    assert (await log_in(client, "lan")).status_code == 303, "logging in again ends the browser's session"
    assert await sessions_of(services, "lan") == 1
    stolen = client.cookies[COOKIE]
    assert (await client.post("/console/logout")).status_code == 303
    client.cookies.set(COOKIE, stolen, path="/console")  # a copy of the cookie kept from before
    assert (await client.get("/console/api/queue")).status_code == 401
    assert await sessions_of(services, "lan") == 0


async def test_a_password_change_ends_every_session_of_the_account(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, services: Services
) -> None:
    await add_staff(services, "lan")
    await add_staff(services, "minh")
    assert (await log_in(client, "lan")).status_code == 303
    assert (await log_in(browser, "lan")).status_code == 303
    async with new_browser(services) as other:
        assert (await log_in(other, "minh")).status_code == 303
        output = await run_cli(
            services, ["staff", "password", "lan", "--password-stdin"], "a new long password\n"
        )
        assert "2 console session(s) ended" in output
        assert (await client.get("/console/api/queue")).status_code == 401
        assert (await browser.get("/console/api/queue")).status_code == 401
        assert (await other.get("/console/api/queue")).status_code == 200, "other accounts keep theirs"
    assert (await log_in(client, "lan")).status_code == 401, "the old password is gone"
    assert (await log_in(client, "lan", "a new long password")).status_code == 303
    async with services.sessionmaker() as session:
        actions = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert "password_changed" in actions


async def test_deactivating_an_account_ends_its_sessions(
    client: httpx.AsyncClient, services: Services
) -> None:
    await add_staff(services, "lan")
    assert (await log_in(client, "lan")).status_code == 303
    output = await run_cli(services, ["staff", "deactivate", "lan"])
    assert "1 console session(s) ended" in output
    assert (await client.get("/console/api/queue")).status_code == 401
    assert await sessions_of(services, "lan") == 0
    assert (await log_in(client, "lan")).status_code == 401


async def test_an_open_event_stream_ends_with_its_session(
    client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.console import routes

    monkeypatch.setattr(routes, "SESSION_CHECK_BEATS", 1)
    await add_staff(services, "lan")
    await log_in(client, "lan")
    stream = asyncio.create_task(client.get("/console/events"))  # the test transport returns at its end
    await asyncio.sleep(0.1)
    await client.post("/console/logout")
    response = await asyncio.wait_for(stream, 10)
    assert response.status_code == 200 and "retry: 3000" in response.text


async def test_a_session_ends_after_30_idle_minutes(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    assert services.settings.console_idle_minutes == 30
    await add_staff(services, "lan")
    await log_in(client, "lan")
    clock.advance(minutes=29)
    assert (await client.get("/console/api/queue")).status_code == 200, "a request keeps it alive"
    clock.advance(minutes=29)
    assert (await client.get("/console/api/queue")).status_code == 200
    clock.advance(minutes=30, seconds=1)
    assert (await client.get("/console/api/queue")).status_code == 401
    assert (await client.get("/console", follow_redirects=False)).headers["location"] == "/console/login"


async def test_a_session_ends_12_hours_after_login_even_in_use(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    assert services.settings.console_session_hours == 12
    await add_staff(services, "lan")
    await log_in(client, "lan")
    for _ in range(12 * 3 - 1):  # a request every 20 minutes, for 11 h 40
        clock.advance(minutes=20)
        assert (await client.get("/console/api/queue")).status_code == 200
    clock.advance(minutes=20)
    assert (await client.get("/console/api/queue")).status_code == 401


async def test_the_form_token_belongs_to_the_session(client: httpx.AsyncClient, services: Services) -> None:
    await add_staff(services, "lan")
    await log_in(client, "lan")
    page = await client.get("/console")
    assert 'data-token="' in page.text
    token = page.text.split('data-token="', 1)[1].split('"', 1)[0]
    await client.post("/console/logout")
    await log_in(client, "lan")
    response = await client.post("/console/escalations/1/take", data={"token": token})
    assert response.status_code == 403, "a form token of an ended session is refused"


async def test_the_hourly_purge_deletes_ended_sessions_and_old_failures(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    await add_staff(services, "lan")
    await log_in(client, "lan", WRONG, address="203.0.113.9")  # before: a known browser counts apart
    await log_in(client, "lan")
    clock.advance(hours=2)
    counts = await services.purge()
    assert counts["console_sessions"] == 1 and counts["login_failures"] == 2
    async with services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ConsoleSession)) == 0
        assert await session.scalar(select(func.count()).select_from(LoginFailure)) == 0


# --- the login throttle -----------------------------------------------------------------------------------


async def test_one_name_from_one_address_waits_longer_after_each_failure(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock, quick_checks: None
) -> None:
    await add_staff(services, "lan")
    await add_staff(services, "minh")
    for _ in range(5):
        assert (await log_in(client, "lan", WRONG, address="203.0.113.9")).status_code == 401
    refused = await log_in(client, "lan", PASSWORD, address="203.0.113.9")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "15"
    assert "15 giây" in refused.text
    assert (await log_in(client, "minh", WRONG, address="203.0.113.9")).status_code == 401, "other names"
    assert (await log_in(client, "lan", WRONG, address="198.51.100.1")).status_code == 401, "other places"

    clock.advance(seconds=15)
    assert (await log_in(client, "lan", WRONG, address="203.0.113.9")).status_code == 401
    assert (await log_in(client, "lan", PASSWORD, address="203.0.113.9")).headers["retry-after"] == "30"
    clock.advance(seconds=30)
    assert (await log_in(client, "lan", PASSWORD, address="203.0.113.9")).status_code == 303
    async with services.sessionmaker() as session:
        actions = (await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars().all()
    assert actions.count("login_failed") == 8 and actions.count("login_locked") == 2
    assert refused_total("throttled") >= 2 and refused_total("wrong") >= 8


async def test_many_names_from_one_address_make_that_address_wait(
    client: httpx.AsyncClient, services: Services, quick_checks: None
) -> None:
    await add_staff(services, "lan")
    for n in range(30):
        assert (await log_in(client, f"guess{n}", WRONG, address="203.0.113.9")).status_code == 401
    refused = await log_in(client, "lan", PASSWORD, address="203.0.113.9")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) == 15
    assert (await log_in(client, "lan", PASSWORD, address="198.51.100.1")).status_code == 303
    async with services.sessionmaker() as session:
        actions = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert actions == ["login_locked"], "names that are no account are counted, not written to the audit"


async def test_an_attack_on_a_name_never_refuses_its_known_browser(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, services: Services, quick_checks: None
) -> None:
    """The attacker tries lan's name from everywhere, her own address included (one office NAT); her
    browser, which has logged in as lan before, still gets in with the right password at once."""
    await add_staff(services, "lan")
    assert (await log_in(browser, "lan", address="198.51.100.7")).status_code == 303
    assert browser.cookies.get(DEVICE_COOKIE)
    await browser.post("/console/logout")
    for n in range(40):
        await log_in(client, "lan", WRONG, address="198.51.100.7" if n % 2 else f"203.0.113.{n}")
    assert (await log_in(client, "lan", PASSWORD, address="198.51.100.7")).status_code == 429
    assert (await log_in(browser, "lan", address="198.51.100.7")).status_code == 303
    # From another address, a browser lan never used is not held back by the attack either.
    async with new_browser(services) as fresh:
        assert (await log_in(fresh, "lan", address="192.0.2.44")).status_code == 303


async def test_a_known_browser_waits_after_its_own_failures_only(
    browser: httpx.AsyncClient, services: Services, quick_checks: None
) -> None:
    await add_staff(services, "lan")
    await log_in(browser, "lan")
    await browser.post("/console/logout")
    for _ in range(10):
        assert (await log_in(browser, "lan", WRONG)).status_code == 401
    assert (await log_in(browser, "lan")).status_code == 429, "a stolen device cookie is no free pass"


async def test_a_device_cookie_is_for_its_own_user_and_key(
    client: httpx.AsyncClient, services: Services
) -> None:
    keys = auth.Sessions(SECRET.encode())
    cookie = keys.add_device(None, "lan")
    assert keys.known_device(cookie, "lan") and keys.known_device(cookie, "LAN")
    assert keys.known_device(cookie, "minh") is None
    assert auth.Sessions(b"another console key, 32 bytes long").known_device(cookie, "lan") is None
    both = keys.add_device(cookie, "minh")
    assert keys.known_device(both, "lan") and keys.known_device(both, "minh")
    assert keys.known_device("forged.0000", "lan") is None
    assert keys.known_device("nonce.chữ ký", "lan") is None, "any text is refused, not an error"
    assert not keys.check_form_token("cookie", "mã thông báo")


# --- Argon2 off the event loop ----------------------------------------------------------------------------


async def test_healthz_answers_while_a_password_is_being_checked(
    client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_staff(services, "lan")
    started, release = threading.Event(), threading.Event()
    finished: list[bool] = []

    def slow_verify(password_hash: str, password: str) -> bool:
        started.set()
        release.wait(3)  # on the event loop (the old code) this would hold /healthz for 3 s
        finished.append(True)
        return False

    monkeypatch.setattr(auth, "verify_password", slow_verify)
    login = asyncio.create_task(log_in(client, "lan", WRONG))
    assert await asyncio.to_thread(started.wait, 5)
    health = await client.get("/healthz")
    assert health.status_code == 200 and not finished, "/healthz answered during the check"
    release.set()
    assert (await login).status_code == 401


async def test_parallel_logins_take_a_bounded_number_of_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    running: list[int] = []
    peak: list[int] = [0]
    lock = threading.Lock()

    def counting_verify(password_hash: str, password: str) -> bool:
        with lock:
            running.append(1)
            peak[0] = max(peak[0], len(running))
        threading.Event().wait(0.02)
        with lock:
            running.pop()
        return False

    monkeypatch.setattr(auth, "verify_password", counting_verify)
    hashing = auth.Hashing()
    await asyncio.gather(*(hashing.verify("h", "p") for _ in range(16)))
    assert peak[0] <= auth.HASHING_SLOTS


async def test_a_known_browser_never_waits_behind_strangers_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def verify(password_hash: str, password: str) -> bool:
        if password == "stranger":
            release.wait(5)
        return password == "right"

    monkeypatch.setattr(auth, "verify_password", verify)
    hashing = auth.Hashing()
    strangers = [asyncio.create_task(hashing.verify("h", "stranger")) for _ in range(8)]
    await asyncio.sleep(0)
    assert await asyncio.wait_for(hashing.verify("h", "right", known=True), 2), "not queued behind them"
    assert not any(task.done() for task in strangers)
    release.set()
    assert not any(await asyncio.gather(*strangers))


# --- headers, redirects, documentation --------------------------------------------------------------------


async def test_console_pages_carry_security_headers(client: httpx.AsyncClient, services: Services) -> None:
    await add_staff(services, "lan")
    await log_in(client, "lan")
    for path in ("/console/login", "/console", "/console/rota", "/console/api/queue"):
        headers = (await client.get(path)).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in headers, "plain http (tests, a laptop): no HSTS"
    assert "content-security-policy" in (await client.get("/healthz")).headers


async def test_https_requests_get_hsts(services: Services) -> None:
    async with new_browser(services, "https://testserver") as c:
        headers = (await c.get("/console/login")).headers
    assert headers["strict-transport-security"].startswith("max-age=31536000")


async def test_no_console_template_needs_inline_script_or_style() -> None:
    import bot.console

    for template in (Path(bot.console.__file__).parent / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "<style" not in text and " style=" not in text and " on" + "click=" not in text, template
        for tag in text.split("<script")[1:]:
            assert tag.startswith((' src="', ' type="application/json"')), template


async def test_switching_language_never_leaves_the_site(client: httpx.AsyncClient) -> None:
    for referer in ("https://evil.example/phish", "//evil.example/console", "https://evil.example/console"):
        response = await client.get("/console/lang", headers={"Referer": referer})
        assert response.status_code == 303 and response.headers["location"] == "/console", referer
    response = await client.get("/console/lang", headers={"Referer": "http://testserver/console/rota?x=1"})
    assert response.headers["location"] == "/console/rota?x=1"
    response = await client.get("/console/lang", headers={"Referer": "http://testserver/api/webchat"})
    assert response.headers["location"] == "/console"


async def test_the_api_schema_is_not_public_in_production(
    client: httpx.AsyncClient, services: Services
) -> None:
    assert (await client.get("/openapi.json")).status_code == 200, "in development it is there"
    production = services.settings.model_copy(update={"env": "production"})
    app = create_app(production, services=services, run_dispatcher=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        assert (await c.get("/openapi.json")).status_code == 404
        assert (await c.get("/docs")).status_code == 404
        assert (await c.get("/healthz")).status_code == 200
