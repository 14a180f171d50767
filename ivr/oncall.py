"""Who the phone line rings in an emergency.

The on-call rota comes first (the chain of the counsellors on shift, then every other counsellor with a
phone number), then ``HOTLINE_ONCALL_NUMBERS`` (numbers rung when the rota has nobody, or after it),
one after the other. An entry starting with ``sip:`` is dialled as a SIP address (for example a
counsellor's phone reached through the local carrier's trunk).
"""

from __future__ import annotations

from bot.channels.door import ChannelStore
from bot.escalation.rota import oncall_phone_numbers
from bot.settings import Settings


async def oncall_numbers(store: ChannelStore, settings: Settings) -> list[str]:
    """The numbers to ring, in order (first, then the backups). Never log them."""
    async with store.sessionmaker() as session:
        numbers = await oncall_phone_numbers(session, store.crypto, store.clock.now())
    for number in settings.oncall_numbers:
        value = number.get_secret_value()
        if value not in numbers:
            numbers.append(value)
    return numbers
