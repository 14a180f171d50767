"""The project's exceptions: one root, a few meaningful subclasses."""

from __future__ import annotations


class HotlineError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(HotlineError):
    """A setting is missing or wrong; the message says which and what to do."""


class ContentError(HotlineError):
    """A mistake in ``flows/`` or ``knowledge/``, with the file and line where it is."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class ContentErrors(HotlineError):
    """Several content mistakes at once (``hotline check`` prints them all)."""

    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class BadInput(HotlineError):
    """A request the service refuses (the message is safe to show to the client)."""
