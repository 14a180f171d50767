"""Who the phone line rings in an emergency.

The on-call rota comes first (the chain of the counsellors on shift, then every other counsellor with a
phone number), then ``HOTLINE_ONCALL_NUMBERS`` (numbers rung when the rota has nobody, or after it),
one after the other. An entry starting with ``sip:`` is dialled as a SIP address (for example a
counsellor's phone reached through the local carrier's trunk).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.escalation.rota import oncall_phone_numbers

if TYPE_CHECKING:
    from bot.runtime import Services


async def oncall_numbers(services: Services) -> list[str]:
    """The numbers to ring, in order (first, then the backups). Never log them."""
    async with services.sessionmaker() as session:
        numbers = await oncall_phone_numbers(session, services.crypto, services.clock.now())
    for number in services.settings.oncall_numbers:
        value = number.get_secret_value()
        if value not in numbers:
            numbers.append(value)
    return numbers
