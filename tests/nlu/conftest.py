"""Fixtures for the NLU tests: the repository's knowledge folder and one model trained from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlu import BuiltinNLU, build_builtin

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture(scope="session")
def knowledge_dir() -> Path:
    return KNOWLEDGE


@pytest.fixture(scope="session")
def model(knowledge_dir: Path) -> BuiltinNLU:
    return build_builtin(knowledge_dir, model_dir=knowledge_dir.parent / "var" / "models")
