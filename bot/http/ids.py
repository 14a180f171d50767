"""Row ids in routes: path and form parameters that refuse out-of-range ids with 422, before any query.

Every route that takes a row id declares it with one of these types (a test checks that no route takes
a bare ``int``), so ``/console/escalations/99999999999999999999999`` is a clear 422, never a 500 from the
database driver (:mod:`bot.store.ids`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path

from bot.store.ids import MAX_ROW_ID

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
FormRowId = Annotated[int, Form(ge=1, le=MAX_ROW_ID)]
