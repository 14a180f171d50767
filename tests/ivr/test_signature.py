"""Only Twilio may drive the phone line: unsigned or wrongly signed requests get 403 and change nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.runtime import Services
from tests.fakes.twilio_caller import FakeCaller
from tests.ivr.conftest import PUBLIC_URL
from tests.support.db import assert_nothing_written, row_counts

ROUTES = (
    "/ivr/voice", "/ivr/key?shown=0&next=1", "/ivr/dial?kind=emergency", "/ivr/offer", "/ivr/status",
    "/ivr/checkin-set?kind=checkin", "/ivr/checkin-call?checkin=1&attempt=1",
    "/ivr/checkin-answer?checkin=1&attempt=1", "/ivr/checkin-status?checkin=1&attempt=1",
)  # fmt: skip


@pytest.mark.parametrize("route", ROUTES)
async def test_unsigned_and_wrongly_signed_requests_are_refused(
    phone: Callable[..., FakeCaller], services: Services, route: str
) -> None:
    caller = phone()
    url = f"{PUBLIC_URL}{route}"
    extra = {"Digits": "9", "DialCallStatus": "completed", "CallStatus": "completed", "CallDuration": "30"}
    attempts = {
        "no signature": await caller.post(url, extra, signed=False),
        "garbage": await caller.post(url, extra, signature="bm90IGEgc2lnbmF0dXJl"),
        "another token": await FakeCaller(
            caller.http, auth_token="someone-elses-token", public_url=PUBLIC_URL, clock=caller.clock,
            call_sid=caller.call_sid,
        ).post(url, extra),
        # Signed for the app's own address instead of the public one Twilio uses.
        "wrong address": await caller.post(
            url, extra, signature=caller.sign(f"http://testserver{route}", caller.params(extra))
        ),
        # Signed for other parameters than those sent.
        "altered form": await caller.post(
            url, extra, signature=caller.sign(url, caller.params({**extra, "Digits": "1"}))
        ),
    }  # fmt: skip
    for what, response in attempts.items():
        assert response.status_code == 403, (what, response.text)
        # the app's own refusal, with the security headers of every answer (routes served directly)
        assert response.json() == {"error": "the request is not signed by Twilio for this address"}
        assert response.headers["x-frame-options"] == "DENY"
    await assert_nothing_written(services)


async def test_an_altered_callback_url_is_refused_mid_call(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    caller = phone()
    heard = await caller.dial_in()
    before = await row_counts(services)
    gather = heard.find("Gather")
    assert gather is not None
    action = gather.attrib["action"]
    signature = caller.sign(action, caller.params({"Digits": "1"}))
    tampered = action + ("&" if "?" in action else "?") + "next=5"
    response = await caller.post(tampered, {"Digits": "1"}, signature=signature)
    assert response.status_code == 403
    forged_end = await caller.post(
        f"{PUBLIC_URL}/ivr/status", {"CallStatus": "completed", "CallDuration": "1"}, signed=False
    )
    assert forged_end.status_code == 403
    await assert_nothing_written(services, before)
    heard = await caller.press("1")  # the genuine request still works
    assert "Bạn cần hỗ trợ gì" in heard.text


async def test_a_malformed_call_is_refused_after_the_signature(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    caller = phone(call_sid="not-a-call-sid")
    response = await caller.post(f"{PUBLIC_URL}/ivr/voice", {})
    assert response.status_code == 400
    response = await phone().post(f"{PUBLIC_URL}/ivr/key?shown=x", {"Digits": "1"})
    assert response.status_code == 400
    assert set((await row_counts(services)).values()) == {0}


@pytest.mark.parametrize(
    ("public_url", "signed_for"),
    [
        ("https://hotline.example.org/hotline", "https://hotline.example.org/hotline"),
        ("https://hotline.example.org/hotline", "https://hotline.example.org:443/hotline"),
        ("https://hotline.example.org:443/", "https://hotline.example.org"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000", "http://127.0.0.1"),
    ],
)
def test_the_signature_check_agrees_with_twilios_validator(public_url: str, signed_for: str) -> None:
    """ivr/signature.py computes what twilio's RequestValidator checks, more cheaply: the same answer for
    the address with and without its port, other parameters, another path or query, another token."""
    from twilio.request_validator import RequestValidator

    from ivr.signature import TwilioSignature

    token = "0123456789abcdef0123456789abcdef"
    form = {
        "CallSid": "CA" + "1" * 32,
        "From": "+84981234567",
        "SpeechResult": "tôi cần giúp đỡ",
        "Digits": "",
    }
    path, query = "/ivr/key", "shown=0&next=1"
    signature = RequestValidator(token).compute_signature(f"{signed_for.rstrip('/')}{path}?{query}", form)
    checker = TwilioSignature(token, public_url)
    twilio = RequestValidator(token)
    cases = {
        "as signed": (path, query, form, signature),
        "another query": (path, "shown=0&next=2", form, signature),
        "another path": ("/ivr/dial", query, form, signature),
        "another form": (path, query, {**form, "Digits": "9"}, signature),
        "another token": (path, query, form, RequestValidator("x" * 32).compute_signature(signed_for, form)),
        "not base64": (path, query, form, "chữ ký"),
    }
    for what, (p, q, f, s) in cases.items():
        expected = twilio.validate(checker.url(p, q), f, s)
        assert checker.is_valid(p, q, f, s) is expected, what
    assert checker.is_valid(path, query, form, signature)
