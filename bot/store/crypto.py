"""Pseudonymous keys and encryption at rest, each purpose with its own key.

* A user is ``HMAC-SHA256(key, channel + ":" + platform user id)``: the same person on the same
  channel always gets the same key, and nobody without the secret can go back to the id.
* What must be readable again (the platform address to reply to, transcripts, relayed messages) is
  encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from the secret with HKDF.

Every key is derived from the one root secret (``HOTLINE_SECRET_KEY``), one per purpose, so that one
purpose's key can change without touching the others (:class:`KeyVersions`, ``hotline rotate-key``):

* **encryption** (Fernet): versioned. Version 1 is the key every deployment had before versions existed,
  so data written then is read with no change. During a rotation both the new (primary) and the previous
  version are read; only the primary writes (:mod:`bot.store.rotation`).
* **console** (console session tokens): versioned; a new version ends every console session.
* **pseudonyms** (user keys, statistics keys, de-duplication, flood and reported-phone hashes): never
  rotated. A new key would give every person a new key: their conversation, web chat session and de-duplication would be
  cut from them, and unique counts in statistics would count them twice. A leaked root secret is a new
  deployment (see deploy/README.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.errors import HotlineError

ENCRYPTION = "encryption"
CONSOLE = "console"
PSEUDONYMS = "pseudonyms"
ROTATABLE = (ENCRYPTION, CONSOLE)

# A process reads tokens written under a few versions newer than the ones it has loaded: another process
# that learnt of a rotation a moment earlier may already write with the new key.
LOOKAHEAD = 3


class DecryptionError(HotlineError):
    """Stored data could not be decrypted: the secret key changed or the data was altered."""


@dataclass(frozen=True)
class KeyVersions:
    """Which version of each rotatable key is in use (the ``key_versions`` table; all 1 when empty).

    ``encryption_previous`` is set while a rotation re-encrypts the stored data: it is still read, never
    written.
    """

    encryption: int = 1
    encryption_previous: int | None = None
    console: int = 1


def _derive(secret: bytes, purpose: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"hotline", info=purpose).derive(secret)


def encryption_key(secret: bytes, version: int) -> bytes:
    """The Fernet key of an encryption version (version 1: the derivation used before versions)."""
    info = b"encryption" if version == 1 else f"encryption:v{version}".encode()
    return base64.urlsafe_b64encode(_derive(secret, info))


def console_key(secret: bytes, version: int) -> bytes:
    """The key console sessions are signed or hashed with (version 1: the one used before versions)."""
    if version == 1:
        return hashlib.sha256(b"console-session:" + secret).digest()
    return _derive(secret, f"console-session:v{version}".encode())


class Crypto:
    """Keyed hashing and symmetric encryption, each purpose under its own key derived from one secret."""

    def __init__(self, secret: bytes, versions: KeyVersions | None = None) -> None:
        self._secret = secret
        self._hmac_key = _derive(secret, b"user-key")
        self._stats_key = _derive(secret, b"stats-key")
        self._ref_key = _derive(secret, b"transport-ref")
        self._flood_key = _derive(secret, b"flood-caps")
        self._phone_key = _derive(secret, b"reported-phones")
        self._fernets: dict[int, Fernet] = {}
        self.use(versions or KeyVersions())

    def use(self, versions: KeyVersions) -> None:
        """Switch to these key versions (at start and whenever the key ring changes)."""
        if versions.encryption < 1 or versions.console < 1:
            raise ValueError(f"key versions start at 1: {versions}")
        readable = [versions.encryption]
        if versions.encryption_previous is not None:
            readable.append(versions.encryption_previous)
        self._primary = self._fernet(versions.encryption)
        self._readable = MultiFernet([self._fernet(v) for v in readable])
        self.console_key = console_key(self._secret, versions.console)
        self.versions = versions

    def _fernet(self, version: int) -> Fernet:
        if version not in self._fernets:
            self._fernets[version] = Fernet(encryption_key(self._secret, version))
        return self._fernets[version]

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

    def phone_hash(self, number: str) -> str:
        """A keyed hash of a normalised phone number in a bad-client report (bot/store/alerts.py): the
        same number always matches, and nobody without the secret can list the numbers."""
        return hmac.new(self._phone_key, number.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, text: str) -> str:
        return self._primary.encrypt(text.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        raw = token.encode("ascii")
        try:
            return self._readable.decrypt(raw).decode()
        except InvalidToken:
            pass
        newest = self.versions.encryption
        for version in range(newest + 1, newest + 1 + LOOKAHEAD):
            try:
                return self._fernet(version).decrypt(raw).decode()
            except InvalidToken:
                continue
        raise DecryptionError("Stored data could not be decrypted: was HOTLINE_SECRET_KEY changed?")

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def decrypt_json(self, token: str) -> Any:
        return json.loads(self.decrypt(token))

    def is_primary(self, token: str) -> bool:
        """Whether the token reads with the primary encryption key alone (a rotation is done with it)."""
        try:
            self._primary.decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def reencrypt(self, token: str) -> str:
        """The same plaintext under the primary key (the first of the readable ones; Fernet's timestamp is kept)."""
        if self.is_primary(token):
            return token
        try:
            return self._readable.rotate(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise DecryptionError("Stored data could not be decrypted with the current keys") from exc
