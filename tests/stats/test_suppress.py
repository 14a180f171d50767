"""Small-count suppression: the rule of bot/stats/suppress.py, and an attacker who tries every value."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.stats.errors import StatsError
from bot.stats.lines import Key
from bot.stats.suppress import (
    COMPLEMENTARY,
    PRIMARY,
    TOTAL,
    WITHHELD,
    CountTable,
    one_way,
    protect,
    protect_all,
    two_way,
)

K = 5


def shown(table: CountTable, marks: dict[Key, str]) -> dict[str, object]:
    return {
        f"{r}/{c}": ("x" if marks.get((r, c)) == COMPLEMENTARY else "<5" if (r, c) in marks else v)
        for (r, c), v in table.values.items()
    }


def test_counts_under_k_are_hidden_zero_and_k_are_shown() -> None:
    table = one_way("t", {"a": 0, "b": 5, "c": 12, "d": 40}, total=False)
    assert protect(table, K) == {}
    table = one_way("t", {"a": 1, "b": 4}, total=False)
    assert protect(table, K) == {("a", "count"): PRIMARY, ("b", "count"): PRIMARY}


def test_one_small_cell_gets_the_smallest_other_cell_hidden_with_it() -> None:
    table = one_way("t", {"a": 3, "b": 20, "c": 10, "d": 0})
    assert shown(table, protect(table, K)) == {
        "a/count": "<5", "b/count": 20, "c/count": "x", "d/count": 0, "total/count": 33,
    }  # fmt: skip


def test_small_cells_that_add_up_to_a_small_group_get_a_third() -> None:
    table = one_way("t", {"a": 1, "b": 2, "c": 9, "d": 30})
    marks = protect(table, K)
    assert marks == {("a", "count"): PRIMARY, ("b", "count"): PRIMARY, ("c", "count"): COMPLEMENTARY}


def test_a_cell_the_markers_give_away_is_protected_even_at_the_cost_of_the_total() -> None:
    # 1 and 5 with a total of 6: "<5" is 1..4 and "x" at least 5, so both would be certain.
    table = one_way("t", {"a": 1, "b": 5})
    assert shown(table, protect(table, K)) == {"a/count": "<5", "b/count": "x", "total/count": "x"}


def test_a_shared_total_hidden_in_one_table_is_hidden_in_all() -> None:
    first = one_way("first", {"a": 1, "b": 5})
    second = one_way("second", {"yes": 3, "no": 3})
    first.shared = second.shared = {(TOTAL, "count"): "contacts"}
    marks = protect_all([first, second], K)
    assert marks["first"][(TOTAL, "count")] == COMPLEMENTARY
    assert marks["second"][(TOTAL, "count")] == COMPLEMENTARY, "else the first table's total is given away"


def test_a_threshold_under_three_is_refused() -> None:
    with pytest.raises(StatsError, match="at least 3"):
        protect(one_way("t", {"a": 1}), 2)


def test_a_two_way_table_hides_in_rows_and_columns() -> None:
    rows, columns = ["jan", "feb"], ["web", "telegram", "phone"]
    counts = {("jan", "web"): 10, ("jan", "telegram"): 3, ("jan", "phone"): 12,
              ("feb", "web"): 8, ("feb", "telegram"): 9, ("feb", "phone"): 20}  # fmt: skip
    table = two_way("t", rows, columns, counts)
    marks = protect(table, K)
    assert marks[("jan", "telegram")] == PRIMARY
    assert_safe(table, marks)


# -- the attacker ---------------------------------------------------------------------------------


def _range(mark: str, bound: int) -> range:
    return range(1, K) if mark == PRIMARY else range(K, bound + 1)


def _bound(table: CountTable, marks: dict[Key, str], key: Key, default: int) -> int:
    """The largest value a hidden inner cell could have: no more than a shown total of its row or column."""
    totals = [(key[0], TOTAL), (TOTAL, key[1]), (TOTAL, TOTAL)]
    return min([default, *(table.values[t] for t in totals if t in table.values and t not in marks)])


def possible_values(table: CountTable, marks: dict[Key, str]) -> dict[Key, set[int]]:
    """Every value each hidden cell can take, given what is shown: tries every completion, row by row."""
    inner_rows = [r for r in table.rows if r != TOTAL]
    inner_cols = [c for c in table.columns if c != TOTAL]
    bound = sum(table.values[(r, c)] for r in inner_rows for c in inner_cols) + K

    def fits(key: Key, value: int) -> bool:
        if key not in marks:
            return table.values[key] == value
        return value in _range(marks[key], bound)

    per_row: list[list[dict[Key, int]]] = []
    for r in inner_rows:
        hidden = [(r, c) for c in inner_cols if (r, c) in marks]
        options = []
        ranges = [_range(marks[key], _bound(table, marks, key, bound)) for key in hidden]
        for values in itertools.product(*ranges):
            row = {key: table.values[key] for key in ((r, c) for c in inner_cols)}
            row.update(zip(hidden, values, strict=True))
            if (r, TOTAL) in table.values and not fits((r, TOTAL), sum(row.values())):
                continue
            options.append(row)
        per_row.append(options)
    seen: dict[Key, set[int]] = {key: set() for key in marks}
    limits = {c: table.values[(TOTAL, c)] for c in inner_cols if (TOTAL, c) not in marks}

    def complete(cells: dict[Key, int]) -> None:
        totals = {(TOTAL, c): sum(cells[(r, c)] for r in inner_rows) for c in inner_cols}
        if (TOTAL, TOTAL) in table.values:
            totals[(TOTAL, TOTAL)] = sum(totals.values())
        for r in inner_rows:
            if (r, TOTAL) in table.values:
                totals[(r, TOTAL)] = sum(cells[(r, c)] for c in inner_cols)
        if all(fits(key, value) for key, value in totals.items() if key in table.values):
            for key in marks:
                seen[key].add({**cells, **totals}[key])

    def walk(index: int, cells: dict[Key, int]) -> None:
        if index == len(per_row):
            complete(cells)
            return
        for row in per_row[index]:
            merged = {**cells, **row}
            if all(sum(merged.get((r, c), 0) for r in inner_rows) <= limit for c, limit in limits.items()):
                walk(index + 1, merged)

    walk(0, {})
    return seen


def assert_safe(table: CountTable, marks: dict[Key, str]) -> None:
    if set(marks.values()) == {WITHHELD}:
        assert set(marks) == set(table.values), "a withheld table shows nothing"
        return
    for key, value in table.values.items():
        if 0 < value < K:
            assert marks.get(key) == PRIMARY, f"{key}={value} is shown"
    for line in table.lines:
        hidden = [p for p in line.parts if p in marks]
        if hidden and line.total not in marks:
            assert len(hidden) >= 2 and sum(table.values[p] for p in hidden) >= K, f"{line} is weak"
    for key, values in possible_values(table, marks).items():
        assert table.values[key] in values
        assert len(values) >= 2, f"{key} can only be {values}: {shown(table, marks)}"


def test_a_table_too_sparse_to_protect_is_withheld() -> None:
    """Found by the random test: with every positive cell hidden, the zero and the one "x" (at least 5)
    still gave the whole table away."""
    counts = {("m0", "c0"): 1, ("m0", "c1"): 0, ("m1", "c0"): 2, ("m1", "c1"): 3,
              ("m2", "c0"): 1, ("m2", "c1"): 1}  # fmt: skip
    table = two_way("t", ["m0", "m1", "m2"], ["c0", "c1"], counts)
    marks = protect(table, K)
    assert set(marks.values()) == {WITHHELD} and set(marks) == set(table.values)
    assert_safe(table, marks)


@pytest.mark.parametrize("seed", range(40))
def test_no_hidden_cell_can_be_worked_out(seed: int) -> None:
    rng = random.Random(seed)
    rows = [f"m{i}" for i in range(rng.randint(1, 3))]
    columns = [f"c{i}" for i in range(rng.randint(2, 5 - len(rows) if len(rows) > 1 else 4))]
    counts = {(r, c): rng.choice([0, 1, 2, 3, 4, 5, 6, 9]) for r in rows for c in columns}
    table = two_way("t", rows, columns, counts)
    assert_safe(table, protect(table, K))


@pytest.mark.parametrize("seed", range(20))
def test_no_hidden_cell_of_a_list_can_be_worked_out(seed: int) -> None:
    rng = random.Random(seed)
    counts = {f"p{i}": rng.choice([0, 1, 2, 3, 4, 5, 7, 12]) for i in range(rng.randint(1, 6))}
    table = one_way("t", counts)
    assert_safe(table, protect(table, K))
