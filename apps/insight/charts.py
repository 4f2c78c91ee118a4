"""One chart = one table: the figures a selector returns, the columns to show them in, and how
the page draws them. The same object feeds the chart (as JSON embedded with `json_script`),
the table beside it and the CSV/XLSX export, so the three can never disagree.

Charts are drawn in the browser by Apache ECharts (vendored in static/vendor/echarts, served
locally): it ships Chinese and English locales, renders to SVG (crisp on phones, text a screen
reader and a test can find) and is what Chinese banks' BI tools mostly use.
"""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

# Column kinds: how a value is shown in the table, exported and plotted.
TEXT, COUNT, MONEY, RATIO = "text", "count", "money", "ratio"

# OWASP ASVS 1.2.10: a cell starting with these is a formula to a spreadsheet; prefix a quote
# so an enterprise named "=HYPERLINK(…)" reaches the reader as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")


def sheet_text(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclass
class Column:
    key: str
    label: str
    kind: str = TEXT


@dataclass
class Chart:
    """A chart and its table.

    `kind` is bar, pie or line; `category` is the column along the axis (or the slices);
    `series` the columns plotted. `reference` draws a horizontal line (the NPL tolerance).
    """

    key: str
    title: str
    kind: str
    columns: list[Column]
    rows: list[dict]
    category: str
    series: list[str]
    summary: str = ""
    reference: tuple[str, Decimal] | None = None
    stacked: bool = False
    empty_text: str = field(default_factory=lambda: str(_("No figures for this selection.")))

    @property
    def column_map(self) -> dict[str, Column]:
        return {c.key: c for c in self.columns}

    def table(self) -> list[list[dict]]:
        """Rows of cells ({"value", "kind"}) in column order, for the template."""
        return [[{"value": row.get(c.key), "kind": c.kind} for c in self.columns]
                for row in self.rows]

    def payload(self) -> dict:
        """What static/js/insight-charts.js reads: plain numbers and already-translated text."""
        columns = self.column_map
        return {
            "kind": self.kind, "title": str(self.title), "stacked": self.stacked,
            "categories": [str(row.get(self.category, "")) for row in self.rows],
            "series": [{"name": str(columns[key].label), "format": columns[key].kind,
                        "data": [_plain(row.get(key)) for row in self.rows]}
                       for key in self.series],
            "reference": ({"label": str(self.reference[0]), "value": _plain(self.reference[1])}
                          if self.reference else None),
        }

    def csv(self) -> bytes:
        """UTF-8 with a byte-order mark, so Excel opens the Chinese labels correctly."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([sheet_text(c.label) for c in self.columns])
        for row in self.rows:
            writer.writerow([_export_value(row.get(c.key), c.kind) for c in self.columns])
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    def xlsx(self) -> bytes:
        """One sheet: a header row, then numbers as numbers (sums work in the spreadsheet)."""
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=str(self.key)[:31])
        sheet.append([sheet_text(c.label) for c in self.columns])
        for row in self.rows:
            sheet.append([_xlsx_value(row.get(c.key), c.kind) for c in self.columns])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def _plain(value):
    """JSON-safe numbers for the chart (Decimal is not JSON); None stays a gap."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def _export_value(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == TEXT:
        return sheet_text(value)
    if kind == MONEY and isinstance(value, (Decimal, int)):
        # SQLite's SUM loses the column's scale: money is always written to the fen.
        return str(Decimal(value).quantize(Decimal("0.01")))
    return str(value)


def _xlsx_value(value, kind: str):
    if value is None:
        return None
    if kind == TEXT:
        return sheet_text(value)
    if isinstance(value, Decimal):
        return float(value) if kind == RATIO else value
    return value
