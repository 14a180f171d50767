"""Checking that a request really comes from Twilio (``X-Twilio-Signature``).

Twilio signs the full URL it requested plus the sorted POST parameters with the account's Auth Token
(HMAC-SHA1, base64). Behind a proxy the app does not see that URL, so it is rebuilt from
``HOTLINE_PUBLIC_URL``, the route's own path and the query string as received.

This is twilio's ``RequestValidator.validate`` for a form, computed the cheap way (every phone request
pays for it): the public address's two spellings (with and without the default port: Twilio's own
signing is inconsistent there, so its validator accepts either) are worked out once, the key's HMAC state
is prepared once, and a second HMAC is computed only when the first spelling does not match. The
comparison takes constant time. ``tests/ivr/test_signature.py`` checks it against the library's own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-Twilio-Signature"


def _spellings(public_url: str) -> tuple[str, ...]:
    """The public address without its port, then with it (the default port if none is written)."""
    parts = urlsplit(public_url)
    host = parts.netloc.rsplit("@", 1)[-1].split(":")[0]
    userinfo = parts.netloc[: len(parts.netloc) - len(parts.netloc.rsplit("@", 1)[-1])]
    port = parts.port or (443 if parts.scheme == "https" else 80)
    without = parts._replace(netloc=f"{userinfo}{host}").geturl()
    with_port = parts._replace(netloc=f"{userinfo}{host}:{port}").geturl()
    return (without,) if with_port == without else (without, with_port)


class TwilioSignature:
    """Validates requests against one Auth Token and the public address of the service."""

    def __init__(self, auth_token: str, public_url: str) -> None:
        self._mac = hmac.new(auth_token.encode("utf-8"), digestmod=hashlib.sha1)
        self.public_url = public_url.rstrip("/")
        self._prefixes = _spellings(self.public_url)

    def url(self, path: str, query: str = "") -> str:
        """The address Twilio requested for ``path`` (and the query it carried)."""
        return f"{self.public_url}{path}" + (f"?{query}" if query else "")

    def is_valid(self, path: str, query: str, params: Mapping[str, str], signature: str | None) -> bool:
        """Whether ``signature`` is Twilio's for this request; an absent signature is not."""
        if not signature:
            return False
        given = signature.encode("utf-8")
        tail = path + (f"?{query}" if query else "")
        signed_params = "".join(name + params[name] for name in sorted(params)).encode("utf-8")
        for prefix in self._prefixes:
            mac = self._mac.copy()
            mac.update((prefix + tail).encode("utf-8"))
            mac.update(signed_params)
            if hmac.compare_digest(base64.b64encode(mac.digest()), given):
                return True
        return False
