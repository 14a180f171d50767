"""A report laid out as titled tables (sections): what the text table, CSV, XLSX and console show.

``hotline stats --by channel|topic|month|province|outcome`` shows one section, with that as its rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.stats.labels import Words
from bot.stats.report import COUNT, HIDDEN, NOT_SHOWN, Grid, Report, Value

BY = ("channel", "topic", "month", "province", "outcome")


@dataclass(frozen=True)
class Section:
    """One titled table: ``header`` names the columns, each row starts with its label."""

    key: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]


def _grid(
    key: str, grid: Grid, words: Words, first: str, *, value: str = "count", prefix: str = ""
) -> Section:
    columns = grid.columns
    header = (words(first), *(words(value) if c == COUNT else words(c, prefix) for c in columns))
    rows = tuple((words(r, prefix), *(grid.cells[(r, c)] for c in columns)) for r in grid.rows)
    return Section(key, words(key), header, rows)


def _pairs(key: str, pairs: list[tuple[str, Value]], words: Words) -> Section:
    return Section(key, words(key), (words("figure"), words("value")), tuple((words(k), v) for k, v in pairs))


def by_section(report: Report, by: str, words: Words) -> Section:
    """The one table ``--by`` asks for."""
    if by == "channel":
        return _grid("by_channel", report.channel_by_month.transposed("by_channel"), words, "channel")
    if by == "month":
        return _grid("channel_by_month", report.channel_by_month, words, "month")
    if by == "topic":
        months = report.topic_by_month
        return _grid("by_topic", months.transposed("by_topic"), words, "topic")
    if by == "province":
        return _grid("by_province", report.by_province, words, "province")
    if by == "outcome":
        return _grid("by_outcome", report.by_outcome, words, "outcome", value="total", prefix="outcome")
    raise ValueError(f"--by must be one of {', '.join(BY)}")


def sections(report: Report, words: Words) -> list[Section]:
    """The whole report, in reading order."""
    waits = tuple(
        (words(kind), words.duration(values["median_seconds"]), words.duration(values["p90_seconds"]))
        for kind, values in report.waits.items()
    )
    return [
        _pairs("summary", [("contacts", report.contacts), ("unique_users", report.unique_users)], words),
        _grid("channel_by_month", report.channel_by_month, words, "month"),
        _grid("topic_by_month", report.topic_by_month, words, "month"),
        _grid("by_province", report.by_province, words, "province"),
        _grid("escalations", report.escalations, words, "kind"),
        Section("waits", words("waits"), (words("kind"), words("median"), words("p90")), waits),
        _grid("by_outcome", report.by_outcome, words, "outcome", value="total", prefix="outcome"),
        _pairs(
            "calls",
            [
                ("calls_count", report.calls["count"]),
                ("median_duration_seconds", words.duration(report.calls["median_duration_seconds"])),
                ("abandoned", report.calls["abandoned"]),
            ],
            words,
        ),
        _grid("referrals", report.referrals, words, "service", prefix="service"),
        _grid("helpfulness", report.helpfulness, words, "answer"),
        _grid("checkins", report.checkins, words, "checkin", prefix="checkin"),
        _grid("alerts", report.alerts, words, "alert", prefix="alert"),
        *(
            _grid(name, grid, words, FORM_FIRST[name], value="cases", prefix=FORM_PREFIX[name])
            for name, grid in report.form_grids.items()
        ),
    ]


# The close form's tables: what their first column names, and the prefix of their row labels.
FORM_FIRST = {
    "close_reasons": "reason", "close_programme": "programme_category", "close_chi": "chi_category",
    "close_risk": "end_risk", "close_referrals": "service", "close_follow_up": "follow_up",
}  # fmt: skip
FORM_PREFIX = {
    "close_reasons": "reason", "close_programme": "programme", "close_chi": "chi", "close_risk": "end_risk",
    "close_referrals": "", "close_follow_up": "follow_up",
}  # fmt: skip


def legend(report: Report, words: Words) -> list[tuple[str, str]]:
    """What the markers mean, in the reader's language."""
    if words.codes:
        return list(report.legend().items())
    k = report.min_cell
    return [
        (report.primary, words("legend_primary").format(k=k)),
        (HIDDEN, words("legend_hidden").format(k=k)),
        (report.too_few, words("legend_too_few").format(k=k)),
        (NOT_SHOWN, words("legend_not_shown")),
    ]
