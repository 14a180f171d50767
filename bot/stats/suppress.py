"""Small-count suppression: no published count may single a person out, nor let one be worked out.

The rule (``k`` is ``HOTLINE_STATS_MIN_CELL``, default 5; it must be at least 3):

1. **Primary suppression.** A count from 1 to k-1 is never shown; it reads ``<k`` (``<5``). Zero is
   shown: it singles nobody out.
2. **Lines.** A table declares its additive lines: the cells of a row or column and the total they add
   up to (rows of a 2-way table, its columns, and both margins with the grand total). Where a line's
   total is shown and some of its cells are hidden, at least two cells are hidden and the hidden cells
   add up to at least k: so no hidden cell is "the total minus the others", and the hidden cells
   together are not a small group either.
3. **Complementary suppression.** To satisfy 2, more cells are hidden: the smallest positive cell of
   the line, inner cells before totals, the table's grand total only as a last resort. Such a cell
   reads ``x``: it is at least k, hidden only to protect a small one.
4. **Audit.** Finally every hidden cell is checked the way someone trying to undo the suppression
   would (:mod:`bot.stats.audit`): from every line of the table at once, what the shown cells, and
   ``<k`` meaning 1..k-1 and ``x`` meaning at least k, leave possible. A hidden cell whose value is
   then certain gets a complementary cell next to it, and the check runs again.
5. **Too sparse to publish.** In a table of nothing but small counts, every positive cell may be
   hidden and one still given away (by the zeros, and because ``x`` says "at least k"); then none of
   the table is shown: every cell reads ``..``.
6. **Tables that share a cell** (the number of contacts is the grand total of several tables; the
   number of calls is the phone column of contacts by channel) hide it everywhere as soon as one of
   them must hide it (:func:`protect_all`).

Tables whose rows are not additive (a contact can have several topics) declare only the lines that
are (a topic's months add up to the topic's total), and publish no "no topic" cell that would make
the rows add up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.stats.audit import first_exposed
from bot.stats.errors import StatsError
from bot.stats.lines import Key, Line

TOTAL = "total"
PRIMARY = "primary"
COMPLEMENTARY = "complementary"
WITHHELD = "withheld"  # a table too sparse to protect: none of it is shown


@dataclass
class CountTable:
    """Raw counts in a grid of ``rows`` x ``columns`` (totals included), and their additive lines.

    ``shared`` names the cells other tables publish too (``"contacts"`` for the number of contacts),
    so that they are hidden in all of them or in none.
    """

    name: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: dict[Key, int]
    lines: tuple[Line, ...] = ()
    shared: dict[Key, str] = field(default_factory=dict)

    def rank(self, key: Key) -> int:
        """Which cells to hide first: inner cells (0), then subtotals (1), grand totals last (2).

        A grand total is the total of a line that is part of no other line.
        """
        if not any(key == line.total for line in self.lines):
            return 0
        return 1 if any(key in line.parts for line in self.lines) else 2

    def order(self, key: Key) -> tuple[int, int]:
        return (self.rows.index(key[0]), self.columns.index(key[1]))


def two_way(name: str, rows: Sequence[str], columns: Sequence[str], counts: Mapping[Key, int]) -> CountTable:
    """A table whose rows and columns both add up: totals in both margins and a grand total."""
    values = {(r, c): counts.get((r, c), 0) for r in rows for c in columns}
    for r in rows:
        values[(r, TOTAL)] = sum(values[(r, c)] for c in columns)
    for c in (*columns, TOTAL):
        values[(TOTAL, c)] = sum(values[(r, c)] for r in rows)
    lines = [Line(tuple((r, c) for c in columns), (r, TOTAL)) for r in (*rows, TOTAL)]
    lines += [Line(tuple((r, c) for r in rows), (TOTAL, c)) for c in (*columns, TOTAL)]
    return CountTable(name, (*rows, TOTAL), (*columns, TOTAL), values, tuple(lines))


def column_totals(
    name: str, rows: Sequence[str], columns: Sequence[str], counts: Mapping[Key, int]
) -> CountTable:
    """A table whose columns add up but whose rows do not (one contact, several topics)."""
    values = {(r, c): counts.get((r, c), 0) for r in rows for c in columns}
    for c in columns:
        values[(TOTAL, c)] = sum(values[(r, c)] for r in rows)
    lines = tuple(Line(tuple((r, c) for r in rows), (TOTAL, c)) for c in columns)
    return CountTable(name, (*rows, TOTAL), tuple(columns), values, lines)


def one_way(name: str, counts: Mapping[str, int], *, total: bool = True, column: str = "count") -> CountTable:
    """A list of counts, with the total they add up to (``total=False`` when they do not add up)."""
    rows = tuple(counts)
    values = {(r, column): counts[r] for r in rows}
    if not total:
        return CountTable(name, rows, (column,), values)
    values[(TOTAL, column)] = sum(counts.values())
    line = Line(tuple((r, column) for r in rows), (TOTAL, column))
    return CountTable(name, (*rows, TOTAL), (column,), values, (line,))


def check_min_cell(min_cell: int) -> None:
    if min_cell < 3:
        raise StatsError(
            f"HOTLINE_STATS_MIN_CELL is {min_cell}: it must be at least 3 (with 2, '<2' would mean exactly 1)"
        )


def _weak(table: CountTable, line: Line, marks: Mapping[Key, str], min_cell: int) -> bool:
    """Rule 2: a line whose total is shown has no hidden cell, or two or more adding up to k or more."""
    if line.total in marks:
        return False
    hidden = [p for p in line.parts if p in marks]
    if not hidden:
        return False
    return len(hidden) == 1 or sum(table.values[p] for p in hidden) < min_cell


def _candidates(table: CountTable, keys: Iterable[Key], marks: Mapping[Key, str]) -> list[Key]:
    """Cells that could be hidden next: shown, positive; inner cells first, then the smallest."""
    unique = {key for key in keys if key not in marks and table.values[key] > 0}
    return sorted(unique, key=lambda key: (table.rank(key), table.values[key], table.order(key)))


def protect(table: CountTable, min_cell: int, forced: Mapping[Key, str] | None = None) -> dict[Key, str]:
    """Which cells to hide, and why (:data:`PRIMARY` or :data:`COMPLEMENTARY`). See the module's rule."""
    check_min_cell(min_cell)
    marks = {key: PRIMARY for key, value in table.values.items() if 0 < value < min_cell}
    marks.update(forced or {})
    while True:
        weak = next((line for line in table.lines if _weak(table, line, marks, min_cell)), None)
        if weak is not None:
            choice = _candidates(table, weak.cells, marks)
            if not choice:  # cannot happen: the line's shown total is positive
                raise StatsError(f"cannot protect the line {weak} of {table.name}")
            marks[choice[0]] = COMPLEMENTARY
            continue
        exposed = first_exposed(table.values, table.lines, marks, min_cell)
        if exposed is None:
            return marks
        near = [cell for line in table.lines if exposed in line.cells for cell in line.cells]
        choice = _candidates(table, near, marks) or _candidates(
            table, (cell for line in table.lines for cell in line.cells), marks
        )
        if not choice:
            return dict.fromkeys(table.values, WITHHELD)  # rule 5
        fixes = [
            key
            for key in choice
            if first_exposed(table.values, table.lines, {**marks, key: COMPLEMENTARY}, min_cell, only=exposed)
            is None
        ]
        marks[(fixes or choice)[0]] = COMPLEMENTARY


def protect_all(tables: Sequence[CountTable], min_cell: int) -> dict[str, dict[Key, str]]:
    """Protect several tables of one report; a shared cell hidden in one is hidden in all (rule 6)."""
    forced: dict[str, str] = {}  # shared name -> mark
    while True:
        result = {
            table.name: protect(
                table,
                min_cell,
                {key: forced[name] for key, name in table.shared.items() if name in forced},
            )
            for table in tables
        }
        newly = {
            name: result[table.name][key]
            for table in tables
            for key, name in table.shared.items()
            if key in result[table.name] and name not in forced
        }
        if not newly:
            return result
        forced.update(newly)
