"""Reading a JSON request body safely: the one reader of the web chat and of every JSON webhook.

``json.loads`` alone is not enough for a body from anyone: ``[[[[...]]]]`` a hundred thousand levels deep
raises ``RecursionError`` (a 500 and a sixty-line traceback per request, so logs can be flooded), a
thousand levels parse but make every later walk over the data slow or recursive, a number of 5,000 digits
raises ``ValueError`` and ``NaN`` is not JSON at all. Here each of them is a :class:`BadJson` with a
short reason, answered 400 by the caller, and nothing is logged.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from fastapi import Request

from bot.errors import BadInput
from bot.http.limits import read_body

# Real bodies are shallow: a Telegram update nests about ten levels (a reply inside a message inside the
# update, a keyboard's rows), a Zalo event four, the web chat's one.
MAX_DEPTH = 32


class BadJson(BadInput):
    """A body that is not JSON, or JSON nested deeper than :data:`MAX_DEPTH` (answer 400)."""


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def too_deep(data: Any, max_depth: int = MAX_DEPTH) -> bool:
    """Whether ``data`` nests lists and objects more than ``max_depth`` levels (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(body: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``body``; :class:`BadJson` when it is not JSON or is nested too deeply."""
    try:
        data = json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise BadJson(f"the JSON is nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError):  # also numbers of thousands of digits
        raise BadJson("the body must be JSON") from None
    if too_deep(data, max_depth):
        raise BadJson(f"the JSON is nested deeper than {max_depth} levels")
    return data


async def read_json(request: Request, max_bytes: int) -> tuple[bytes, Any]:
    """The raw body (for signatures) and its JSON value: 413 past ``max_bytes``, :class:`BadJson` if bad."""
    body = await read_body(request, max_bytes)
    return body, parse_json(body)
