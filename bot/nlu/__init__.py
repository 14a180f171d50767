"""Understanding what people write: normalisation, topics, matching articles, and emergencies.

The engine codes against :func:`build_nlu`, :class:`NLU` and :class:`Understanding`::

    nlu = build_nlu(Path("knowledge"))
    understanding = await nlu.understand("ck dang danh e")
    understanding.emergency  # True
"""

from __future__ import annotations

from pathlib import Path

from bot.nlu.contract import NLU, TOPICS, Understanding
from bot.nlu.data import load_training_data
from bot.nlu.errors import NLUDataError, NLUError
from bot.nlu.lexicon import Lexicon
from bot.nlu.model import BuiltinNLU
from bot.nlu.normalize import fold, has_words, normalize

__all__ = [
    "NLU",
    "TOPICS",
    "BuiltinNLU",
    "NLUDataError",
    "NLUError",
    "Understanding",
    "build_builtin",
    "build_nlu",
    "fold",
    "has_words",
    "normalize",
]


def build_builtin(knowledge_dir: Path) -> BuiltinNLU:
    """Train the built-in model from ``knowledge_dir`` (articles and ``nlu/``)."""
    return BuiltinNLU(load_training_data(knowledge_dir), Lexicon.load(knowledge_dir / "nlu" / "lexicon.yaml"))


def build_nlu(knowledge_dir: Path, *, rasa_url: str | None = None) -> NLU:
    """Train the built-in model from the content; with ``rasa_url``, ask that Rasa server first."""
    builtin = build_builtin(knowledge_dir)
    if not rasa_url:
        return builtin
    from bot.nlu.rasa import RasaNLU

    return RasaNLU(rasa_url, fallback=builtin)
