"""All settings, read from the environment (prefix ``HOTLINE_``) or a ``.env`` file.

Secrets are :class:`pydantic.SecretStr`, so they never print. In development a missing secret key is
generated into a local file (with a warning); in production it is required.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError
from bot.files import create_private, private_dir

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """The service's configuration. Every field is ``HOTLINE_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'var' / 'hotline.db'}"
    # SQLite: run statements on the event loop's thread (no aiosqlite worker thread); false brings the
    # worker thread back, for a database where single statements take long (see bot/store/sqlite_inline.py).
    sqlite_inline: bool = True
    secret_key: SecretStr | None = None
    secret_key_file: Path = ROOT / "var" / ".hotline-secret"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    # Log lines as text (for a person) or JSON objects (for a collector); the same masking either way.
    log_format: Literal["text", "json"] = "text"
    # GET /metrics answers 404 until a token is set, then only to ``Authorization: Bearer <token>``.
    metrics_token: SecretStr | None = None
    # `hotline dispatch` (no web server) serves its metrics on 127.0.0.1 at this port, without a token.
    dispatch_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # How often each process reads the key versions in use (bot/store/keyring.py): a key rotation reaches
    # every process within this time, without a restart. One value for every process.
    key_refresh_seconds: float = Field(default=10.0, gt=0)

    flows_dir: Path = ROOT / "flows"
    knowledge_dir: Path = ROOT / "knowledge"

    # conversation behaviour
    default_locale: Literal["vi", "en"] = "vi"
    session_gap_minutes: int = 30
    retention_days: int = 30
    purge_interval_seconds: int = 3600
    # what the purge removes besides transcripts (bot/store/retention.py)
    purge_dead_days: int = Field(default=7, ge=1)  # outbox rows given up on ("dead")
    purge_undelivered_days: int = Field(default=7, ge=1)  # outbox rows still not sent ("pending")
    purge_webchat_unread_hours: int = Field(default=48, ge=1)  # web chat messages the page never fetched
    purge_dedup_hours: int = Field(default=48, ge=1)  # replies kept for retried webhooks
    purge_erased_hours: int = Field(default=24, ge=1)  # a deleted person's confirmation, if still not sent
    max_text_chars: int = 4000
    max_body_bytes: int = 1_000_000
    # open web chat event streams per process (beyond it, pages keep polling every 5 s)
    webchat_max_streams: int = 500
    # How often a process looks for web chat messages written by *other* processes while PostgreSQL's
    # NOTIFY is not reaching it (SQLite with `hotline dispatch`, a lost listening connection).
    webchat_check_seconds: float = Field(default=0.5, gt=0)
    # Other sites' pages allowed to call the web chat API from their visitors' browsers (CORS), as origins;
    # comma-separated: HOTLINE_WEBCHAT_ORIGINS=https://partner.example.org. The service's own is always in.
    webchat_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # the HTTP server (`hotline serve`, bot/web/server.py): a request's headers and body must arrive within
    # request_timeout_seconds of its first byte (or of the connection); at most max_connections open at
    # once (then the oldest connection still sending its headers is closed; also uvicorn's 503 limit)
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=4000, ge=16)
    keep_alive_seconds: int = Field(default=5, ge=1)

    # console sessions (bot/console/sessions.py): ended after this long without a request, and this long
    # after the login whatever happens
    console_idle_minutes: int = Field(default=30, ge=1)
    console_session_hours: int = Field(default=12, ge=1)

    # floods: caps per client (web chat: a keyed hash of the network address; messengers: the chat),
    # counted in the database so that every process shares them. 0 turns a cap off.
    # Comma-separated in the environment: HOTLINE_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    flood_sessions_per_minute: int = Field(default=12, ge=0)
    flood_sessions_per_hour: int = Field(default=120, ge=0)
    flood_alerts_per_hour: int = Field(default=5, ge=0)

    # outbox dispatcher (false: this process only serves; run `hotline dispatch` elsewhere)
    dispatcher_enabled: bool = True
    dispatcher_interval_seconds: float = 1.0
    # Short, and renewed every third of it while an event runs: a crashed process's events are free again
    # within this many seconds (at once when the same instance restarts, see instance_id).
    dispatcher_lease_seconds: float = 15.0
    dispatcher_max_attempts: int = 50
    # Events sent side by side by one process (a slot freed by a finished event is refilled at once).
    dispatcher_workers: int = 8
    # PostgreSQL: processes wake each other's dispatcher and web chat streams with LISTEN/NOTIFY
    # (bot/store/notify.py). False behind a transaction-mode PgBouncer (no LISTEN there): polling only.
    notify_enabled: bool = True
    # Who this process is across restarts, so that it takes back its own leases at start. Default: a hash
    # of the host name, the database URL and lock_dir. Never share an explicit id between hosts.
    instance_id: str | None = None
    # Where dispatchers lock their instance slot (must be one folder for all processes of the host).
    lock_dir: Path = ROOT / "var"

    # NLU
    rasa_url: str | None = None
    # The trained language model is kept here (`hotline train`); a start loads it instead of training.
    model_dir: Path = ROOT / "var" / "models"

    # Telegram
    telegram_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str | None = None
    telegram_staff_chat_id: int | None = None
    # Send the last transcript lines into a counsellor's Telegram chat when they take a case there. Off:
    # Telegram's cloud keeps them outside our retention and deletion; they get a console link instead.
    telegram_staff_transcript_copy: bool = False

    # Zalo Bot Platform
    zalo_bot_token: SecretStr | None = None
    zalo_bot_webhook_secret: SecretStr | None = None
    zalo_bot_api_url: str = "https://bot-api.zaloplatforms.com"

    # Zalo Official Account
    zalo_oa_app_id: str | None = None
    zalo_oa_secret_key: SecretStr | None = None
    zalo_oa_app_secret: SecretStr | None = None
    zalo_oa_access_token: SecretStr | None = None
    zalo_oa_refresh_token: SecretStr | None = None
    zalo_oa_api_url: str = "https://openapi.zalo.me"
    zalo_oa_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_oa_max_timestamp_skew_seconds: int = 300

    # Facebook Messenger (deploy/messenger.md): all three secrets switch the channel on
    messenger_page_token: SecretStr | None = None
    messenger_app_secret: SecretStr | None = None
    messenger_verify_token: SecretStr | None = None
    messenger_api_url: str = "https://graph.facebook.com"
    messenger_api_version: str = "v25.0"  # the Graph API version the Send API calls are pinned to
    # Counsellors' replies 24 h to 7 days after the person's last message go with Meta's HUMAN_AGENT tag
    # (the app needs Meta's approval for it); off: they wait until the person writes again.
    messenger_human_agent_tag: bool = False

    # Twilio voice
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_url: str | None = None
    twilio_caller_id: str | None = None
    twilio_voice: str = "Google.vi-VN-Standard-A"
    twilio_voice_en: str = "Polly.Joanna"
    twilio_audio_url: str | None = None
    # Comma-separated in the environment: HOTLINE_ONCALL_NUMBERS=+84901234567,+84907654321
    oncall_numbers: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    dial_timeout_seconds: int = 20
    # A counsellor who picks up hears "press 1 to take the call": a voicemail never counts as an answer.
    dial_screening: bool = True
    office_hours: str = "08:00-20:00"
    timezone: str = "Asia/Ho_Chi_Minh"

    # safety check-ins (bot/escalation/checkins.py): "are you OK?" at the time, a second message this many
    # minutes later without an answer, an emergency page this many minutes after that; at most this far ahead
    checkin_remind_minutes: float = Field(default=10, gt=0)
    checkin_escalate_minutes: float = Field(default=10, gt=0)
    checkin_max_hours: float = Field(default=12, gt=0)

    # bad-client alerts (bot/store/alerts.py, bot/escalation/alerts.py): an approved report is deleted this
    # many days after approval (a report never decided, this many days after it was written); a person may
    # check this many numbers and send this many reports a day; alerts to a province's subscribers leave
    # one every alerts_pacing_seconds; the moderation page marks a reporter who sent this many reports or
    # more in alerts_expiry_days
    alerts_expiry_days: int = Field(default=90, gt=0)
    alerts_lookups_per_day: int = Field(default=10, gt=0)
    alerts_reports_per_day: int = Field(default=3, gt=0)
    alerts_pacing_seconds: float = Field(default=1.0, ge=0)
    alerts_many_reports: int = Field(default=3, gt=1)

    # escalation
    page_ack_seconds: int = 120
    # Above this many pages in a minute to one counsellor or route, further pages are combined into one
    # "N new emergencies, open the console" message, at most one every page_combine_seconds and at most
    # page_combined_per_minute a minute (bot/escalation/digest.py): at most 5 + 10 messages a minute.
    page_combine_above: int = 5
    page_combine_seconds: float = Field(default=1.5, ge=0)
    page_combined_per_minute: int = Field(default=10, ge=0)
    page_phone_route: Literal["sms", "voice", "both"] = "sms"
    staff_locale: Literal["vi", "en"] = "vi"

    # statistics
    stats_min_cell: int = 5

    @field_validator("oncall_numbers", "trusted_proxies", "webchat_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webchat_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for entry in value:
            scheme, _, rest = entry.partition("://")
            if scheme not in ("http", "https") or not rest or "/" in rest:
                raise ValueError(
                    f"HOTLINE_WEBCHAT_ORIGINS: {entry!r} is not an origin (e.g. https://partner.example.org)"
                )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"HOTLINE_TRUSTED_PROXIES: {entry!r} is not an IP address or network (e.g. 10.0.0.0/8)"
                ) from exc
        return value

    @cached_property
    def secret(self) -> bytes:
        """The root secret as bytes: ``HOTLINE_SECRET_KEY``, else ``secret_key_file``.

        In development a missing file is generated (private from its first byte). In production the secret
        must be given, and not from the repository's ``var/`` (which backups, copies and a careless
        ``chmod`` reach): set ``HOTLINE_SECRET_KEY`` or ``HOTLINE_SECRET_KEY_FILE`` (e.g. a systemd
        credential, see deploy/README.md).
        """
        if self.secret_key is not None:
            return _checked(self.secret_key.get_secret_value(), "HOTLINE_SECRET_KEY")
        path = self.secret_key_file
        if self.env == "production":
            if path.resolve().is_relative_to((ROOT / "var").resolve()):
                raise ConfigError(
                    "HOTLINE_SECRET_KEY is required in production (or HOTLINE_SECRET_KEY_FILE, a file outside "
                    f"{ROOT / 'var'}). Generate one with `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'` and keep it safe: losing it makes every stored "
                    "transcript unreadable."
                )
            if not path.is_file():
                raise ConfigError(
                    f"HOTLINE_SECRET_KEY_FILE: {path} does not exist (it is never generated in production)."
                )
            if path.stat().st_mode & 0o007:
                raise ConfigError(f"HOTLINE_SECRET_KEY_FILE: {path} can be read by anyone: `chmod 600` it.")
            return _checked(path.read_text().strip(), "HOTLINE_SECRET_KEY_FILE")
        if not path.exists():
            private_dir(path.parent)
            if create_private(path, secrets.token_urlsafe(48)):
                log.warning(
                    "HOTLINE_SECRET_KEY is not set: generated a development key in %s. "
                    "Set HOTLINE_SECRET_KEY in production.",
                    path,
                )
        return path.read_text().strip().encode()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _checked(value: str, name: str) -> bytes:
    if len(value) < 32:
        raise ConfigError(f"{name} must be at least 32 characters long.")
    return value.encode()
