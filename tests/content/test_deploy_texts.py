"""Texts people read that live outside flows/: they must say what the content says.

nginx answers a web chat flood itself (deploy/nginx/hotline.conf), before the app sees it, so its refusal
cannot come from flows/strings.yaml. Its emergency numbers once fell a law behind (111 named for children
only, after 111 became the anti-trafficking line for every age): this test keeps them word for word the
same as the app's own flood refusal.
"""

from __future__ import annotations

import json
import re

import yaml

from bot.settings import ROOT


def _nginx_refusal() -> list[str]:
    conf = (ROOT / "deploy" / "nginx" / "hotline.conf").read_text(encoding="utf-8")
    body = re.search(r"return 429 '(.*)';", conf)
    assert body, "deploy/nginx/hotline.conf: the web chat's 429 body is not found"
    return [reply["text"] for reply in json.loads(body.group(1))["replies"]]


def _numbers_part(text: str, start: str) -> str:
    assert start in text, f"{start!r} not in {text!r}"
    return " ".join(text[text.index(start) :].split())


def test_the_nginx_flood_refusal_gives_the_apps_numbers_word_for_word() -> None:
    strings = yaml.safe_load((ROOT / "flows" / "strings.yaml").read_text(encoding="utf-8"))
    app = strings["strings"]["flood_new_session"]
    vi, en = _nginx_refusal()
    assert _numbers_part(vi, "Nếu bạn đang gặp nguy hiểm") == _numbers_part(
        app["vi"], "Nếu bạn đang gặp nguy hiểm"
    )
    assert _numbers_part(en, "If you are in danger") == _numbers_part(app["en"], "If you are in danger")
