"""The console in a real browser (Debian's Chromium driven by Playwright), against the real server:
a person writes for help in the web chat; a counsellor logs in, sees the queue, takes, replies, closes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.support.browser import ARGS, CHROMIUM, require_chromium
from tests.support.server import LiveServer, hotline_env, run_cli, start_server

pytestmark = pytest.mark.browser


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    require_chromium()
    env = hotline_env(database_url, SECRET)
    done = run_cli(
        ["staff", "add", "lan", "--name", "Lan", "--password-stdin"], env, stdin="mat khau that dai\n"
    )
    assert done.returncode == 0, done.stderr
    live = start_server(env, tmp_path / "server.log")
    try:
        yield live
    finally:
        live.stop()


def test_log_in_see_the_queue_take_reply_close(server: LiveServer) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        person = browser.new_context().new_page()
        person.goto(server.url + "/")
        expect(person.locator(".msg.bot").first).to_contain_text("ẩn danh")
        expect(person.locator("body")).to_have_attribute("data-push", "on")  # the event stream is open
        person.fill("#text", "cứu em với, chồng em đang đánh em")
        person.click("#send")
        expect(person.locator(".msg.bot").last).to_contain_text("113")

        desk = browser.new_context().new_page()
        # The pages' Content-Security-Policy (bot/web/headers.py) must not block anything they need.
        blocked: list[str] = []
        for page in (person, desk):
            page.on(
                "console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None
            )
        desk.goto(server.url + "/console")
        desk.fill("input[name=username]", "lan")
        desk.fill("input[name=password]", "mat khau that dai")
        desk.click("#login")
        row = desk.locator("#queue tr.emergency")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("KHẨN CẤP")
        row.locator("button.take").click()
        expect(desk.locator("#transcript")).to_contain_text("chồng em đang đánh em")

        expect(person.locator(".msg.staff").first).to_contain_text("Lan", timeout=15000)
        desk.fill("#reply-text", "Chị là Lan. Em có an toàn không?")
        desk.click("#reply")
        expect(person.locator(".msg.staff").last).to_contain_text("Em có an toàn không?", timeout=15000)

        person.fill("#text", "em da ra ngoai duoc roi")
        person.click("#send")
        expect(desk.locator("#transcript")).to_contain_text("em da ra ngoai duoc roi", timeout=15000)

        # the close form: a reason, the risk at the end, follow-up (referrals are optional)
        desk.check("#close-reasons input[value=violence_partner]")
        desk.check("#close-risk input[value=low]")
        desk.check("#close-follow-up input[value=no]")
        desk.select_option("#outcome", "safe")
        desk.click("#close")
        expect(desk.locator("#empty")).to_be_visible()
        expect(person.locator(".msg.staff").last).to_contain_text("kết thúc", timeout=15000)
        desk.goto(server.url + "/console/rota")
        browser.close()
    assert not blocked, blocked
    assert "chồng em" not in server.log.read_text(errors="replace"), "no message text in the server's log"
