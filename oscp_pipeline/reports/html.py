"""A self-contained HTML bi-annual performance report: findings, scorecard table and charts.

No scripts, no external files: the charts are inline SVG drawn here. Every piece of text from
the warehouse is escaped. Suppressed cells are shown as "*" and their figures never written,
nor any change, direction or exception that would let one be worked out, and every withheld
cell has the same neutral note (`reports.disclosure`). A chart marks the quarters it has no
point for, and draws a value counting only part of a quarter apart from the line.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import duckdb

from oscp_pipeline.reports import disclosure
from oscp_pipeline.reports.findings import (
    Finding,
    headline_findings,
    join_words,
    lower_first,
    report_period,
    sections_for,
)
from oscp_pipeline.scope import PARTNERSHIP_AREAS_SQL

TITLE = "Oxfordshire Safer Communities Partnership: bi-annual performance report"
RAG_COLOURS = {"green": "#c6efce", "amber": "#ffe699", "red": "#ffc7ce", "grey": "#ededed"}
# A note is several footnotes joined by "; " (descriptions may hold "; " themselves).
NOTE_SPLIT = re.compile(
    r"; (?=fewer than|Withheld|Not available|Not applicable|Series break|Rate uses|Part of)"
)
SUPPRESSED_NOTE = (
    f"* {disclosure.WITHHELD_NOTE}; a change beside a withheld figure (this quarter's or the "
    "same quarter last year's) is withheld too."
)
# Why a chart has no point for a quarter, by value_status (or withheld).
GAP_REASONS = {
    "not_available": "not available (a month or an area of the quarter was not supplied)",
    "not_applicable": "not applicable (the measure did not exist)",
    "withheld": lower_first(disclosure.WITHHELD_NOTE),
}
GAP_MARKS = {"not_available": "n/a", "not_applicable": "n/a", "withheld": "*"}
PART_QUARTER = "partly_not_applicable"

STYLE = """
body { font-family: Arial, Helvetica, sans-serif; color: #222; margin: 24px auto;
       max-width: 1200px; padding: 0 16px; line-height: 1.4; }
