"""SYNTHETIC Thames Valley Police domestic abuse workbooks, April 2011 to March 2015.

One XLSX workbook per financial quarter, ``tvp_domestic_abuse_2013-14_Q2.xlsx``, as a force
analyst builds it: sheets ``Crimes`` and ``Incidents`` with title rows, a header ``District |
Apr-13 | May-13 | Jun-13 | Total``, one row per district and a ``Total`` row, then a ``Notes``
sheet. Incidents include reports that were not crimes, so they run at more than twice the
crimes. The wider definition in force from 31 March 2013 (victims aged 16 and 17, coercive
control) and the partnership's push on reporting show as the pattern reported for 2013-14:
figures rising through the year, an exceptional jump in 2013-14 Q2 (about 40% above 2012-13
Q2) and staying higher in 2014-15. Summer and Christmas peaks are mild.

Quirks: the 2011-12 workbooks use the analyst's short district names and two title rows, month
headers are text until 2012-13 and Excel date cells from 2013-14, and in 2012-13 Q3 the
Incidents grand total was typed over by hand (it no longer adds up). Every figure is invented.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from oscp_pipeline import periods
from oscp_pipeline.synthetic.workbooks import reproducible_xlsx_bytes

FOLDER = "tvp_domestic_abuse"
FIRST_QUARTER = dt.date(2011, 4, 1)
QUARTER_COUNT = 16  # 2011-12 Q1 to 2014-15 Q4
DEFINITION_CHANGE = dt.date(2013, 4, 1)
JUMP_MONTH = dt.date(2013, 7, 1)
# Fixed timestamps keep each workbook byte-identical from run to run.
WORKBOOK_TIMESTAMP = dt.datetime(2015, 4, 20, 9, 0, 0)

# (name as the force writes it, name in the 2011-12 template, share of the county's abuse)
DISTRICTS: tuple[tuple[str, str, float], ...] = (
    ("Cherwell", "Cherwell", 0.23),
    ("Oxford", "Oxford City", 0.28),
    ("South Oxfordshire", "South Oxon", 0.18),
    ("Vale of White Horse", "Vale", 0.17),
    ("West Oxfordshire", "West Oxon", 0.14),
)
# County-wide monthly level before 2013-14 (seasonality removed), and the level reached in
# July 2013 relative to it: crimes are counted after a crime is recorded, incidents on report.
MEASURES: dict[str, tuple[str, float, float]] = {
    "Crimes": ("Domestic abuse crimes", 305.0, 1.33),
    "Incidents": ("Domestic abuse incidents (crimes and non-crimes)", 740.0, 1.38),
}
# January .. December: a summer peak, the Christmas peak and a February low.
SEASON = (1.02, 0.92, 0.96, 0.97, 1.00, 1.04, 1.07, 1.06, 0.98, 0.97, 0.95, 1.08)
HAND_TYPED_TOTAL = ("2012-13 Q3", "Incidents", 10)  # quarter, sheet, amount added by hand

NOTES: tuple[str, ...] = (
    "Notes",
    "",
    "SYNTHETIC DATA: every figure in this workbook is invented for testing the partnership's "
    "pipeline. These are not Thames Valley Police figures.",
    "",
    "Crimes: domestic abuse crimes recorded in the month, by the district where they happened.",
    "Incidents: domestic abuse incidents reported in the month, whether or not a crime was "
    "recorded (they include the crimes).",
    "From 31 March 2013 the cross-government definition covers victims aged 16 and over and "
    "coercive and controlling behaviour; figures from April 2013 are not comparable with "
    "earlier months.",
)


def _level(month: dt.date, jump: float) -> float:
    """Trend relative to 2011-12: slow growth, a rise after the new definition, then the jump."""
    index = (month.year - FIRST_QUARTER.year) * 12 + month.month - FIRST_QUARTER.month
    if month < DEFINITION_CHANGE:
        return 1.0 + 0.0012 * index
    if month < JUMP_MONTH:
        return 1.02 + 0.015 * (month.month - DEFINITION_CHANGE.month)
    since_jump = (month.year - JUMP_MONTH.year) * 12 + month.month - JUMP_MONTH.month
    return jump + 0.015 * min(since_jump, 8) + 0.003 * max(since_jump - 8, 0)


def _quarter_figures(quarter: dt.date, rng: np.random.Generator) -> dict[str, list[list[int]]]:
    """Per sheet: for each district, its count in each month of the quarter."""
    months = [periods.add_months(quarter, i) for i in range(3)]
    figures: dict[str, list[list[int]]] = {}
    for sheet, (_, base, jump) in MEASURES.items():
        county = [
            base * _level(m, jump) * SEASON[m.month - 1] * rng.lognormal(0.0, 0.03) for m in months
        ]
        figures[sheet] = [
            [int(rng.poisson(level * share)) for level in county] for _, _, share in DISTRICTS
        ]
    return figures


def _write_sheet(
    sheet: Worksheet, quarter: dt.date, title: str, counts: list[list[int]], typed_over: int
) -> None:
    """Title rows, header, a row per district and the Total row, as the analyst lays them out."""
    label = periods.fy_quarter_label(quarter)
    year = periods.financial_year_start(quarter)
    months = [periods.add_months(quarter, i) for i in range(3)]
    titles = [
        f"Thames Valley Police - {title}, Oxfordshire",
        "Produced by Force Intelligence, SYNTHETIC",
    ]
    if year >= 2012:
        titles.append("")
    if year >= 2013:
        titles.insert(2, f"{label}: definition in force from 31 March 2013 (see Notes)")
    for number, text in enumerate(titles, start=1):
        if text:
            sheet.cell(number, 1, text)
    sheet.cell(1, 1).font = Font(bold=True, size=12)
    header_row = len(titles) + 1
    month_cells: list[object] = (
        [dt.datetime(m.year, m.month, 1) for m in months]
        if year >= 2013
        else [m.strftime("%b-%y") for m in months]
    )
    for column, value in enumerate(["District", *month_cells, "Total"], start=1):
        cell = sheet.cell(header_row, column, value)
        cell.font = Font(bold=True)
        if isinstance(value, dt.datetime):
            cell.number_format = "mmm-yy"
    for offset, ((name, old_name, _), row) in enumerate(zip(DISTRICTS, counts, strict=True)):
        values = [old_name if year == 2011 else name, *row, sum(row)]
        for column, value in enumerate(values, start=1):
            sheet.cell(header_row + 1 + offset, column, value)
    column_totals = [sum(column) for column in zip(*counts, strict=True)]
    total_row = header_row + 1 + len(counts)
    totals = ["Total", *column_totals, sum(column_totals) + typed_over]
    for column, value in enumerate(totals, start=1):
        sheet.cell(total_row, column, value).font = Font(bold=True)
    sheet.column_dimensions["A"].width = 22


def workbook_bytes(quarter: dt.date, figures: dict[str, list[list[int]]]) -> bytes:
    """One quarter's workbook: Crimes, Incidents, then Notes."""
    label = periods.fy_quarter_label(quarter)
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for sheet_name, (title, _, _) in MEASURES.items():
        typed_over = HAND_TYPED_TOTAL[2] if (label, sheet_name) == HAND_TYPED_TOTAL[:2] else 0
        sheet = workbook.create_sheet(sheet_name)
        _write_sheet(sheet, quarter, title, figures[sheet_name], typed_over)
    notes = workbook.create_sheet("Notes")
    for number, line in enumerate(NOTES, start=1):
        if line:
            notes.cell(number, 1, line)
    notes.column_dimensions["A"].width = 110
    return reproducible_xlsx_bytes(workbook, WORKBOOK_TIMESTAMP)


def file_name(quarter: dt.date) -> str:
    year, number = periods.fy_quarter_label(quarter).split(" ")
    return f"tvp_domestic_abuse_{year}_{number}.xlsx"


def generate(out_dir: Path, seed: int) -> str:
    """Write the sixteen quarterly workbooks under ``out_dir/tvp_domestic_abuse``."""
    folder = out_dir / FOLDER
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = np.random.default_rng([seed, 4101])
    yearly: dict[str, dict[str, int]] = {sheet: {} for sheet in MEASURES}
    for index in range(QUARTER_COUNT):
        quarter = periods.add_months(FIRST_QUARTER, 3 * index)
        figures = _quarter_figures(quarter, rng)
        (folder / file_name(quarter)).write_bytes(workbook_bytes(quarter, figures))
        year = periods.financial_year_label(periods.financial_year_start(quarter))
        for sheet, counts in figures.items():
            yearly[sheet][year] = yearly[sheet].get(year, 0) + sum(map(sum, counts))
    by_year = "; ".join(
        f"{sheet.lower()} " + ", ".join(f"{year} {n}" for year, n in years.items())
        for sheet, years in yearly.items()
    )
    return f"{QUARTER_COUNT} workbooks; county totals {by_year}"
