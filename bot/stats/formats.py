"""The report's output formats: an aligned text table, CSV, JSON and an Excel workbook.

Each takes the sections (:mod:`bot.stats.sections`) of a :class:`~bot.stats.report.Report`, so a
suppressed cell is the same ``<5`` or ``x`` in all of them. CSV keeps the stable codes; the others
use the reader's language.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata

from bot.stats.labels import CODES, Words
from bot.stats.report import Report
from bot.stats.sections import Section, by_section, legend, sections

FORMATS = ("table", "csv", "json", "xlsx")


def chosen(report: Report, words: Words, by: str | None) -> list[Section]:
    """The whole report, or the one table ``--by`` asks for."""
    return [by_section(report, by, words)] if by else sections(report, words)


def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(ch) else 1 for ch in unicodedata.normalize("NFC", text))


def _pad(text: str, width: int, *, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def to_table(report: Report, words: Words, by: str | None = None) -> str:
    """Aligned plain text, for a terminal or an e-mail."""
    out = [f"{words('report')}: {report.period.describe()}", ""]
    for section in chosen(report, words, by):
        out.append(section.title)
        cells = [list(section.header), *[[str(v) for v in row] for row in section.rows]]
        widths = [max(_width(row[i]) for row in cells) for i in range(len(section.header))]
        for row in cells:
            line = "  ".join(_pad(text, widths[i], right=i > 0) for i, text in enumerate(row))
            out.append(line.rstrip())
        out.append("")
    out.append(f"{words('legend')}:")
    out += [f"  {marker:>4}  {meaning}" for marker, meaning in legend(report, words)]
    return "\n".join(out) + "\n"


def to_csv(report: Report, by: str | None = None) -> str:
    """CSV with codes: each section is a title line, a header line and its rows, then a blank line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["period", report.period.start.isoformat(), report.period.end.isoformat(), report.period.zone]
    )
    writer.writerow([])
    for section in chosen(report, CODES, by):
        writer.writerow([section.title])
        writer.writerow(section.header)
        writer.writerows(section.rows)
        writer.writerow([])
    writer.writerow(["legend"])
    writer.writerows(legend(report, CODES))
    return buffer.getvalue()


def to_json(report: Report, by: str | None = None) -> str:
    """The whole report (or, with ``by``, its one table) as JSON with codes."""
    if by is None:
        data = report.to_json()
    else:
        section = by_section(report, by, CODES)
        data = {
            "period": report.to_json()["period"],
            "min_cell": report.min_cell,
            "by": by,
            "columns": list(section.header[1:]),
            "rows": {
                str(row[0]): dict(zip(section.header[1:], row[1:], strict=True)) for row in section.rows
            },
            "legend": report.legend(),
        }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_xlsx(report: Report, words: Words, by: str | None = None) -> bytes:
    """An Excel workbook: one sheet per table, and a sheet saying what the markers mean."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    first = book.active
    book.remove(first)
    bold = Font(bold=True)
    for section in chosen(report, words, by):
        sheet = book.create_sheet(section.key[:31])  # Excel's limit for a sheet name
        sheet.append([section.title])
        sheet["A1"].font = bold
        sheet.append(
            [f"{report.period.start.isoformat()} – {report.period.end.isoformat()} ({report.period.zone})"]
        )
        sheet.append([])
        sheet.append(list(section.header))
        for cell in sheet[4]:
            cell.font = bold
        for row in section.rows:
            sheet.append(list(row))
        sheet.column_dimensions["A"].width = max([12, *(len(str(r[0])) + 2 for r in section.rows)])
    notes = book.create_sheet("legend")
    notes.append([words("legend")])
    notes["A1"].font = bold
    for marker, meaning in legend(report, words):
        notes.append([marker, meaning])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render(report: Report, fmt: str, words: Words, by: str | None = None) -> str | bytes:
    """The report in one of :data:`FORMATS`."""
    if fmt == "table":
        return to_table(report, words, by)
    if fmt == "csv":
        return to_csv(report, by)
    if fmt == "json":
        return to_json(report, by)
    if fmt == "xlsx":
        return to_xlsx(report, words, by)
    raise ValueError(f"the format must be one of {', '.join(FORMATS)}")
