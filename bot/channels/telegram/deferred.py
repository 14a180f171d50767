"""aiogram imported with its types' validators built when first used, not all at import.

aiogram's ``types`` package ends by calling ``model_rebuild`` on each of its 400-odd pydantic models with
one shared namespace, which builds every model's validator and serializer at once. Each embeds the whole
graph of the models it refers to (an ``Update`` holds a ``Message``, which holds almost everything), so
that loop alone costs about 100 MiB of memory and seconds of CPU at every start, for models the hotline
never receives. Here that loop only records the namespace; each model is built from it the first time it
is used (pydantic builds an incomplete model on first use by calling its ``model_rebuild``, which is given
the recorded namespace: aiogram's models, methods and ``Response[...]`` answers are given a
``model_rebuild`` that passes it), so the validators are the same ones, built for the models in use only.

:func:`import_aiogram` must run before anything imports aiogram: this package's ``__init__`` calls it.
:func:`warm` builds what an emergency uses (the update, the reply, the page, the answers), in a thread,
once the server answers (:meth:`bot.runtime.Services.warm`): left to the first emergency, those builds
delayed its reply and its page by seconds after every start (``benchmarks/emergency_bench.py``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_namespace: dict[str, Any] = {}
_RECORDED = object()
"""What a namespace chooser returns when it kept the namespace for later instead of building now."""


def _model_rebuild(original: Callable[..., Any], choose: Callable[[type[Any], Any], Any]) -> Any:
    """pydantic's ``model_rebuild`` with the types namespace chosen by ``choose(cls, namespace)``: the one
    to build with, or :data:`_RECORDED` to build nothing now. Re-check on any aiogram or pydantic upgrade:
    the keyword arguments are pydantic's own."""

    def model_rebuild(
        cls: type[Any],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        namespace = choose(cls, _types_namespace)
        if namespace is _RECORDED:
            return None
        return original(  # type: ignore[no-any-return]
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,
            _types_namespace=namespace,
        )

    return classmethod(model_rebuild)


def import_aiogram() -> None:
    """Import aiogram (once) with the deferred build described above."""
    with _lock:
        if "aiogram" in sys.modules:
            return
        from pydantic import BaseModel

        original = BaseModel.__dict__["model_rebuild"].__func__

        def record(cls: type[BaseModel], namespace: Any) -> Any:
            if namespace is not None and cls.__module__.startswith("aiogram.types"):
                _namespace.update(namespace)  # aiogram's loop: build later, from this namespace
                return _RECORDED
            return namespace

        BaseModel.model_rebuild = _model_rebuild(original, record)  # type: ignore[method-assign]
        try:
            import aiogram  # noqa: F401
            from aiogram.client.context_controller import BotContextController
            from aiogram.methods.base import Request, Response
        finally:
            BaseModel.model_rebuild = classmethod(original)  # type: ignore[method-assign,assignment]

        rebuild = _model_rebuild(
            original, lambda cls, namespace: _namespace if namespace is None else namespace
        )
        # Every aiogram type and method, and the API's answers (``Response[Message]``, made per call)
        for base in (BotContextController, Response, Request):
            base.model_rebuild = rebuild  # type: ignore[method-assign]


_warmed = False


def warm() -> None:
    """Build the validators of what an emergency uses, so that no person waits for them (idempotent)."""
    global _warmed
    with _lock:
        if _warmed:
            return
        _warmed = True
    from aiogram.methods import AnswerCallbackQuery, DeleteMessages, EditMessageText, SendMessage
    from aiogram.methods.base import Response
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

    used: tuple[Any, ...] = (
        Update,
        Message,
        CallbackQuery,
        InlineKeyboardMarkup,
        InlineKeyboardButton,
        SendMessage,
        EditMessageText,
        AnswerCallbackQuery,
        DeleteMessages,
        Response[Message],
        Response[bool],
    )
    for model in used:
        if not model.__pydantic_complete__:
            model.model_rebuild()
