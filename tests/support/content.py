"""A copy of the real content to break, and `hotline check` run on it (for tests of the content checks)."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.settings import ROOT


def copy_content(into: Path) -> Path:
    """Copy ``flows/`` and ``knowledge/`` into ``into``; return it."""
    shutil.copytree(ROOT / "flows", into / "flows")
    shutil.copytree(ROOT / "knowledge", into / "knowledge")
    return into


def check(root: Path) -> tuple[int, str]:
    """``hotline check`` on the content under ``root``: its exit code and what it printed."""
    result = CliRunner().invoke(
        main, ["check", "--flows", str(root / "flows"), "--knowledge", str(root / "knowledge")]
    )
    return result.exit_code, result.output