h1 { font-size: 24px; margin-bottom: 4px; color: #1f3864; }
h2 { font-size: 19px; border-bottom: 2px solid #1f3864; padding-bottom: 3px; margin-top: 32px;
     color: #1f3864; }
.period { font-size: 17px; margin: 2px 0; }
.subtitle { display: inline-block; background: #fff3cd; border: 1px solid #e0b200;
            padding: 2px 8px; font-weight: bold; margin: 6px 0; }
ul.findings > li { margin-bottom: 10px; }
.finding { font-weight: bold; }
ul.details { font-size: 13px; color: #444; margin-top: 3px; }
table.scorecard { border-collapse: collapse; font-size: 13px; width: 100%; }
table.scorecard th, table.scorecard td { border: 1px solid #bbb; padding: 3px 6px;
                                         vertical-align: top; }
table.scorecard th { background: #1f3864; color: #fff; text-align: left; }
table.scorecard th.section { background: #d9e1f2; color: #1f3864; }
td.cell { text-align: right; white-space: nowrap; }
td.cell .change { color: #444; font-size: 12px; }
.arrow { font-weight: bold; margin-left: 3px; }
.arrow.improving { color: #1e7b34; } .arrow.deteriorating { color: #c00000; }
.arrow.increase, .arrow.decrease, .arrow.stable { color: #555; }
sup { font-size: 10px; color: #1f3864; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 6px; border: 1px solid #bbb; }
ol.notes { font-size: 12px; color: #444; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 18px; }
figure { margin: 0; border: 1px solid #ddd; padding: 8px; }
svg.chart { display: block; }
figcaption { font-weight: bold; font-size: 14px; margin-bottom: 4px; }
p.chart-notes { font-size: 12px; color: #444; margin: 4px 0 0; }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def percent(shown: float | str | None) -> str:
    """A change % as printed: "+5.2%", the withheld mark, or nothing."""
    if shown is None:
        return ""
    return shown if isinstance(shown, str) else f"{shown:+.1f}%"


def arrow(direction: str | None, change: float | None) -> str:
    if direction is None:
        return ""
    symbol = "&#9650;" if (change or 0) > 0 else "&#9660;" if (change or 0) < 0 else "&#9654;"
    if direction == "stable":
        symbol = "&#9654;"
    return f'<span class="arrow {esc(direction)}" title="{esc(direction)}">{symbol}</span>'


class Footnotes:
    """Numbered footnotes, one per distinct note, in order of first use."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def markers(self, notes: str | None) -> str:
        if not notes:
            return ""
        marks = []
        for note in NOTE_SPLIT.split(notes):
            number_ = self.numbers.setdefault(note.strip(), len(self.numbers) + 1)
            marks.append(str(number_))
        return f"<sup>{','.join(marks)}</sup>"

    def html(self) -> str:
        items = "".join(f"<li>{esc(note)}</li>" for note in self.numbers)
        return f'<ol class="notes">{items}</ol>'


def fetch(connection: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list:
    cursor = connection.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def findings_html(findings: list[Finding]) -> str:
    items = []
    for finding in findings:
        details = "".join(f"<li>{esc(d)}</li>" for d in finding.details)
        details_html = f'<ul class="details">{details}</ul>' if details else ""
        items.append(
            f'<li data-section="{esc(finding.section)}"><span class="finding">'
            f"{esc(finding.text)}.</span>{details_html}</li>"
        )
    return f'<ul class="findings">{"".join(items)}</ul>'


def scorecard_html(connection: duckdb.DuckDBPyConnection, quarter: dt.date) -> str:
    """County and CSP scorecard for one quarter: one row per indicator, one column per area."""
    areas = fetch(
        connection,
        "SELECT area_code, area_name FROM dim_area WHERE area_type IN ('county', 'csp') "
        f"AND {PARTNERSHIP_AREAS_SQL} ORDER BY sort_order",
    )
    rows = disclosure.scorecard_rows(connection, [quarter], ("county", "csp"))
    cells = {(r["indicator_id"], r["area_code"]): r for r in rows}
    names = {r["indicator_id"]: r["indicator_name"] for r in rows}
    footnotes = Footnotes()
    any_suppressed = False
    head = "".join(f"<th>{esc(a['area_name'])}</th>" for a in areas)
    body = []
    for section in sections_for(sorted(names)):
        ids = [i for t in section.topics for i in t.indicator_ids if i in names]
        if not ids:
            continue
        body.append(
            f'<tr><th class="section" colspan="{len(areas) + 1}">{esc(section.title)}</th></tr>'
        )
        for indicator_id in ids:
            tds = []
            for area in areas:
                row = cells.get((indicator_id, area["area_code"]))
                attrs = f'data-indicator="{esc(indicator_id)}" data-area="{esc(area["area_code"])}"'
                if row is None:
                    tds.append(f'<td class="cell empty" {attrs}>&ndash;</td>')
                    continue
                rag = disclosure.rag(row)
                colour = RAG_COLOURS.get(rag or "grey", RAG_COLOURS["grey"])
                rag_title = rag or ("not shown" if row["rag"] else "grey")
                style = f'style="background:{colour}" title="RAG: {esc(rag_title)}"'
                marks = footnotes.markers(disclosure.notes(row))
                any_suppressed = any_suppressed or disclosure.last_year_withheld(row)
                if row["suppressed"]:
                    tds.append(
                        f'<td class="cell suppressed" {attrs} {style} data-value="*">*{marks}</td>'
                    )
                    continue
                value = number(row["value"]) if row["value"] is not None else "n/a"
                change_text = percent(disclosure.change_pct(row))
                tds.append(
                    f'<td class="cell" {attrs} {style} data-value="{esc(number(row["value"]))}">'
                    f'<span class="value">{esc(value)}</span>'
                    f"{arrow(disclosure.direction(row), row['change'])}{marks}<br>"
                    f'<span class="change">{esc(change_text)}</span></td>'
                )
            body.append(
                f'<tr data-indicator="{esc(indicator_id)}"><td>{esc(names[indicator_id])}</td>'
                f"{''.join(tds)}</tr>"
            )
    fy_quarter = rows[0]["fy_quarter"] if rows else ""
    legend = "".join(
        f'<span style="background:{c}">{esc(k)}</span>' for k, c in RAG_COLOURS.items()
    )
    suppressed_note = f"<p>{esc(SUPPRESSED_NOTE)}</p>" if any_suppressed else ""
    return (
        f"<p>Quarter {esc(fy_quarter)}: count for the quarter, and below it the change on the "
        "same quarter last year. Cell colour is the RAG rating on the year-to-date change; "
        "&#9650;/&#9660; shows a significant rise or fall (green better, red worse, grey "
        "monitored), &#9654; no significant change.</p>"
        f'<p class="legend">{legend}</p>'
        f'<table class="scorecard"><thead><tr><th>Indicator</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{suppressed_note}"
        f"<h3>Notes</h3>{footnotes.html()}"
    )


def quarter_index(quarters: list[dt.date], day: dt.date) -> int | None:
    """Index of the quarter containing `day` within the chart's quarters."""
    for index, start in enumerate(quarters):
        month = start.month + 3
        following = dt.date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        if start <= day < following:
            return index
    return None


def gap_reason(row: dict) -> str | None:
    """Why a chart has no point for the row's quarter (a key of GAP_REASONS), or None."""
    if row["suppressed"]:
        return "withheld"
    return row["value_status"] if row["value"] is None else None


def chart_notes(series: list[dict]) -> str:
    """The note under a chart: the quarters it has no point for and why, and the points that
    count only part of a quarter."""
    gaps: dict[str, list[str]] = {}
    for row in series:
        reason = gap_reason(row)
        if reason:
            gaps.setdefault(reason, []).append(row["fy_quarter"])
    sentences = [
        f"No point for {join_words(quarters)}: {GAP_REASONS.get(reason, reason)}."
        for reason, quarters in gaps.items()
    ]
    part = [
        r["fy_quarter"] for r in series if r["value_status"] == PART_QUARTER and not gap_reason(r)
    ]
    if part:
        sentences.append(
            f"Open circle for {join_words(part)}: counts only part of the quarter (the measure "
            "ended or began within it), so it is not joined to the line or compared."
        )
    return f'<p class="chart-notes">{esc(" ".join(sentences))}</p>' if sentences else ""


def chart_svg(
    indicator_id: str,
    series: list[dict],
    breaks: list[dict],
    period_quarters: tuple[dt.date, ...],
) -> str:
    """An inline SVG of one indicator's county series, control limits, breaks and exceptions."""
    width, height = 560, 230
    left, right, top, bottom = 52, 12, 30, 24
    quarters = [r["quarter_start"] for r in series]
    shown = [r for r in series if not r["suppressed"]]
    peaks = [r["value"] for r in shown if r["value"] is not None]
    peaks += [r["control_upper"] for r in shown if r["control_upper"] is not None]
    top_value = max(peaks or [1.0]) * 1.08 or 1.0
    step = (width - left - right) / max(len(quarters) - 1, 1)

    def x(index: float) -> float:
        return left + index * step

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1 - value / top_value)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-indicator="'
        f'{esc(indicator_id)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img">'
    ]
    # the report period, shaded
    indexes = [quarters.index(q) for q in period_quarters if q in quarters]
    if indexes:
        x0, x1 = x(min(indexes) - 0.4), x(max(indexes) + 0.4)
        parts.append(
            f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" '
            f'height="{height - top - bottom}" fill="#eef3fb"/>'
        )
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        value = top_value / 1.08 * fraction
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#e3e3e3"/><text x="{left - 4}" y="{y(value) + 4:.1f}" font-size="10" '
            f'text-anchor="end" fill="#555">{esc(number(round(value)))}</text>'
        )
    for index, quarter in enumerate(quarters):
        if quarter.month == 4:  # Q1: label the financial year
            label = f"{quarter.year}-{(quarter.year + 1) % 100:02d}"
            parts.append(
                f'<line x1="{x(index):.1f}" x2="{x(index):.1f}" y1="{height - bottom}" '
                f'y2="{height - bottom + 4}" stroke="#555"/><text x="{x(index):.1f}" '
                f'y="{height - bottom + 16}" font-size="10" fill="#555">{esc(label)}</text>'
            )
    for key in ("control_upper", "control_lower"):
        points = [
            f"{x(i):.1f},{y(r[key]):.1f}"
            for i, r in enumerate(series)
            if r[key] is not None and not r["suppressed"]
        ]
        if len(points) > 1:
            parts.append(
                f'<polyline class="{key.replace("_", "-")}" points="{" ".join(points)}" '
                'fill="none" stroke="#8e8e8e" stroke-width="1.2" stroke-dasharray="5 3"/>'
            )
    segment: list[str] = []
    segments = []
    for i, r in enumerate(series):
        if gap_reason(r) or r["value_status"] == PART_QUARTER:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(r['value']):.1f}")
    if segment:
        segments.append(segment)
    for points in segments:
        parts.append(
            f'<polyline class="series" points="{" ".join(points)}" fill="none" '
            'stroke="#1f3864" stroke-width="2"/>'
        )
    for i, r in enumerate(series):
        reason = gap_reason(r)
        if reason:
            parts.append(
                f'<g class="gap" data-quarter="{esc(r["fy_quarter"])}" data-reason="{esc(reason)}">'
                f'<text x="{x(i):.1f}" y="{height - bottom - 4}" font-size="10" '
                f'text-anchor="middle" fill="#7f7f7f">{esc(GAP_MARKS.get(reason, "n/a"))}</text>'
                f"<title>{esc(r['fy_quarter'])}: {esc(GAP_REASONS.get(reason, reason))}</title></g>"
            )
            continue
        title = f"{r['fy_quarter']}: {number(r['value'])}"
        exception = disclosure.exception(r)
        if r["value_status"] == PART_QUARTER:
            title += " (part of the quarter only)"
            parts.append(
                f'<circle class="part-quarter" cx="{x(i):.1f}" cy="{y(r["value"]):.1f}" r="4" '
                f'fill="#fff" stroke="#1f3864" stroke-width="1.5"><title>{esc(title)}</title>'
                "</circle>"
            )
        elif exception:
            colour = "#c00000" if exception == "high" else "#0070c0"
            title += f" (exceptionally {exception})"
            parts.append(
                f'<circle class="exception {esc(exception)}" cx="{x(i):.1f}" '
                f'cy="{y(r["value"]):.1f}" r="5" fill="{colour}" stroke="#fff">'
                f"<title>{esc(title)}</title></circle>"
            )
        else:
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(r["value"]):.1f}" r="2.5" fill="#1f3864">'
                f"<title>{esc(title)}</title></circle>"
            )
    for number_, item in enumerate(breaks, start=1):
        index = quarter_index(quarters, item["break_date"])
        if index is None:
            continue
        position = x(index - 0.5) if index > 0 else x(0)
        right_half = position > width / 2
        label_x, anchor = (position - 3, "end") if right_half else (position + 3, "start")
        parts.append(
            f'<g class="series-break" data-break-date="{item["break_date"].isoformat()}">'
            f'<line x1="{position:.1f}" x2="{position:.1f}" y1="{top - 6}" '
            f'y2="{height - bottom}" stroke="#c55a11" stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{label_x:.1f}" y="{top - 8 + 11 * (number_ - 1)}" font-size="10" '
            f'text-anchor="{anchor}" fill="#c55a11">'
            f"Series break {esc(item['break_date'].strftime('%b %Y'))}</text>"
            f"<title>{esc(item['description'])}</title></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def charts_html(connection: duckdb.DuckDBPyConnection, period_quarters: tuple[dt.date, ...]) -> str:
    last = period_quarters[-1]
    rows = fetch(
        connection,
        """
        SELECT indicator_id, indicator_name, quarter_start, fy_quarter, value, value_status,
               control_lower, control_upper, exception, suppressed
        FROM scorecard WHERE area_type = 'county' AND quarter_start <= ?
        ORDER BY indicator_id, quarter_start
        """,
        [last],
    )
    breaks = fetch(
        connection,
        """
        SELECT DISTINCT m.indicator_id, b.break_date, b.description
        FROM series_break b JOIN dim_indicator_measure m USING (measure_id)
        ORDER BY 1, 2
        """,
    )
    by_indicator: dict[str, list[dict]] = {}
    for row in rows:
        by_indicator.setdefault(row["indicator_id"], []).append(row)
    figures = []
    for section in sections_for(sorted(by_indicator)):
        for indicator_id in [i for t in section.topics for i in t.indicator_ids]:
            series = by_indicator.get(indicator_id)
            if not series:
                continue
            own = [b for b in breaks if b["indicator_id"] == indicator_id]
            figures.append(
                f'<figure data-indicator="{esc(indicator_id)}"><figcaption>'
                f"{esc(series[0]['indicator_name'])} (Oxfordshire)</figcaption>"
                f"{chart_svg(indicator_id, series, own, period_quarters)}"
                f"{chart_notes(series)}</figure>"
            )
    return (
        "<p>Quarterly counts for Oxfordshire (solid line), the control limits (dashed grey), "
        "exceptions (large red dot above the upper limit, blue below the lower), series breaks "
        "(dashed orange line) and the report period (shaded). A quarter with no figure is "
        "marked n/a (or * if withheld) on the axis, and a figure for only part of a quarter is "
        "an open circle; the note under the chart says which and why.</p>"
        f'<div class="charts">{"".join(figures)}</div>'
    )


def write_biannual_report(
    connection: duckdb.DuckDBPyConnection,
    path: Path,
    half_year_end: dt.date,
    subtitle: str | None = None,
) -> Path:
    """Write the half-year (Q1-Q2) or full-year (Q1-Q4) report to `path`; returns `path`."""
    period = report_period(half_year_end)
    findings = headline_findings(connection, half_year_end)
    subtitle_html = f'<p class="subtitle">{esc(subtitle)}</p>' if subtitle else ""
    document = (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(TITLE)}: '
        f"{esc(period.description)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{esc(TITLE)}</h1>"
        f'<p class="period">{esc(period.description)}</p>{subtitle_html}'
        '<h2 id="findings">Headline findings</h2>'
        f"{findings_html(findings)}"
        '<h2 id="scorecard">Scorecard</h2>'
        f"{scorecard_html(connection, period.quarters[-1])}"
        '<h2 id="charts">Trends</h2>'
        f"{charts_html(connection, period.quarters)}"
        "</body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path
