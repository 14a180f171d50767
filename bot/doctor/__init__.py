"""``hotline doctor``: every configured part checked for real, each reported as ok, a problem with its
fix, or skipped (not configured). Used after deploying and whenever something seems wrong.

The checks live by subject: :mod:`bot.doctor.channels` (Telegram, Zalo, Messenger, Twilio, the public
URL), :mod:`bot.doctor.service` (the secret key, the database, content and model), :mod:`bot.doctor.rota`
(who is on call); :mod:`bot.doctor.report` runs them side by side, each with a time limit, so that one
failing or hanging check never stops the others.
"""

from __future__ import annotations

from bot.doctor.report import Check, Context, Finding, Status, render, run_checks

__all__ = ["Check", "Context", "Finding", "Status", "all_checks", "render", "run_checks"]


def all_checks() -> list[tuple[str, Check]]:
    """Every check, in the order they are printed: (what it checks, the check)."""
    from bot.doctor import channels, rota, service

    return [
        ("secret key", service.secret_key),
        ("database", service.database),
        ("content", service.content),
        ("model", service.model),
        ("public URL", channels.public_url),
        ("Telegram", channels.telegram),
        ("Zalo Bot", channels.zalo_bot),
        ("Zalo OA", channels.zalo_oa),
        ("Messenger", channels.messenger),
        ("Twilio", channels.twilio),
        ("rota", rota.rota),
    ]
