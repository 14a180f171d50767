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
:data:`WARM` lists what the channel uses on every update, built at once in the import (in the thread the
runtime builds the channel in) rather than on the first request.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_lock = threading.Lock()
_namespace: dict[str, Any] = {}


def import_aiogram() -> None:
    """Import aiogram (once) with the deferred build described above."""
    with _lock:
        if "aiogram" in sys.modules:
            return
        from pydantic import BaseModel

        original = BaseModel.__dict__["model_rebuild"].__func__

        def recording(
            cls: type[BaseModel],
            *,
            force: bool = False,
            raise_errors: bool = True,
            _parent_namespace_depth: int = 2,
            _types_namespace: Any = None,
        ) -> bool | None:
            if _types_namespace is not None and cls.__module__.startswith("aiogram.types"):
                _namespace.update(_types_namespace)  # aiogram's loop: build later, from this namespace
                return None
            return original(  # type: ignore[no-any-return]
                cls,
                force=force,
                raise_errors=raise_errors,
                _parent_namespace_depth=_parent_namespace_depth + 1,
                _types_namespace=_types_namespace,
            )

        BaseModel.model_rebuild = classmethod(recording)  # type: ignore[method-assign,assignment]
        try:
            import aiogram  # noqa: F401
            from aiogram.client.context_controller import BotContextController
            from aiogram.methods.base import Request, Response
        finally:
            BaseModel.model_rebuild = classmethod(original)  # type: ignore[method-assign,assignment]

        def rebuild(
            cls: type[BaseModel],
            *,
            force: bool = False,
            raise_errors: bool = True,
            _parent_namespace_depth: int = 2,
            _types_namespace: Any = None,
        ) -> bool | None:
            return original(  # type: ignore[no-any-return]
                cls,
                force=force,
                raise_errors=raise_errors,
                _parent_namespace_depth=_parent_namespace_depth + 1,
                _types_namespace=_namespace if _types_namespace is None else _types_namespace,
            )

        # Every aiogram type and method, and the API's answers (``Response[Message]``, made per call)
        for base in (BotContextController, Response, Request):
            base.model_rebuild = classmethod(rebuild)  # type: ignore[method-assign,assignment]
