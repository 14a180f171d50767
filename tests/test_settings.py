"""Settings: the secret key is required in production, generated (with a warning) in development, and no
secret ever prints."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.errors import ConfigError
from bot.settings import ROOT, Settings


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_production_requires_a_secret_key(tmp_path: Path) -> None:
    settings = make(env="production", secret_key_file=tmp_path / "secret")
    with pytest.raises(ConfigError, match="does not exist"):
        _ = settings.secret
    assert not (tmp_path / "secret").exists(), "never generated in production"


def test_production_refuses_a_secret_in_var(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HOTLINE_SECRET_KEY is required in production"):
        _ = make(env="production").secret  # the default file, var/.hotline-secret
    with pytest.raises(ConfigError, match="outside"):
        _ = make(env="production", secret_key_file=ROOT / "var" / "elsewhere" / "secret").secret


def test_production_reads_a_private_secret_file_outside_var(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "secret"
    path.parent.mkdir()
    path.write_text("s" * 48 + "\n")
    path.chmod(0o640)
    assert make(env="production", secret_key_file=path).secret == b"s" * 48
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="can be read by anyone"):
        _ = make(env="production", secret_key_file=path).secret
    assert make(env="production", secret_key="k" * 40, secret_key_file=path).secret == b"k" * 40


def test_the_generated_secret_is_private_from_its_creation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[tuple[int, int]] = []
    real_open = os.open

    def spy(path: object, flags: int, mode: int = 0o777, *args: object) -> int:
        created.append((flags, mode))
        return real_open(path, flags, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", spy)
    old = os.umask(0)  # the umask is no protection: the mode is given at creation
    try:
        secret = make(env="development", secret_key_file=tmp_path / "var" / "secret").secret
    finally:
        os.umask(old)
    exclusive = os.O_CREAT | os.O_EXCL
    assert [(flags & exclusive, mode) for flags, mode in created] == [(exclusive, 0o600)]
    assert stat.S_IMODE((tmp_path / "var" / "secret").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
    assert len(secret) >= 48 and [p.name for p in (tmp_path / "var").iterdir()] == ["secret"]


def test_development_generates_one_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    path = tmp_path / "var" / "secret"
    first = make(env="development", secret_key_file=path).secret
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert "generated a development key" in caplog.text
    assert make(env="development", secret_key_file=path).secret == first, "the same key on the next start"


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        _ = make(secret_key="too-short").secret


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_TELEGRAM_TOKEN", "123456:SECRET-TELEGRAM-TOKEN")
    monkeypatch.setenv("HOTLINE_TWILIO_AUTH_TOKEN", "SECRET-TWILIO")
    monkeypatch.setenv("HOTLINE_ONCALL_NUMBERS", "+84911111111, +84922222222")
    settings = make(secret_key="SECRET-KEY-" + "x" * 40)
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    for secret in ("SECRET-TELEGRAM-TOKEN", "SECRET-TWILIO", "SECRET-KEY", "+84911111111"):
        assert secret not in shown
    assert settings.oncall_numbers == [SecretStr("+84911111111"), SecretStr("+84922222222")]


def test_trusted_proxies_are_read_comma_separated_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1,::1")
    assert make().trusted_proxies == ["10.0.0.0/8", "192.168.1.1", "::1"]
    monkeypatch.setenv("HOTLINE_TRUSTED_PROXIES", "nginx.local")
    with pytest.raises(ValueError, match="not an IP address or network"):
        make()
    monkeypatch.delenv("HOTLINE_TRUSTED_PROXIES")
    assert make().trusted_proxies == ["127.0.0.1", "::1"], "nginx on this machine, by default"
