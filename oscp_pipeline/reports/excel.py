"""The OSCP performance monitoring scorecard as an Excel workbook, for partnership officers.

One sheet per area level (`County`, `CSPs`, `Districts`) with the indicators as rows, grouped by
owner, and six columns per area: the quarter's value, the same quarter last year, the change %,
the year-to-date change %, the RAG rating and the direction of travel. A `Notes` sheet holds the
key to the footnote markers, the series breaks, the indicators' caveats and every cell's notes.

This is a published output: values the warehouse flags as `suppressed` (small numbers) are shown
as "*", never as the number, and so is every change, year-to-date change, direction and
exception flag that would let one be worked out (`reports.disclosure`); every withheld cell has
the same neutral note. Every text cell is neutralised against formula injection.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import duckdb
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from oscp_pipeline.reports import disclosure
from oscp_pipeline.scope import PARTNERSHIP_AREAS_SQL

SUPPRESSED_MARKER = disclosure.WITHHELD
FONT_NAME = "Arial"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

SHEETS = (  # sheet title, the area types it shows (unallocated counts sit with the districts)
    ("County", ("county",)),
    ("CSPs", ("csp",)),
    ("Districts", ("district", "unallocated")),
)
OWNER_ORDER = ("OSCP Business Plan", "PCC", "District CSP priority")
COLUMNS = (
    ("Value", 12),
    ("Same qtr last year", 10),
    ("Change %", 9),
    ("YTD change %", 9),
    ("RAG", 8),
    ("Direction", 15),
)
PER_AREA = len(COLUMNS)
FIRST_AREA_COLUMN = 3  # A = owner, B = indicator
HEADER_ROWS = 5  # title, subtitle, blank, area names, column names

AREAS_PER_PAGE = 3  # printed: the owner and indicator columns repeat on every page across

# Footnote markers, in the order they are shown after a value.
MARKERS = {
    "b": "Series break within the periods compared (the same quarter or the year to date last "
    "year): the comparison is not like for like",
    "s": f"{disclosure.WITHHELD_NOTE} (shown as *); the warehouse keeps the value",
    "h": "Too little history: no trend, exception test or RAG",
    "e": "The area's population for the year is an estimate derived by the partnership",
    "n": "Value not available, not applicable or only part of the quarter (see the cell's notes); "
    "a change on part of a quarter is not like for like and is not shown",
    "x": "Exception: outside the control limits (statistical process control chart)",
}

ARROW_UP, ARROW_DOWN, ARROW_FLAT = "\u2191", "\u2193", "\u2192"
KEY_LINES = (
    ("RAG", "Green: target achieved year to date. Amber: target missed, better than last year."),
    ("", "Red: target missed and no better than the same period last year."),
    ("", "Grey: no target, monitor-only indicator, or too little history."),
    ("Direction", "Change on the same quarter last year, tested for significance at 95%:"),
    ("", f"{ARROW_UP} up, {ARROW_DOWN} down (green improving, red deteriorating)."),
    ("", f"{ARROW_FLAT} stable: no significant change."),
    ("*", "In the last-year or change columns: withheld, as it would let a withheld small number"),
    ("", "be worked out (this quarter's, last year's or one in either year to date)."),
)

RAG_FILLS = {"green": "00B050", "amber": "FFC000", "red": "C00000", "grey": "BFBFBF"}
RAG_FONTS = {"green": "FFFFFF", "amber": "000000", "red": "FFFFFF", "grey": "000000"}
DIRECTION_FONTS = {"improving": "00803C", "deteriorating": "C00000"}

THIN = Side(style="thin", color="A6A6A6")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
SUBHEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
OWNER_FILL = PatternFill("solid", fgColor="EDEDED")
WHITE_BOLD = Font(name=FONT_NAME, bold=True, color="FFFFFF")
COUNT_FORMAT = "#,##0"
PCT_FORMAT = '+0.0"%";-0.0"%";0.0"%"'


def safe_text(value: object) -> object:
    """Text that a spreadsheet will show, never evaluate: a leading `=`, `+`, `-`, `@`, tab or
    carriage return gets an apostrophe in front. Anything that is not text is returned as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class _Area:
    code: str
    name: str
    area_type: str


