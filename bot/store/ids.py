"""Row ids as requests may name them.

Primary keys are ``INTEGER``: 32 bits on PostgreSQL, 64 on SQLite. An id from outside larger than that
(``/console/escalations/99999999999999999999999``, ``take:999999999999`` on Telegram) made the driver
raise (``OverflowError`` on SQLite, ``DataError`` on PostgreSQL): a 500 and a traceback. Whatever reads an
id from a request checks it against :data:`MAX_ROW_ID` first; no row has a larger id.
"""

from __future__ import annotations

MAX_ROW_ID = 2**31 - 1


def is_row_id(value: int) -> bool:
    """Whether ``value`` can be the id of a row (1 to :data:`MAX_ROW_ID`)."""
    return 1 <= value <= MAX_ROW_ID
