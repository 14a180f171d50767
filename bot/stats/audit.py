"""The audit of a suppression pattern: can a hidden cell be worked out from what is shown?

Someone trying to undo the suppression knows every shown cell, that ``<k`` means 1..k-1, that ``x``
means k or more, and that each line adds up. The smallest and largest value a hidden cell can then
have are two small linear programmes (the table's lines are the equations, the marks the bounds);
a cell is exposed when fewer than two whole numbers lie between them. This is the check statistical
offices run on suppressed tables (tau-Argus calls it the audit); scipy's HiGHS solves it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from bot.stats.lines import Key, Line

_EPSILON = 1e-6


def _bounds(mark: str, min_cell: int) -> tuple[float, float | None]:
    if mark == "primary":
        return (1.0, float(min_cell - 1))
    if mark == "withheld":
        return (0.0, None)
    return (float(min_cell), None)


def _solve(cost: list[float], system: dict[str, Any]) -> float | None:
    """The optimum of ``cost . x``, or None when it is unbounded."""
    from scipy.optimize import linprog  # when a report is made: SciPy is not loaded to serve

    result = linprog(cost, method="highs", **system)
    if result.status == 3:
        return None
    if result.status != 0:
        raise RuntimeError(f"the suppression audit failed: {result.message}")
    return float(result.fun)


def first_exposed(
    values: Mapping[Key, int],
    lines: Sequence[Line],
    marks: Mapping[Key, str],
    min_cell: int,
    *,
    only: Key | None = None,
) -> Key | None:
    """The first hidden cell (or ``only``) whose value the shown cells give away, if any."""
    hidden = sorted({cell for line in lines for cell in line.cells if cell in marks})
    if not hidden:
        return None
    index = {cell: i for i, cell in enumerate(hidden)}
    rows: list[list[float]] = []
    rhs: list[float] = []
    for line in lines:
        if not any(cell in index for cell in line.cells):
            continue
        row = [0.0] * len(hidden)
        known = 0.0
        for cell, sign in [*((p, 1.0) for p in line.parts), (line.total, -1.0)]:
            if cell in index:
                row[index[cell]] += sign
            else:
                known += sign * values[cell]
        rows.append(row)
        rhs.append(-known)
    system: dict[str, Any] = {
        "A_eq": rows,
        "b_eq": rhs,
        "bounds": [_bounds(marks[cell], min_cell) for cell in hidden],
    }
    for cell in [only] if only is not None else hidden:
        if cell not in index:
            continue
        unit = [0.0] * len(hidden)
        unit[index[cell]] = 1.0
        low = _solve(unit, system)
        high = _solve([-u for u in unit], system)
        if (
            low is not None
            and high is not None
            and math.floor(_EPSILON - high) - math.ceil(low - _EPSILON) < 1
        ):
            return cell  # fewer than two whole numbers fit: the count is certain
    return None
