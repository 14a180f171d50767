"""Checking that a request really comes from Twilio (``X-Twilio-Signature``).

Twilio signs the full URL it requested plus the sorted POST parameters with the account's Auth Token
(HMAC-SHA1). Behind a proxy the app does not see that URL, so it is rebuilt from
``HOTLINE_PUBLIC_URL``, the route's own path and the query string as received.
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


class TwilioSignature:
    """Validates requests against one Auth Token and the public address of the service."""

    def __init__(self, auth_token: str, public_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self.public_url = public_url.rstrip("/")

    def url(self, path: str, query: str = "") -> str:
        """The address Twilio requested for ``path`` (and the query it carried)."""
        return f"{self.public_url}{path}" + (f"?{query}" if query else "")

    def is_valid(self, path: str, query: str, params: Mapping[str, str], signature: str | None) -> bool:
        """Whether ``signature`` is Twilio's for this request; an absent signature is not."""
        if not signature:
            return False
        return bool(self._validator.validate(self.url(path, query), dict(params), signature))
