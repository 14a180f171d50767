"""The report's chart (PNG): contacts by month, contacts by topic and month, time to a counsellor.

Drawn with matplotlib's Agg backend on a :class:`matplotlib.figure.Figure` of its own (no pyplot, so
it is safe in a web server), imported when a chart is drawn: the service starts without it. It plots only what the :class:`~bot.stats.report.Report` publishes: a
hidden cell gets no bar, only its marker (``<5``, ``x``, ``n<5``) written where the bar would be.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.stats.labels import Words
from bot.stats.report import Report, Value
from bot.stats.suppress import TOTAL
from bot.topics import TOPICS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00")  # Okabe-Ito: colour-blind safe
MONTHS = "#2f4858"


def _bars(axes: Axes, xs: Sequence[float], values: Sequence[float | str], width: float, colour: str) -> None:
    """Bars for the shown values; the marker of a hidden one, written at the bottom, instead of a bar."""
    shown = [(x, v) for x, v in zip(xs, values, strict=True) if not isinstance(v, str)]
    axes.bar([x for x, _ in shown], [v for _, v in shown], width=width, color=colour)
    for x, value in zip(xs, values, strict=True):
        if isinstance(value, str):
            axes.annotate(
                value, (x, 0), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                fontsize=8, rotation=90, color=colour, fontweight="bold",
            )  # fmt: skip


def _legend(axes: Axes, entries: Sequence[tuple[str, str]]) -> None:
    """A legend drawn from the colours (a series with every value hidden still has its entry)."""
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=colour, label=label) for label, colour in entries]
    axes.legend(handles=handles, fontsize=8, ncols=len(handles), loc="upper left")


def _minutes(value: Value) -> float | str:
    return round(value / 60, 1) if isinstance(value, int) else value


def render_chart(report: Report, words: Words) -> bytes:
    """The chart as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 11), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    months_axes, topics_axes, waits_axes = figure.subplots(3, 1)
    figure.suptitle(f"{words('report')}: {report.period.describe()}")

    months = [m for m in report.channel_by_month.rows if m != TOTAL]
    xs = list(range(len(months)))
    _bars(months_axes, xs, [report.channel_by_month.get(m, TOTAL) for m in months], 0.6, MONTHS)
    months_axes.set_title(words("chart_months"))
    months_axes.set_xticks(xs, months, rotation=45, ha="right")
    months_axes.set_ylabel(words("contacts"))

    width = 0.8 / len(TOPICS)
    for i, topic in enumerate(TOPICS):
        offsets = [x - 0.4 + width * (i + 0.5) for x in xs]
        values = [report.topic_by_month.get(m, topic) for m in months]
        _bars(topics_axes, offsets, values, width, COLOURS[i % len(COLOURS)])
    topics_axes.set_title(words("chart_topics"))
    topics_axes.set_xticks(xs, months, rotation=45, ha="right")
    topics_axes.set_ylabel(words("contacts"))
    _legend(topics_axes, [(words(t), COLOURS[i % len(COLOURS)]) for i, t in enumerate(TOPICS)])

    kinds = list(report.waits)
    ks = list(range(len(kinds)))
    medians = [_minutes(report.waits[k]["median_seconds"]) for k in kinds]
    p90s = [_minutes(report.waits[k]["p90_seconds"]) for k in kinds]
    _bars(waits_axes, [k - 0.2 for k in ks], medians, 0.38, COLOURS[0])
    _bars(waits_axes, [k + 0.2 for k in ks], p90s, 0.38, COLOURS[1])
    waits_axes.set_title(words("chart_waits"))
    waits_axes.set_xticks(ks, [words(k) for k in kinds])
    waits_axes.set_ylabel("min")
    _legend(waits_axes, [(words("median"), COLOURS[0]), (words("p90"), COLOURS[1])])
    for axes in (months_axes, topics_axes, waits_axes):
        axes.set_ylim(bottom=0)
        axes.spines[["top", "right"]].set_visible(False)
    figure.supxlabel(words("chart_hidden").format(k=report.min_cell), fontsize=8, color="#555")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
