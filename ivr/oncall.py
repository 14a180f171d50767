"""Who the phone line rings in an emergency: the seam for the on-call rota.

Until the rota (the escalation issue) supplies the people on call, the numbers are
``HOTLINE_ONCALL_NUMBERS``, rung one after the other. An entry starting with ``sip:`` is dialled as a SIP
address (for example a counsellor's phone reached through the local carrier's trunk).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.runtime import Services


async def oncall_numbers(services: Services) -> list[str]:
    """The numbers to ring, in order (first, then the backups). Never log them."""
    return [number.get_secret_value() for number in services.settings.oncall_numbers]
