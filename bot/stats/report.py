"""The published report: every figure after suppression, and nothing else.

:func:`build_report` turns raw :class:`~bot.stats.figures.Figures` into a :class:`Report` whose cells
are either exact counts (``int``) or markers: ``"<5"`` (fewer than k, :data:`~bot.stats.suppress.PRIMARY`),
``"x"`` (hidden so that a small count cannot be worked out, :data:`~bot.stats.suppress.COMPLEMENTARY`),
``".."`` (a table too sparse to show, :data:`~bot.stats.suppress.WITHHELD`);
times computed from fewer than k cases read ``"n<5"``. Every output (table, CSV, JSON, XLSX, chart,
console) is made from a :class:`Report`, so none can show more than it holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.stats import queries
from bot.stats.figures import (
    CHECKINS,
    FORM_TABLES,
    NOT_TAKEN,
    PHONE,
    TAKEN,
    Figures,
    count,
    median,
    percentile,
)
from bot.stats.lines import Key
from bot.stats.period import Period
from bot.stats.suppress import (
    COMPLEMENTARY,
    TOTAL,
    WITHHELD,
    CountTable,
    check_min_cell,
    column_totals,
    one_way,
    protect_all,
    two_way,
)
from bot.store.alerts import COUNTERS as ALERT_COUNTERS
from bot.topics import TOPICS

Value = int | str
COUNT = "count"
HIDDEN = "x"
NOT_SHOWN = ".."


@dataclass(frozen=True)
class Grid:
    """A published table: row and column codes (``total`` included where there is one), and cells."""

    name: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[Key, Value]

    def get(self, row: str, column: str = COUNT) -> Value:
        return self.cells[(row, column)]

    def column(self, column: str = COUNT) -> dict[str, Value]:
        return {row: self.cells[(row, column)] for row in self.rows}

    def row(self, row: str) -> dict[str, Value]:
        return {column: self.cells[(row, column)] for column in self.columns}

    def to_json(self) -> dict[str, Any]:
        """A one-column table as ``{row: value}``, otherwise ``{row: {column: value}}``."""
        if self.columns == (COUNT,):
            return self.column()
        return {row: self.row(row) for row in self.rows}

    def transposed(self, name: str) -> Grid:
        cells = {(c, r): v for (r, c), v in self.cells.items()}
        return Grid(name, self.columns, self.rows, cells)

    def margin(self, name: str, *, of_rows: bool) -> Grid:
        """The totals of the rows (``of_rows``) or of the columns, as a one-column table."""
        if of_rows:
            cells = {(r, COUNT): self.cells[(r, TOTAL)] for r in self.rows}
            return Grid(name, self.rows, (COUNT,), cells)
        cells = {(c, COUNT): self.cells[(TOTAL, c)] for c in self.columns}
        return Grid(name, self.columns, (COUNT,), cells)


@dataclass(frozen=True)
class Report:
    """Every published figure of one period."""

    period: Period
    min_cell: int
    unique_users: Value
    channel_by_month: Grid  # rows: months + total; columns: channels + total
    topic_by_month: Grid  # rows: months + total; columns: topics (a contact may have several)
    by_province: Grid
    escalations: Grid  # rows: kinds + total; columns: taken, not_taken, total
    waits: Mapping[str, Mapping[str, Value]]  # kind -> median_seconds, p90_seconds
    by_outcome: Grid
    calls: Mapping[str, Value]  # count, median_duration_seconds, abandoned
    referrals: Grid  # a contact may be shown several kinds: no total
    helpfulness: Grid
    checkins: Grid  # safety check-ins: set, answered, escalated (no total: they overlap)
    alerts: Grid  # bad-client alerts: reports, approved, rejected, alerts sent, lookups, matches
    # the close form (cases with one): reasons and their programme / CHI categories (a case may have
    # several: no total), the risk at the end and follow-up (total: the forms), referrals made (no total)
    close_reasons: Grid | None = None
    close_programme: Grid | None = None
    close_chi: Grid | None = None
    close_risk: Grid | None = None
    close_referrals: Grid | None = None
    close_follow_up: Grid | None = None

    @property
    def form_grids(self) -> dict[str, Grid]:
        grids = {
            "close_reasons": self.close_reasons, "close_programme": self.close_programme,
            "close_chi": self.close_chi, "close_risk": self.close_risk, "close_referrals": self.close_referrals,
            "close_follow_up": self.close_follow_up,
        }  # fmt: skip
        return {name: grid for name, grid in grids.items() if grid is not None}

    @property
    def primary(self) -> str:
        return f"<{self.min_cell}"

    @property
    def too_few(self) -> str:
        return f"n<{self.min_cell}"

    @property
    def contacts(self) -> Value:
        return self.channel_by_month.get(TOTAL, TOTAL)

    @property
    def by_channel(self) -> Grid:
        return self.channel_by_month.margin("by_channel", of_rows=False)

    @property
    def by_month(self) -> Grid:
        return self.channel_by_month.margin("by_month", of_rows=True)

    @property
    def by_topic(self) -> Grid:
        return self.topic_by_month.margin("by_topic", of_rows=False)

    def legend(self) -> dict[str, str]:
        k = self.min_cell
        return {
            self.primary: f"fewer than {k}: not shown, so that nobody can be singled out",
            HIDDEN: f"{k} or more, not shown so that a count under {k} cannot be worked out from the totals",
            self.too_few: f"computed from fewer than {k} cases: not shown",
            NOT_SHOWN: "a table with too few contacts to show any of it safely",
        }

    def to_json(self) -> dict[str, Any]:
        """The whole report as JSON-ready data; the codes are stable (see the README)."""
        return {
            "period": {
                "from": self.period.start.isoformat(),
                "to": self.period.end.isoformat(),
                "timezone": self.period.zone,
            },
            "min_cell": self.min_cell,
            "contacts": self.contacts,
            "unique_users": self.unique_users,
            "by_channel": self.by_channel.to_json(),
            "by_month": self.by_month.to_json(),
            "channel_by_month": self.channel_by_month.to_json(),
            "by_topic": self.by_topic.to_json(),
            "topic_by_month": self.topic_by_month.to_json(),
            "by_province": self.by_province.to_json(),
            "escalations": self.escalations.to_json(),
            "time_to_counsellor_seconds": {kind: dict(values) for kind, values in self.waits.items()},
            "by_outcome": self.by_outcome.to_json(),
            "calls": dict(self.calls),
            "referrals": self.referrals.to_json(),
            "helpfulness": self.helpfulness.to_json(),
            "checkins": self.checkins.to_json(),
            "alerts": self.alerts.to_json(),
            **{name: grid.to_json() for name, grid in self.form_grids.items()},
            "legend": self.legend(),
        }


def _publish(table: CountTable, marks: Mapping[Key, str], min_cell: int) -> Grid:
    cells: dict[Key, Value] = {}
    for key, value in table.values.items():
        mark = marks.get(key)
        if mark is None:
            cells[key] = value
        else:
            cells[key] = {COMPLEMENTARY: HIDDEN, WITHHELD: NOT_SHOWN}.get(mark, f"<{min_cell}")
    return Grid(table.name, table.rows, table.columns, cells)


def _time(values: Sequence[float], min_cell: int, compute: Callable[[Sequence[float]], float]) -> Value:
    if len(values) < min_cell:
        return f"n<{min_cell}"
    return int(compute(values) + 0.5)


def build_report(figures: Figures, period: Period, min_cell: int) -> Report:
    """Suppress the figures and keep only what may be published."""
    check_min_cell(min_cell)
    months, channels = figures.months, figures.channels
    contacts = two_way("channel_by_month", months, channels, figures.contacts)
    contacts.shared = {(TOTAL, TOTAL): "contacts"}
    if PHONE in channels:
        contacts.shared[(TOTAL, PHONE)] = "calls"
    topics = column_totals("topic_by_month", months, TOPICS, figures.topics)
    provinces = one_way("by_province", {p: figures.provinces[p] for p in figures.province_names})
    provinces.shared = {(TOTAL, COUNT): "contacts"}
    helpful = one_way("helpfulness", {h: figures.helpful[h] for h in ("yes", "no", "no_answer")})
    helpful.shared = {(TOTAL, COUNT): "contacts"}
    escalations = two_way("escalations", figures.kinds, (TAKEN, NOT_TAKEN), figures.escalations)
    escalations.shared = {(TOTAL, TOTAL): "escalations"}
    outcomes = one_way("by_outcome", {o: figures.outcomes[o] for o in figures.outcome_codes})
    outcomes.shared = {(TOTAL, COUNT): "escalations"}
    referrals = one_way("referrals", {r: figures.referrals[r] for r in figures.referral_kinds}, total=False)
    singles = one_way(
        "singles", {"unique_users": figures.unique_users, "calls": figures.calls, "abandoned": figures.abandoned},
        total=False,
    )  # fmt: skip
    singles.shared = {("calls", COUNT): "calls"}
    checkins = one_way("checkins", {c: figures.checkins[c] for c in CHECKINS}, total=False)
    alerts = one_way("alerts", {c: figures.alerts[c] for c in ALERT_COUNTERS}, total=False)
    reasons, programme, chi, risks = (
        {code: getattr(figures, attribute)[code] for code in codes} for attribute, codes in FORM_TABLES
    )
    close_reasons = one_way("close_reasons", reasons, total=False)
    close_programme = one_way("close_programme", programme, total=False)
    close_chi = one_way("close_chi", chi, total=False)
    close_risk = one_way("close_risk", risks)
    close_risk.shared = {(TOTAL, COUNT): "forms"}
    close_follow_up = one_way("close_follow_up", {c: figures.follow_up[c] for c in ("yes", "no")})
    close_follow_up.shared = {(TOTAL, COUNT): "forms"}
    made = figures.referrals_made
    close_referrals = one_way("close_referrals", {r: made[r] for r in sorted(made)}, total=False)
    tables = [contacts, topics, provinces, helpful, escalations, outcomes, referrals, singles, checkins, alerts,
              close_reasons, close_programme, close_chi, close_risk, close_referrals, close_follow_up]  # fmt: skip
    marks = protect_all(tables, min_cell)
    grid = {table.name: _publish(table, marks[table.name], min_cell) for table in tables}
    waits = {
        kind: {
            "median_seconds": _time(figures.waits.get(kind, []), min_cell, median),
            "p90_seconds": _time(figures.waits.get(kind, []), min_cell, lambda v: percentile(v, 0.9)),
        }
        for kind in figures.kinds
    }
    return Report(
        period=period,
        min_cell=min_cell,
        unique_users=grid["singles"].get("unique_users"),
        channel_by_month=grid["channel_by_month"],
        topic_by_month=grid["topic_by_month"],
        by_province=grid["by_province"],
        escalations=grid["escalations"],
        waits=waits,
        by_outcome=grid["by_outcome"],
        calls={
            "count": grid["singles"].get("calls"),
            "median_duration_seconds": _time(figures.call_seconds, min_cell, median),
            "abandoned": grid["singles"].get("abandoned"),
        },
        referrals=grid["referrals"],
        helpfulness=grid["helpfulness"],
        checkins=grid["checkins"],
        alerts=grid["alerts"],
        close_reasons=grid["close_reasons"],
        close_programme=grid["close_programme"],
        close_chi=grid["close_chi"],
        close_risk=grid["close_risk"],
        close_referrals=grid["close_referrals"],
        close_follow_up=grid["close_follow_up"],
    )


async def load_report(
    sessionmaker: async_sessionmaker[AsyncSession], period: Period, *, min_cell: int
) -> Report:
    """Read a period's contacts and escalations and make its report (the CLI and the console call this).

    Counting and suppressing run in a worker thread: the app's event loop keeps answering people.
    """
    async with sessionmaker() as session:
        contacts = await queries.contacts_in(session, period)
        escalations = await queries.escalations_in(session, period)
        alert_counts = await queries.alert_counts_in(session, period)
    figures = count(contacts, escalations, period)
    figures.alerts.update(alert_counts)
    return await asyncio.to_thread(build_report, figures, period, min_cell)
