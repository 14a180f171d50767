"""Bad-client alerts in a real browser (Debian's Chromium driven by Playwright), against the real server:
a person reports a client in the web chat; a moderator edits, sets the severity and approves on the
moderation page; another person checks the number and is warned. Nothing of it reaches the server's log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.support.browser import ARGS, CHROMIUM, require_chromium
from tests.support.server import LiveServer, hotline_env, run_cli, start_server

pytestmark = pytest.mark.browser
PASSWORD = "mat khau that dai"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    require_chromium()
    env = hotline_env(database_url, SECRET)
    done = run_cli(
        ["staff", "add", "mai", "--role", "moderator", "--password-stdin"], env, stdin=PASSWORD + "\n"
    )
    assert done.returncode == 0, done.stderr
    live = start_server(env, tmp_path / "server.log")
    try:
        yield live
    finally:
        live.stop()


def test_report_moderate_approve_then_a_lookup_warns(server: LiveServer) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    def send(page: Page, text: str, expected: str) -> None:
        page.fill("#text", text)
        page.click("#send")
        expect(page.locator(".msg.bot").last).to_contain_text(expected)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        blocked: list[str] = []
        reporter = browser.new_context().new_page()
        moderator = browser.new_context().new_page()
        for page in (reporter, moderator):
            page.on(
                "console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None
            )
        reporter.goto(server.url + "/")
        expect(reporter.locator(".msg.bot").first).to_contain_text("ẩn danh")
        send(reporter, "báo khách xấu", "tỉnh/thành nào")
        send(reporter, "Đà Nẵng", "quận/huyện")
        send(reporter, "Sơn Trà, gần cầu Rồng", "Khi nào")
        send(reporter, "tối qua", "Chuyện gì")
        send(reporter, "Ép không dùng bao, Tuấn ở quán Hoa Sen đi cùng", "trông thế nào")
        send(reporter, "khoảng 35 tuổi, mập", "Xe")
        send(reporter, "Air Blade đen", "Số điện thoại")
        send(reporter, "0935 111 222", "tài khoản")
        send(reporter, "không biết", "Gửi báo cáo")
        reporter.locator("button", has_text="Gửi").first.click()
        expect(reporter.locator(".msg.bot").last).to_contain_text("Cảm ơn bạn")

        moderator.goto(server.url + "/console")
        moderator.fill("input[name=username]", "mai")
        moderator.fill("input[name=password]", PASSWORD)
        moderator.click("#login")
        moderator.goto(server.url + "/console/moderation")
        report = moderator.locator("section.report").first
        expect(report).to_contain_text("Đà Nẵng")
        report.locator("textarea[name=what]").fill("Ép không dùng bao")  # a third party's name taken out
        report.locator("select[name=severity]").select_option("high")
        report.locator("button[value=approve]").click()
        expect(moderator.locator("#moderation-message")).to_contain_text("Đã duyệt")
        expect(moderator.locator("#approved")).to_contain_text("Ép không dùng bao")

        checker = browser.new_context().new_page()
        checker.goto(server.url + "/")
        expect(checker.locator(".msg.bot").first).to_contain_text("ẩn danh")
        send(checker, "kiem tra so +84 935.111.222", "trùng với 1 báo cáo")
        expect(checker.locator(".msg.bot").last).not_to_contain_text("Tuấn")
        browser.close()
    assert not blocked, blocked
    log = server.log.read_text(errors="replace")
    for secret in ("111 222", "111222", "111.222", "Tuấn", "Hoa Sen", "Air Blade"):
        assert secret not in log, "no report text or number in the server's log"
