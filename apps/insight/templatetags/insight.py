"""Table cells in the reader's language: grouped digits and percentages per locale."""

from decimal import Decimal

from django import template
from django.utils import formats, numberformat
from django.utils.html import conditional_escape, json_script
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

from apps.insight.charts import COUNT, MONEY, RATIO, TEXT

register = template.Library()


@register.filter
def cell(value, kind: str) -> str:
    """A figure as the active locale writes it: 1,234,567.89 / 4.50%; text unchanged."""
    if value is None or value == "":
        return "—"
    if kind == MONEY:
        return formats.number_format(Decimal(value), 2, use_l10n=True, force_grouping=True)
    if kind == COUNT:
        return formats.number_format(int(value), 0, use_l10n=True, force_grouping=True)
    if kind == RATIO:
        return formats.number_format(Decimal(value) * 100, 2, use_l10n=True) + "%"
    return str(value)


def _formats() -> tuple:
    """The active language's decimal separator, grouping and thousand separator, looked up
    once per table: `formats.number_format` looks them up for every cell."""
    lang = get_language()
    return tuple(formats.get_format(name, lang, use_l10n=True)
                 for name in ("DECIMAL_SEPARATOR", "NUMBER_GROUPING", "THOUSAND_SEPARATOR"))


def _cell(value, kind: str, fmt: tuple) -> str:
    """`cell` with the separators `fmt` (`_formats`) found already: the same text."""
    if value is None or value == "":
        return "—"
    decimal, grouping, thousand = fmt
    if kind == MONEY:
        return numberformat.format(Decimal(value), decimal, 2, grouping, thousand,
                                   force_grouping=True, use_l10n=True)
    if kind == COUNT:
        return numberformat.format(int(value), decimal, 0, grouping, thousand,
                                   force_grouping=True, use_l10n=True)
    if kind == RATIO:
        return numberformat.format(Decimal(value) * 100, decimal, 2, grouping, thousand,
                                   use_l10n=True) + "%"
    return str(value)


@register.filter
def table_body(chart) -> str:
    """The rows of a chart's table (inside <tbody>), as the chart partial wrote them with a
    loop per cell: the first cell a row header, figures right-aligned (class "num"). Built
    here because a dashboard's tables are hundreds of cells, each a dozen template lookups."""
    rows = []
    fmt = _formats()
    for row in chart.table():
        cells = []
        for n, c in enumerate(row):
            text = conditional_escape(_cell(c["value"], c["kind"], fmt))
            if n == 0:
                cells.append(f'<th scope="row">{text}</th>')
            elif c["kind"] != TEXT:
                cells.append(f'<td class="num">{text}</td>')
            else:
                cells.append(f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return mark_safe("".join(rows))  # noqa: S308 - every value escaped above


NUM = ' class="num"'


@register.simple_tag(takes_context=True)
def chart_section(context, chart) -> str:
    """One chart, its table and its exports: what the chart partial (chart.html) rendered,
    the same HTML byte for byte (a test renders both), built in Python: a dashboard shows
    five to nine of them and the partial's lookups, escapes and JSON were a fifth of a
    page's rendering (issue #22). `export_url` and `query` come from the page's context."""
    esc = conditional_escape
    key, title = esc(chart.key), esc(chart.title)
    out = [f'\n<section class="insight-chart card" id="section-{key}" '
           f'aria-labelledby="title-{key}">\n  <h2 id="title-{key}">{title}</h2>\n  ']
    if chart.summary:
        out.append(f'<p class="insight-summary">{esc(chart.summary)}</p>')
    out.append("\n  ")
    if chart.rows:
        payload_id = "chart-data-" + str(chart.key)
        heads = "".join(f'<th scope="col"{"" if c.kind == TEXT else NUM}>{esc(c.label)}</th>'
                        for c in chart.columns)
        out.append(
            '\n  <div class="insight-pair">\n    \n    '
            f"{json_script(chart.payload(), payload_id)}\n"
            f'    <div class="chart" data-chart="{esc(payload_id)}" role="img" '
            f'aria-label="{title}"></div>\n    \n'
            '    <div class="table-wrap">\n      <table class="table insight-table">\n'
            f'        <caption class="visually-hidden">{title}</caption>\n'
            f"        <thead><tr>{heads}</tr></thead>\n"
            f"        <tbody>{table_body(chart)}</tbody>\n      </table>\n    </div>\n"
            "  </div>\n  ")
        export_url, query = context.get("export_url"), context.get("query")
        if export_url:
            base = f"{esc(export_url)}{key}"
            tail = f"?{esc(query)}" if query else ""
            # Outside the f-string: makemessages (xgettext) does not see calls inside one.
            download, csv, xlsx = (gettext("Download this table:"), gettext("CSV"),
                                   gettext("Excel (XLSX)"))
            out.append(f'<p class="insight-export">{esc(download)}\n'
                       f'    <a href="{base}.csv{tail}" download>{esc(csv)}</a> ·\n'
                       f'    <a href="{base}.xlsx{tail}" download>'
                       f'{esc(xlsx)}</a></p>')
        out.append("\n  ")
    else:
        out.append(f'<p class="muted">{esc(chart.empty_text)}</p>')
    out.append("\n</section>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value escaped above
