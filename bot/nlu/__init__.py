"""Understanding what people write: normalisation, topics, matching articles, and emergencies.

The engine codes against :func:`build_nlu`, :class:`NLU` and :class:`Understanding`::

    nlu = build_nlu(Path("knowledge"))
    understanding = await nlu.understand("ck dang danh e")
    understanding.emergency  # True
"""

from __future__ import annotations

from pathlib import Path

from bot.nlu.contract import NLU, Understanding
from bot.nlu.data import load_training_data
from bot.nlu.errors import NLUDataError, NLUError
from bot.nlu.lexicon import Lexicon
from bot.nlu.model import BuiltinNLU
from bot.nlu.normalize import fold, has_words, normalize

__all__ = [
    "NLU",
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


def build_builtin(knowledge_dir: Path, *, model_dir: Path | None = None) -> BuiltinNLU:
    """The built-in model of ``knowledge_dir`` (articles and ``nlu/``).

    With ``model_dir``, the trained model is kept there (``bot/nlu/cache.py``): loaded when the content
    and code are unchanged, trained and saved otherwise. Without it, trained now and not kept.
    """

    def train() -> BuiltinNLU:
        return BuiltinNLU(
            load_training_data(knowledge_dir), Lexicon.load(knowledge_dir / "nlu" / "lexicon.yaml")
        )

    if model_dir is None:
        return train()
    from bot.nlu.cache import load_or_train

    return load_or_train(knowledge_dir, model_dir, train, BuiltinNLU).model


def build_nlu(knowledge_dir: Path, *, rasa_url: str | None = None, model_dir: Path | None = None) -> NLU:
    """The built-in model (kept in ``model_dir`` if given); with ``rasa_url``, ask that Rasa server first."""
    builtin = build_builtin(knowledge_dir, model_dir=model_dir)
    if not rasa_url:
        return builtin
    from bot.nlu.rasa import RasaNLU

    return RasaNLU(rasa_url, fallback=builtin)
