"""Debian's Chromium for the browser tests (installed by `make browser`), driven by Playwright."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def require_chromium() -> None:
    """Skip without Chromium, except in CI, where its absence is a failure of the set-up."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: `make test` installs it (make browser)")
        pytest.skip("Chromium is not installed (make browser)")
