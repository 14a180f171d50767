"""``hotline doctor``'s checks of the secret key, the database and migrations, content and model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.doctor import Status
from bot.settings import ROOT
from bot.store.migrate import downgrade, upgrade
from tests.support.server import free_port

Make = Callable[..., Any]


async def test_secret_too_short(configured: Make, doctor: Make) -> None:
    found = await doctor(configured(secret_key="short"))
    assert found["secret key"].status is Status.PROBLEM
    assert "at least 32 characters" in found["secret key"].detail
    assert found["database"].status is Status.OK  # the other checks still ran


async def test_secret_file_readable_by_others(configured: Make, doctor: Make, tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("k" * 48)
    key.chmod(0o644)
    found = await doctor(configured(secret_key=None, secret_key_file=key))
    assert found["secret key"].status is Status.PROBLEM
    assert f"chmod 600 {key}" in found["secret key"].fix
    key.chmod(0o600)
    assert (await doctor(configured(secret_key=None, secret_key_file=key)))["secret key"].status is Status.OK


async def test_secret_in_var_refused_in_production(configured: Make, doctor: Make) -> None:
    in_var = ROOT / "var" / ".hotline-secret"  # the development default: never read in production
    found = await doctor(configured(env="production", secret_key=None, secret_key_file=in_var))
    assert found["secret key"].status is Status.PROBLEM
    assert "required in production" in found["secret key"].detail


async def test_database_behind_head(configured: Make, doctor: Make, database_url: str) -> None:
    downgrade(database_url, "-1")
    try:
        found = await doctor(configured())
    finally:
        upgrade(database_url)
    assert found["database"].status is Status.OK
    assert found["migrations"].status is Status.PROBLEM
    assert "hotline db upgrade" in found["migrations"].fix


async def test_database_unreachable(configured: Make, doctor: Make) -> None:
    url = f"postgresql+asyncpg://hotline:secret-password@127.0.0.1:{free_port()}/hotline"
    found = await doctor(configured(database_url=url))
    assert found["database"].status is Status.PROBLEM
    assert "cannot connect" in found["database"].detail
    assert "secret-password" not in found["database"].detail
    assert found["rota"].status is Status.PROBLEM
    assert found["Telegram token"].status is Status.OK  # one failing check never stops the others


async def test_content_mistakes(configured: Make, doctor: Make, tmp_path: Path) -> None:
    found = await doctor(configured(flows_dir=tmp_path))
    assert found["content"].status is Status.PROBLEM
    assert "hotline check" in found["content"].fix


async def test_model_not_trained(configured: Make, doctor: Make, tmp_path: Path) -> None:
    found = await doctor(configured(model_dir=tmp_path))
    assert found["model"].status is Status.PROBLEM
    assert "hotline train" in found["model"].fix