def _rows(connection: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list:
    relation = connection.execute(sql, params or [])
    names = [d[0] for d in relation.description]
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def latest_quarter(connection: duckdb.DuckDBPyConnection) -> dt.date:
    """The most recent quarter any indicator has in `scorecard_latest`."""
    (quarter,) = connection.execute("SELECT max(quarter_start) FROM scorecard_latest").fetchone()
    if quarter is None:
        raise ValueError("the warehouse scorecard is empty: there is no quarter to report")
    return quarter


def _put(ws: Worksheet, row: int, column: int, value: object, **style: object):
    cell = ws.cell(row=row, column=column, value=safe_text(value))
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _markers(row: dict) -> str:
    found = []
    if row["series_break"]:
        found.append("b")
    if row["suppressed"]:
        found.append("s")
    if row["sufficient_history"] is False:
        found.append("h")
    if row["population_is_estimate"]:
        found.append("e")
    if row["value_status"] != "reported":
        found.append("n")
    if disclosure.exception(row):
        found.append("x")
    return ",".join(found)


def _arrow(row: dict) -> str | None:
    direction = disclosure.direction(row)
    if direction is None:
        return None
    if direction == "stable":
        return f"{ARROW_FLAT} stable"
    if direction in ("increase", "decrease"):
        return f"{ARROW_UP if direction == 'increase' else ARROW_DOWN} {direction}"
    went_up = (row["change"] or 0) > 0
    if row["change"] is None:  # fall back on the indicator's polarity
        went_up = (direction == "improving") == (row["polarity"] == "higher_is_better")
    return f"{ARROW_UP if went_up else ARROW_DOWN} {direction}"


def _write_cells(ws: Worksheet, r: int, c: int, row: dict) -> None:
    markers = _markers(row)
    suffix = f' "[{markers}]"' if markers else ""
    withheld = bool(row["suppressed"])
    centre = Alignment(horizontal="center")
    right = Alignment(horizontal="right")

    if withheld:
        _put(ws, r, c, f"{SUPPRESSED_MARKER} [{markers}]", alignment=right)
    elif row["value"] is None:
        _put(ws, r, c, f"n/a [{markers}]" if markers else "n/a", alignment=right)
    else:
        _put(ws, r, c, row["value"], number_format=COUNT_FORMAT + suffix)
    notes = disclosure.notes(row)
    if notes:
        ws.cell(row=r, column=c).comment = Comment(safe_text(notes), "OSCP scorecard")

    last_year = row["value_same_quarter_last_year"]
    if disclosure.last_year_withheld(row) and last_year is not None:
        _put(ws, r, c + 1, SUPPRESSED_MARKER, alignment=right)
    else:
        _put(ws, r, c + 1, last_year, number_format=COUNT_FORMAT)
    for offset, shown in ((2, disclosure.change_pct(row)), (3, disclosure.change_ytd_pct(row))):
        if shown == SUPPRESSED_MARKER:
            _put(ws, r, c + offset, SUPPRESSED_MARKER, alignment=right)
        else:
            _put(ws, r, c + offset, shown, number_format=PCT_FORMAT)

    rag = disclosure.rag(row)
    if rag:
        _put(
            ws,
            r,
            c + 4,
            rag.capitalize(),
            alignment=centre,
            fill=PatternFill("solid", fgColor=RAG_FILLS.get(rag, "FFFFFF")),
            font=Font(name=FONT_NAME, bold=True, color=RAG_FONTS.get(rag, "000000")),
        )
    arrow = _arrow(row)
    if arrow:
        colour = DIRECTION_FONTS.get(row["direction"], "404040")
        _put(
            ws,
            r,
            c + 5,
            arrow,
            font=Font(name=FONT_NAME, color=colour, bold=row["direction"] in DIRECTION_FONTS),
        )
    for offset in range(PER_AREA):
        ws.cell(row=r, column=c + offset).border = BOX


def _write_level(
    ws: Worksheet,
    title: str,
    subtitle: str | None,
    areas: list[_Area],
    indicators: list[dict],
    cells: dict[tuple[str, str], dict],
) -> None:
    last_column = FIRST_AREA_COLUMN + PER_AREA * len(areas) - 1
    _put(ws, 1, 1, title, font=Font(name=FONT_NAME, bold=True, size=14))
    if subtitle:
        _put(ws, 2, 1, subtitle, font=Font(name=FONT_NAME, bold=True, color="C00000"))
    _put(ws, 3, 1, "Markers after a value: see the key below the table and the Notes sheet.")
    ws.cell(row=3, column=1).font = Font(name=FONT_NAME, italic=True, color="595959")

    _put(ws, 4, 1, "Owner", font=WHITE_BOLD, fill=HEADER_FILL)
    _put(ws, 4, 2, "Indicator", font=WHITE_BOLD, fill=HEADER_FILL)
    ws.merge_cells(start_row=4, start_column=1, end_row=5, end_column=1)
    ws.merge_cells(start_row=4, start_column=2, end_row=5, end_column=2)
    for index, area in enumerate(areas):
        c = FIRST_AREA_COLUMN + index * PER_AREA
        _put(ws, 4, c, area.name, font=WHITE_BOLD, fill=HEADER_FILL)
        ws.cell(row=4, column=c).alignment = Alignment(horizontal="center")
        ws.merge_cells(start_row=4, start_column=c, end_row=4, end_column=c + PER_AREA - 1)
        for offset, (label, width) in enumerate(COLUMNS):
            _put(
                ws,
                5,
                c + offset,
                label,
                font=Font(name=FONT_NAME, bold=True),
                fill=SUBHEADER_FILL,
                border=BOX,
            )
            ws.cell(row=5, column=c + offset).alignment = Alignment(
                horizontal="center", vertical="center", wrap_text=True
            )
            ws.column_dimensions[get_column_letter(c + offset)].width = width
    ws.row_dimensions[5].height = 30
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 42

    r = HEADER_ROWS + 1
    owner = None
    for indicator in indicators:
        if indicator["owner"] != owner:
            owner = indicator["owner"]
            _put(ws, r, 1, owner, font=Font(name=FONT_NAME, bold=True), fill=OWNER_FILL)
            for column in range(2, last_column + 1):
                ws.cell(row=r, column=column).fill = OWNER_FILL
            r += 1
        _put(ws, r, 2, indicator["indicator_name"], alignment=Alignment(wrap_text=True))
        for index, area in enumerate(areas):
            cell = cells.get((indicator["indicator_id"], area.code))
            if cell is not None:
                _write_cells(ws, r, FIRST_AREA_COLUMN + index * PER_AREA, cell)
        r += 1

    r += 1
    _put(ws, r, 1, "Key", font=Font(name=FONT_NAME, bold=True))
    r += 1
    # Wrapped within the indicator column, so the key reads whole on every printed page.
    key = [(f"[{marker}]", text) for marker, text in MARKERS.items()] + list(KEY_LINES)
    for label, text in key:
        _put(ws, r, 1, label, alignment=Alignment(vertical="top"))
        _put(ws, r, 2, text, alignment=Alignment(wrap_text=True, vertical="top"))
        lines = math.ceil(len(text) / (1.1 * ws.column_dimensions["B"].width))
        if lines > 1:
            ws.row_dimensions[r].height = 13 * lines
        r += 1
    ws.freeze_panes = ws.cell(row=HEADER_ROWS + 1, column=FIRST_AREA_COLUMN)
    ws.print_title_rows = f"4:{HEADER_ROWS}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.print_title_cols = "A:B"
    ws.page_setup.fitToWidth = max(1, math.ceil(len(areas) / AREAS_PER_PAGE))
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _area_label(row: dict) -> str:
    level = {"csp": "CSP", "district": "district"}.get(row["area_type"])
    return f"{row['area_name']} ({level})" if level else row["area_name"]


def _write_notes(
    ws: Worksheet,
    title: str,
    subtitle: str | None,
    breaks: list[dict],
    indicators: list[dict],
    notes: list[dict],
) -> None:
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 26
    ws.column_dimensions["C"].width = 100
    wrap = Alignment(wrap_text=True, vertical="top")
    _put(ws, 1, 1, title + ": notes", font=Font(name=FONT_NAME, bold=True, size=14))
    if subtitle:
        _put(ws, 2, 1, subtitle, font=Font(name=FONT_NAME, bold=True, color="C00000"))
    r = 4

    def heading(text: str, *labels: str) -> None:
        nonlocal r
        _put(ws, r, 1, text, font=Font(name=FONT_NAME, bold=True, size=12))
        r += 1
        for column, label in enumerate(labels, start=1):
            _put(ws, r, column, label, font=WHITE_BOLD, fill=HEADER_FILL)
        r += 1

    heading("Key to the markers", "Marker", "", "Meaning")
    for marker, text in MARKERS.items():
        _put(ws, r, 1, f"[{marker}]")
        _put(ws, r, 3, text, alignment=wrap)
        r += 1
    r += 1
    heading("Series breaks", "Measure", "From", "What changed")
    for row in breaks:
        _put(ws, r, 1, row["measure_id"], alignment=wrap)
        _put(ws, r, 2, row["break_date"].isoformat(), alignment=wrap)
        _put(ws, r, 3, row["description"], alignment=wrap)
        r += 1
    r += 1
    heading("Indicator caveats", "Indicator", "Owner", "Note")
    for row in indicators:
        if row["notes"]:
            _put(ws, r, 1, row["indicator_name"], alignment=wrap)
            _put(ws, r, 2, row["owner"], alignment=wrap)
            _put(ws, r, 3, row["notes"], alignment=wrap)
            r += 1
    r += 1
    heading("Notes on this quarter's cells", "Indicator", "Area", "Notes")
    for row in notes:
        _put(ws, r, 1, row["indicator_name"], alignment=wrap)
        _put(ws, r, 2, _area_label(row), alignment=wrap)
        _put(ws, r, 3, disclosure.notes(row), alignment=wrap)
        r += 1
    for row_cells in ws.iter_rows(min_row=4):  # fit wrapped text: spreadsheets do not re-measure
        lines = [
            math.ceil(len(str(cell.value)) / (1.2 * ws.column_dimensions[cell.column_letter].width))
            for cell in row_cells
            if cell.value is not None and cell.alignment.wrap_text
        ]
        if max(lines, default=1) > 1:
            ws.row_dimensions[row_cells[0].row].height = 13 * max(lines)
    ws.freeze_panes = "A4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def write_scorecard_workbook(
    connection: duckdb.DuckDBPyConnection,
    path: Path,
    quarter_start: dt.date | None = None,
    subtitle: str | None = None,
) -> Path:
    """Write the quarter's scorecard (default: the latest quarter) to `path` as XLSX.

    `subtitle` is shown under the title on every sheet, e.g. to say the data are a synthetic
    sample. Returns `path`.
    """
    quarter = quarter_start or latest_quarter(connection)
    rows = disclosure.scorecard_rows(connection, [quarter])
    if not rows:
        raise ValueError(f"the scorecard has no rows for the quarter starting {quarter}")
    fy_quarter = rows[0]["fy_quarter"]
    title = f"OSCP performance scorecard, {fy_quarter}"
    indicators = _rows(connection, "SELECT *, rowid AS catalogue_order FROM dim_indicator")
    owner_rank = {owner: rank for rank, owner in enumerate(OWNER_ORDER)}
    indicators.sort(
        key=lambda i: (
            owner_rank.get(i["owner"], len(OWNER_ORDER)),
            i["owner"] or "",
            i["catalogue_order"],
        )
    )
    areas = [
        _Area(a["area_code"], a["area_name"], a["area_type"])
        for a in _rows(
            connection,
            f"SELECT * FROM dim_area WHERE {PARTNERSHIP_AREAS_SQL} ORDER BY sort_order",
        )
    ]
    cells = {(row["indicator_id"], row["area_code"]): row for row in rows}
    breaks = _rows(connection, "SELECT * FROM series_break ORDER BY break_date, measure_id")

    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet_title, area_types in SHEETS:
        level_areas = [
            a
            for a in areas
            if a.area_type in area_types and any(code == a.code for _, code in cells)
        ]
        shown = {a.code for a in level_areas}
        level_indicators = [
            i for i in indicators if any((i["indicator_id"], code) in cells for code in shown)
        ]
        ws = workbook.create_sheet(sheet_title)
        _write_level(
            ws,
            f"{title}: {sheet_title.lower() if sheet_title != 'CSPs' else sheet_title}",
            subtitle,
            level_areas,
            level_indicators,
            cells,
        )
    order = {a.code: index for index, a in enumerate(areas)}
    rank = {i["indicator_id"]: index for index, i in enumerate(indicators)}
    notes = sorted(
        (row for row in rows if row["notes"]),
        key=lambda row: (rank.get(row["indicator_id"], 0), order.get(row["area_code"], 0)),
    )
    _write_notes(workbook.create_sheet("Notes"), title, subtitle, breaks, indicators, notes)
    workbook.properties.title = title
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
