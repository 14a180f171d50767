"""Pseudonymous keys and encryption at rest.

* A user is ``HMAC-SHA256(secret, channel + ":" + platform user id)``: the same person on the same
  channel always gets the same key, and nobody without the secret can go back to the id.
* What must be readable again (the platform address to reply to, transcripts, relayed messages) is
  encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from the secret with HKDF.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.errors import HotlineError


class DecryptionError(HotlineError):
    """Stored data could not be decrypted: the secret key changed or the data was altered."""


def _derive(secret: bytes, purpose: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"hotline", info=purpose).derive(secret)


class Crypto:
    """Keyed hashing and symmetric encryption, all from one secret."""

    def __init__(self, secret: bytes) -> None:
        self._hmac_key = _derive(secret, b"user-key")
        self._stats_key = _derive(secret, b"stats-key")
        self._ref_key = _derive(secret, b"transport-ref")
        self._flood_key = _derive(secret, b"flood-caps")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"encryption")))

    def user_key(self, channel: str, platform_user_id: str) -> str:
        """The pseudonymous key of a person on a channel (64 hex characters)."""
        message = f"{channel}:{platform_user_id}".encode()
        return hmac.new(self._hmac_key, message, hashlib.sha256).hexdigest()

    def stats_key(self, user_key: str) -> str:
        """A shorter key that only counts unique users in statistics; it cannot find a conversation."""
        return hmac.new(self._stats_key, user_key.encode(), hashlib.sha256).hexdigest()[:24]

    def ref_hash(self, channel: str, transport_id: str) -> str:
        """A keyed hash of a transport message id, for de-duplication without keeping the id."""
        message = f"{channel}:{transport_id}".encode()
        return hmac.new(self._ref_key, message, hashlib.sha256).hexdigest()

    def flood_hash(self, value: str) -> str:
        """A keyed hash standing for a client in the flood caps (e.g. a network address), never kept in clear."""
        return hmac.new(self._flood_key, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise DecryptionError(
                "Stored data could not be decrypted: was HOTLINE_SECRET_KEY changed?"
            ) from exc

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def decrypt_json(self, token: str) -> Any:
        return json.loads(self.decrypt(token))
