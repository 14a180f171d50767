"""Statistics and reports: contacts, escalations and calls counted for the programme's reports.

Reading order: :mod:`bot.stats.period` (which days, in which time zone), :mod:`bot.stats.queries`
(the rows, no content), :mod:`bot.stats.figures` (raw counts), :mod:`bot.stats.suppress` and
:mod:`bot.stats.audit` (small-count suppression), :mod:`bot.stats.report` (the published figures),
then the outputs: :mod:`bot.stats.formats` (table, CSV, JSON, XLSX), :mod:`bot.stats.chart` (PNG),
:mod:`bot.stats.commands` (``hotline stats``) and the console page ``bot/console/stats.py``.

Nothing published here is an exact count under ``HOTLINE_STATS_MIN_CELL``: every output is built
from :class:`bot.stats.report.Report`, which only ever holds suppressed values.
"""
