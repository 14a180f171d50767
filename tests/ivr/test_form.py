"""The phone line reads Twilio's form bodies (ivr/routes.py ``parse_form``) exactly as the standard library."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest

from ivr.routes import parse_form

TWILIO = urlencode(
    {
        "CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": "+84981234567",
        "To": "+84900000001", "CallStatus": "ringing", "Direction": "inbound", "FromCity": "",
        "SpeechResult": "tôi cần giúp đỡ, ngay bây giờ!", "Digits": "#",
    }
)  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        TWILIO, "", "&", "&&a=1&&", "a", "a&b=", "=x", "=", "a=1&a=2", "a=1;b=2", "a=b=c",
        "a+b=c+d%2B", "x=%", "x=%zz", "x=%E1%BB", "x=%e1%bb%87n", "%41%42=%43", "a=%2526",
        "Digits=%23&SpeechResult=xin+ch%C3%A0o",
    ],
)  # fmt: skip
def test_a_form_is_read_as_parse_qsl_reads_it(body: str) -> None:
    assert parse_form(body) == dict(parse_qsl(body, keep_blank_values=True))
