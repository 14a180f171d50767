"""Errors of the language-understanding package."""

from __future__ import annotations


class NLUError(Exception):
    """Root of every error raised by :mod:`bot.nlu`."""


class NLUDataError(NLUError):
    """A training file is missing or malformed; the message names the file and what to fix."""
