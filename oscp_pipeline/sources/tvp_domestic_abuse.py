"""Thames Valley Police domestic abuse crimes and incidents, monthly by district.

A force analyst sends one XLSX workbook a quarter (``tvp_domestic_abuse_2013-14_Q2.xlsx``) with
two sheets holding two different measures: ``Crimes`` (domestic abuse crimes) and ``Incidents``
(domestic abuse incidents, which include reports that were not crimes). Each sheet has title
rows, then the header ``District | Apr-13 | May-13 | Jun-13 | Total``, one row per district and
a ``Total`` row. The months across the columns are unpivoted to one row per measure, district
and month. The Total row and Total column are checked against the district figures and never
loaded: a figure they contradict is set aside with the cell named, never loaded.

Each sheet is accounted for on its own: its ``source_file`` is ``<workbook>#<sheet>`` (the way
Excel addresses a sheet inside a workbook), so that row 6 of ``Crimes`` and row 6 of
``Incidents`` remain two rows in the load log and in the row accounting.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from oscp_pipeline import periods
from oscp_pipeline.reference import districts, resolve_area
from oscp_pipeline.sources.base import (
    DELIVERY_ORDER_RULE,
    Column,
    Expectation,
    FileRead,
    FileRejected,
    SourceContract,
    SourceSpec,
    delivery_order,
    held_back_message,
    load_log_row,
    measure_row,
    normalise_header,
    parse_date,
    quarter_period,
    quoted_code,
    read_xlsx_rows,
    reads_each_delivery_once,
    recorded_code,
    rejected_log_row,
    relative_source_file,
    set_aside_row,
    sha256_of,
    source_files,
    superseded_reason,
    unknown_columns_warnings,
    unread_files_warnings,
)

SOURCE_ID = "tvp_domestic_abuse"
FILE_NAME = re.compile(
    r"^tvp_domestic_abuse_(?P<year>\d{4}-\d{2})_Q(?P<quarter>[1-4])(?:[_ -].*)?\.xlsx$",
    re.IGNORECASE,
)
SHEET_MEASURES = {"Crimes": "crimes", "Incidents": "incidents"}
# Month headers: text as the analyst types it ('Apr-13'), or an Excel date cell, which the
# workbook reader gives as an ISO date; a date cell stands for its month.
MONTH_FORMATS = ("%b-%y", "%Y-%m-%d")
HEADER_SEARCH_ROWS = 20
UNALLOCATED = "OSCP-UNALLOCATED"
COUNTY = "E10000025"
TOTAL_LABELS = frozenset({"total", "grand total", "county total", "oxfordshire total"})
ONE_DAY = dt.timedelta(days=1)
COUNT = re.compile(r"[0-9]+|[0-9]{1,3}(,[0-9]{3})+")  # a whole number, thousands may be marked

COLUMNS = (
    Column(
        "district",
        "District",
        "District as the force writes it, resolved through area_aliases.csv; 'Total' on the "
        "totals row",
        aliases=("Local authority", "District name"),
    ),
    Column(
        "total",
        "Total",
        "The row's months added up: checked against them, not loaded",
        aliases=("Grand total", "Quarter total"),
    ),
)

ACCEPTED_SCHEMA = pa.schema(
    [
        ("month", pa.date32()),
        ("measure", pa.string()),
        ("area_code", pa.string()),
        ("value", pa.int64()),
        ("source_file", pa.string()),
        ("row_number", pa.int64()),
        ("sheet", pa.string()),
    ]
)


def build_contract() -> SourceContract:
    """The domestic abuse workbook contract: two sheets, months across, totals checked."""
    return SourceContract(
        source_id=SOURCE_ID,
        title="Thames Valley Police domestic abuse crimes and incidents",
        publisher="Thames Valley Police, Force Intelligence (partnership data-sharing agreement)",
        file_pattern=f"{SOURCE_ID}/{SOURCE_ID}_YYYY-YY_QN.xlsx (sheets Crimes and Incidents)",
        columns=COLUMNS,
        row_rules=(
            "The workbook must have the sheets 'Crimes' and 'Incidents' (other sheets are "
            "ignored); a missing sheet rejects the workbook.",
            "Each sheet's header row, below any title rows, reads District, one column per "
            "month, then Total. Every header between District and Total must be a month: text "
            f"in the format {MONTH_FORMATS[0]} (e.g. 'Apr-13') or an Excel date cell (read as "
            f"{MONTH_FORMATS[1]}, standing for its month); anything else rejects the workbook.",
            "The months of a sheet are consecutive, appear once and lie in the financial "
            "quarter the file name gives (a quarter in progress may have fewer than three).",
            "District names are resolved through area_aliases.csv; an unknown name sets the "
            "row aside naming it (a cell of free text, such as a note, is described by its "
            "length, never quoted, in the reason and the set-aside record).",
            "Counts are whole numbers, 0 or more; a negative, blank or non-numeric count sets "
            "its row aside naming the sheet, row, column and value.",
            "A district's Total must equal its months added up, else the row is set aside.",
            "The Total row must equal the district rows added up, column by column, and is "
            "never loaded. A month whose total disagrees sets aside every district row of the "
            "sheet, because which district is wrong cannot be told; a disagreement in the Total "
            "column alone sets aside the Total row only.",
            "A district given on two rows of a sheet: neither row is loaded.",
            "A district with no row in a sheet is 0 for its months, unless rows of that sheet "
            "were set aside: then it is not available.",
            "Only notes may follow the Total row: a figure below it rejects the workbook.",
            "When two readable workbooks cover the same quarter, the later delivery is loaded "
            "and the other's rows are set aside as superseded. " + DELIVERY_ORDER_RULE,
            "A later workbook replaces the earlier one sheet by sheet: a sheet none of whose rows "
            "can be loaded is quarantined, and the earlier workbook's sheet stays loaded.",
        ),
        expectations=(
            Expectation(
                "row_count_between",
                "a delivery with no loadable figures is suspect",
                params={"min_value": 1},
            ),
            Expectation("not_null", "every figure has a month", "month"),
            Expectation(
                "in_set",
                "crimes and incidents are the two measures",
                "measure",
                {"value_set": sorted(SHEET_MEASURES.values())},
            ),
            Expectation(
                "in_set",
                "figures belong to an Oxfordshire district (or Oxfordshire, district not known)",
                "area_code",
                {"value_set": sorted(accepted_areas())},
            ),
            Expectation("between", "counts are never negative", "value", {"min_value": 0}),
            Expectation(
                "compound_unique",
                "one figure per measure, district and month",
                None,
                {"columns": ["measure", "area_code", "month"]},
            ),
        ),
        records_per_row="several",  # a district row holds a figure per month
    )


def accepted_areas() -> set[str]:
    """Areas a partner's district figure may be loaded for."""
    return {*districts().values(), UNALLOCATED}


def is_total_label(name: str) -> bool:
    """True for the name of a totals row or line ('Total', 'Oxfordshire', ...)."""
    return normalise_header(name) in TOTAL_LABELS or resolve_area(name) == COUNTY


def parse_count(text: str) -> int | None:
    """A count as written ('1,234' allowed), or None when it is not a whole number, 0 or more."""
    cleaned = text.strip()
    return int(cleaned.replace(",", "")) if COUNT.fullmatch(cleaned) else None


def count_problem(text: str) -> str:
    """Why a cell is not a count, in words."""
    if not text.strip():
        return "is blank; expected a count (a whole number, 0 or more)"
    return f"{quoted_code(text)} is not a count (a whole number, 0 or more)"


def quarter_of(path: Path, pattern: re.Pattern[str], expected: str) -> dt.date:
    """The quarter a delivery covers, from its name (``..._2013-14_Q2...``)."""
    match = pattern.match(path.name)
    if not match:
        raise FileRejected(
            path.name, f"the file name is not {expected}, so the quarter it covers is not known"
        )
    try:
        return periods.quarter_start_of_label(f"{match['year']} Q{match['quarter']}")
    except ValueError as error:
        raise FileRejected(path.name, f"the file name gives no valid quarter: {error}") from error


def named_quarter(path: Path) -> dt.date:
    """The quarter a delivery's name gives (``quarter_of``), for telling a resent copy from a
    delivery of another quarter."""
    return quarter_of(path, FILE_NAME, "")


def distinct_rows(figures: list[dict[str, object]]) -> int:
    """Source rows behind a file's figures: a row unpivoted to several figures counts once."""
    return len({figure["row_number"] for figure in figures})


@dataclass(frozen=True)
class MonthColumn:
    """A month column of a sheet: where it is, its header as written, and the month."""

    position: int
    label: str
    month: dt.date


@dataclass(frozen=True)
class SheetRow:
    """A row of a sheet's table, with its Excel row number."""

    number: int
    cells: list[str]

    def cell(self, position: int) -> str:
        return self.cells[position] if position < len(self.cells) else ""


@dataclass
class Sheet:
    """One sheet of a workbook read as a table: layout, district rows and the Total row."""

    source_file: str
    sheet: str
    header: list[str]
    district: int
    total: int
    months: tuple[MonthColumn, ...]
    rows: list[SheetRow]
    total_row: SheetRow

    @property
    def measure(self) -> str:
        return SHEET_MEASURES[self.sheet]

    def record(self, row: SheetRow) -> str:
        """The row's District, month and Total cells, as JSON keyed by the sheet's headers.

        Other columns are left out: an added column (an analyst's comment) may be free text
        about a victim. So may a note typed into one of these cells: a value that does not look
        like a district name or a count is replaced by a note of its length.
        """
        return json.dumps(
            {
                self.header[i]: recorded_code(row.cell(i))
                for i in range(self.district, self.total + 1)
            },
            ensure_ascii=False,
        )

    def where(self, row: SheetRow, position: int) -> str:
        """``sheet 'Crimes' row 6 (Oxford), column 'May-13'``: a cell, as a partner finds it."""
        return (
            f"sheet '{self.sheet}' row {row.number} ({row.cell(self.district)}), "
            f"column '{self.header[position]}'"
        )


def _find_header(rows: list[list[str]], source_file: str, sheet: str) -> tuple[int, int, int]:
    """(row index, District position, Total position) of the header below the title rows."""
    district_keys = {normalise_header(h) for h in COLUMNS[0].accepted_headers()}
    total_keys = {normalise_header(h) for h in COLUMNS[1].accepted_headers()}
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [normalise_header(cell) for cell in row]
        district = next((i for i, key in enumerate(keys) if key in district_keys), None)
        if district is None:
            continue
        total = next((i for i, k in enumerate(keys) if i > district and k in total_keys), None)
        if total is not None:
            return index, district, total
    raise FileRejected(
        source_file,
        f"sheet '{sheet}': no header row with 'District' followed by the months and 'Total' "
        f"in the first {HEADER_SEARCH_ROWS} rows",
    )


def _month_columns(
    header: list[str], span: tuple[int, int], quarter: dt.date, source_file: str, sheet: str
) -> tuple[MonthColumn, ...]:
    """The month columns between District and Total (``span``), in the file's quarter."""
    district, total = span
    label = periods.fy_quarter_label(quarter)
    months = []
    for position in range(district + 1, total):
        text = header[position]
        column = _column_letter(position)
        if not text.strip():
            raise FileRejected(
                source_file, f"sheet '{sheet}': column {column} has no header; expected a month"
            )
        month, error = parse_date(text, MONTH_FORMATS)
        if month is None:
            raise FileRejected(
                source_file,
                f"sheet '{sheet}': month header '{text}' (column {column}) is not a month in the "
                f"declared format(s) {', '.join(MONTH_FORMATS)}: {error}",
            )
        month = month.replace(day=1)
        if periods.quarter_start(month) != quarter:
            raise FileRejected(
                source_file,
                f"sheet '{sheet}': month '{text}' (column {column}) is outside {label}, the "
                "quarter the file name gives",
            )
        if any(m.month == month for m in months):
            raise FileRejected(source_file, f"sheet '{sheet}': month '{text}' appears twice")
        months.append(MonthColumn(position, text, month))
    if not months:
        raise FileRejected(source_file, f"sheet '{sheet}': no month columns before 'Total'")
    first = min(m.month for m in months)
    if {m.month for m in months} != {periods.add_months(first, i) for i in range(len(months))}:
        found = ", ".join(m.label for m in months)
        raise FileRejected(source_file, f"sheet '{sheet}': months {found} are not consecutive")
    return tuple(months)


def _column_letter(position: int) -> str:
    letters = ""
    number = position + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def read_sheet(
    path: Path, workbook_file: str, sheet: str, quarter: dt.date
) -> tuple[Sheet, list[int]]:
    """One sheet of a workbook as a table, and the positions (from 1) of its unknown columns.

    The table runs from the header to the Total row; rows below the Total row are notes.
    """
    _, rows = read_xlsx_rows(path, workbook_file, sheet)
    header_index, district, total = _find_header(rows, workbook_file, sheet)
    header = rows[header_index]
    months = _month_columns(header, (district, total), quarter, workbook_file, sheet)
    figures = [total, *(m.position for m in months)]
    table: list[SheetRow] = []
    total_row: SheetRow | None = None
    for number, cells in enumerate(rows[header_index + 1 :], start=header_index + 2):
        row = SheetRow(number, cells)
        has_figures = any(row.cell(p).strip() for p in figures)
        if total_row is not None:
            if has_figures:
                raise FileRejected(
                    workbook_file,
                    f"sheet '{sheet}' row {number} is below the Total row (row "
                    f"{total_row.number}) and holds figures; only notes may follow the totals",
                )
            continue
        if not has_figures and not row.cell(district).strip():
            continue
        if is_total_label(row.cell(district)):
            total_row = row
        else:
            table.append(row)
    if total_row is None:
        raise FileRejected(
            workbook_file,
            f"sheet '{sheet}': no Total row below the districts (a row whose District cell "
            "is 'Total')",
        )
    unknown = [
        position + 1
        for position, title in enumerate(header)
        if title.strip() and not district <= position <= total
    ]
    source_file = f"{workbook_file}#{sheet}"
    return Sheet(source_file, sheet, header, district, total, months, table, total_row), unknown


def _row_counts(sheet: Sheet, row: SheetRow) -> tuple[dict[int, int], list[str]]:
    """The readable counts of a row by column position, and a problem for each unreadable one."""
    counts: dict[int, int] = {}
    problems: list[str] = []
    for position in (*(m.position for m in sheet.months), sheet.total):
        value = parse_count(row.cell(position))
        if value is None:
            problems.append(f"{sheet.where(row, position)}: {count_problem(row.cell(position))}")
        else:
            counts[position] = value
    return counts, problems


def classify_sheet(
    sheet: Sheet, replaced_by: str | None
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The sheet's accepted figures (one per district and month) and its set-aside rows."""
    everything = [*sheet.rows, sheet.total_row]
    if replaced_by is not None:
        reason = f"sheet '{sheet.sheet}': {superseded_reason(sheet.months[0].month, replaced_by)}"
        return [], [_aside(sheet, row, "superseded", reason) for row in everything]

    reasons: dict[int, tuple[str, str]] = {}
    counts: dict[int, dict[int, int]] = {}
    areas: dict[int, str] = {}
    loadable = accepted_areas()
    for row in sheet.rows:
        counts[row.number], problems = _row_counts(sheet, row)
        name = row.cell(sheet.district).strip()
        area = resolve_area(name) if name else None
        if area is None or area not in loadable:
            reasons[row.number] = ("unknown_district", _unknown_district(sheet, row, name, area))
        elif problems:
            reasons[row.number] = ("invalid_count", "; ".join(problems))
        else:
            areas[row.number] = area
    _repeated_districts(sheet, areas, reasons)
    month_positions = [m.position for m in sheet.months]
    for row in sheet.rows:
        row_counts = counts[row.number]
        if row.number in reasons:
            continue
        months_sum = sum(row_counts[p] for p in month_positions)
        if row_counts[sheet.total] != months_sum:
            reasons[row.number] = (
                "totals_mismatch",
                f"{sheet.where(row, sheet.total)}: total {row_counts[sheet.total]} but the "
                f"months sum to {months_sum}",
            )
    month_mismatches, total_reason = _check_total_row(sheet, counts)
    if month_mismatches:
        doubtful = "; ".join(month_mismatches) + (
            "; which district is wrong cannot be told, so no district row of the sheet is loaded"
        )
        for row in sheet.rows:
            reasons.setdefault(row.number, ("totals_mismatch", doubtful))
    set_aside = [
        _aside(sheet, row, *reasons[row.number]) for row in sheet.rows if row.number in reasons
    ]
    set_aside.append(_aside(sheet, sheet.total_row, *total_reason))
    accepted = [
        {
            "month": column.month,
            "measure": sheet.measure,
            "area_code": areas[row.number],
            "value": counts[row.number][column.position],
            "source_file": sheet.source_file,
            "row_number": row.number,
            "sheet": sheet.sheet,
        }
        for row in sheet.rows
        if row.number not in reasons
        for column in sheet.months
    ]
    return accepted, set_aside


def _unknown_district(sheet: Sheet, row: SheetRow, name: str, area: str | None) -> str:
    where = f"sheet '{sheet.sheet}' row {row.number}, column '{sheet.header[sheet.district]}'"
    if not name:
        return f"{where}: the district is blank"
    if area is None:
        return (
            f"{where}: {quoted_code(name, 'district')} is not a known Oxfordshire district (a "
            "new spelling of one is added to area_aliases.csv)"
        )
    return f"{where}: '{name}' ({area}) is not a district; figures are loaded per district"


def _repeated_districts(
    sheet: Sheet, areas: dict[int, str], reasons: dict[int, tuple[str, str]]
) -> None:
    """A district given on two rows: which row is right cannot be told, so neither is loaded."""
    rows_by_area: dict[str, list[SheetRow]] = {}
    for row in sheet.rows:
        if row.number in areas:
            rows_by_area.setdefault(areas[row.number], []).append(row)
    for area, rows in rows_by_area.items():
        if len(rows) < 2:
            continue
        listed = " and ".join(f"{r.number} ('{r.cell(sheet.district)}')" for r in rows)
        for row in rows:
            reasons[row.number] = (
                "repeated_key",
                f"sheet '{sheet.sheet}' rows {listed} give the same district, {area}: neither "
                "is loaded",
            )
            del areas[row.number]


def _check_total_row(
    sheet: Sheet, counts: dict[int, dict[int, int]]
) -> tuple[list[str], tuple[str, str]]:
    """Compare the Total row with the district rows, column by column.

    Returns the month columns that disagree (they make every district figure of the sheet
    doubtful) and the Total row's own set-aside reason.
    """
    total_counts, _ = _row_counts(sheet, sheet.total_row)
    row = sheet.total_row
    month_mismatches: list[str] = []
    mismatches: list[str] = []
    unchecked: list[str] = []
    for position in (*(m.position for m in sheet.months), sheet.total):
        detail = [counts[r.number].get(position) for r in sheet.rows]
        found = total_counts.get(position)
        if found is None or None in detail:
            unchecked.append(f"'{sheet.header[position]}'")
            continue
        expected = sum(v for v in detail if v is not None)
        if found != expected:
            message = f"{sheet.where(row, position)}: total {found} but districts sum to {expected}"
            mismatches.append(message)
            if position != sheet.total:
                month_mismatches.append(message)
    months_sum = sum(total_counts.get(m.position, 0) for m in sheet.months)
    complete = set(total_counts) == {sheet.total, *(m.position for m in sheet.months)}
    if complete and not mismatches and total_counts[sheet.total] != months_sum:
        mismatches.append(
            f"{sheet.where(row, sheet.total)}: total {total_counts[sheet.total]} but the months "
            f"sum to {months_sum}"
        )
    if mismatches:
        return month_mismatches, ("totals_mismatch", "; ".join(mismatches))
    reason = f"sheet '{sheet.sheet}' row {row.number}: totals row, checked against the districts"
    if unchecked:
        reason += (
            f" except column(s) {', '.join(unchecked)}, which hold a value that is not a count"
        )
    return month_mismatches, ("totals_line", reason + "; totals are not loaded")


def _aside(sheet: Sheet, row: SheetRow, code: str, reason: str) -> dict[str, object]:
    return set_aside_row(SOURCE_ID, sheet.source_file, row.number, code, reason, sheet.record(row))


# The files the source reads; any other file in its folder is named in a warning.
FILE_SUFFIXES = (".xlsx",)


def discover_files(raw_dir: Path) -> list[Path]:
    """Every workbook under ``<raw>/tvp_domestic_abuse`` (not Excel's ``~$`` lock files)."""
    return [
        p for p in source_files(raw_dir, SOURCE_ID, FILE_SUFFIXES) if not p.name.startswith("~$")
    ]


@reads_each_delivery_once(SOURCE_ID, named_period=named_quarter)
def read_workbooks(paths: list[Path], raw_dir: Path) -> FileRead:
    """Read every workbook together, so that a later delivery of a quarter replaces an earlier.

    Workbooks are read first and the latest delivery of each quarter is chosen among those
    that could be read: a broken re-delivery is rejected and the earlier one stays loaded. It
    replaces the earlier sheet by sheet (``_sheets_in_use``), so a sheet none of whose rows can
    be loaded leaves the earlier sheet loaded.
    """
    log: list[dict[str, object]] = []
    readable: dict[str, tuple[Path, dt.date]] = {}
    sheets_of: dict[str, list[tuple[Sheet, list[str]]]] = {}
    for path in paths:
        workbook_file = relative_source_file(path, raw_dir)
        quarter: dt.date | None = None
        try:
            quarter = quarter_of(
                path, FILE_NAME, f"{SOURCE_ID}_YYYY-YY_QN.xlsx (e.g. {SOURCE_ID}_2013-14_Q2.xlsx)"
            )
            sheets_of[workbook_file] = [
                read_sheet(path, workbook_file, name, quarter) for name in SHEET_MEASURES
            ]
        except FileRejected as error:
            # A workbook that cannot be read has one load-log line, not one per sheet.
            log.append(
                rejected_log_row(
                    SOURCE_ID,
                    workbook_file,
                    sha256_of(path),
                    error.problem,
                    quarter_period(quarter),
                )
            )
            continue
        readable[workbook_file] = (path, quarter)
    order, warnings = delivery_order(readable)
    sheets = {
        (workbook_file, name): read
        for workbook_file, reads in sheets_of.items()
        for name, read in zip(SHEET_MEASURES, reads, strict=True)
    }
    classified = {key: classify_sheet(sheet, None) for key, (sheet, _) in sheets.items()}
    in_use = _sheets_in_use(order, classified)
    digests = {workbook_file: sha256_of(path) for workbook_file, (path, _) in readable.items()}
    accepted: list[dict[str, object]] = []
    set_aside: list[dict[str, object]] = []
    for (workbook_file, name), (sheet, unknown) in sheets.items():
        warnings.extend(unknown_columns_warnings(sheet.source_file, unknown))
        sheet_accepted, sheet_aside = classified[(workbook_file, name)]
        loaded_instead, held_back = in_use.get((workbook_file, name), (None, False))
        if loaded_instead is not None and not held_back:
            sheet_accepted, sheet_aside = classify_sheet(sheet, loaded_instead)
        line = _loaded_line(sheet, digests[workbook_file], sheet_accepted, sheet_aside)
        if held_back:
            line["status"] = "quarantined"
            line["message"] = held_back_message(line["rows_read"], f"{loaded_instead}#{name}")
        accepted.extend(sheet_accepted)
        set_aside.extend(sheet_aside)
        log.append(line)
    return FileRead.from_rows(ACCEPTED_SCHEMA, accepted, set_aside, log, warnings)


def _sheets_in_use(
    order: dict[object, list[str]],
    classified: dict[tuple[str, str], tuple[list[dict[str, object]], list[dict[str, object]]]],
) -> dict[tuple[str, str], tuple[str, bool]]:
    """For each sheet of a quarter delivered more than once that is not the one loaded: the
    workbook whose sheet is loaded instead, and whether this sheet is held back.

    A sheet is replaced sheet by sheet: by the same sheet of the latest workbook in which it
    loads rows (of the latest workbook when it loads rows in none). A later workbook's sheet
    none of whose rows can be loaded is held back, so the earlier sheet stays loaded instead of
    its quarter being lost.
    """
    in_use: dict[tuple[str, str], tuple[str, bool]] = {}
    for workbooks in order.values():
        for name in SHEET_MEASURES:
            loading = [w for w in workbooks if classified[(w, name)][0]]
            chosen = loading[-1] if loading else workbooks[-1]
            for position, workbook in enumerate(workbooks):
                if workbook != chosen:
                    in_use[(workbook, name)] = (chosen, position > workbooks.index(chosen))
    return in_use


def _loaded_line(
    sheet: Sheet,
    digest: str,
    accepted: list[dict[str, object]],
    set_aside: list[dict[str, object]],
) -> dict[str, object]:
    """The load-log line of one sheet; loaded rows are counted once however many months."""
    last = max(m.month for m in sheet.months)
    period = (min(m.month for m in sheet.months), periods.add_months(last, 1) - ONE_DAY)
    counts = (len(sheet.rows) + 1, distinct_rows(accepted), len(set_aside))
    return load_log_row(SOURCE_ID, sheet.source_file, digest, "xlsx", period, counts)


def read_all(raw_dir: Path) -> FileRead:
    read = read_workbooks(discover_files(raw_dir), raw_dir)
    return read.with_warnings(unread_files_warnings(raw_dir, SOURCE_ID, FILE_SUFFIXES))


def measures() -> list[dict[str, str | None]]:
    return [
        measure_row(
            f"{SOURCE_ID}.crimes",
            SOURCE_ID,
            "Domestic abuse crimes recorded by Thames Valley Police",
            "crimes",
            "month",
        ),
        measure_row(
            f"{SOURCE_ID}.incidents",
            SOURCE_ID,
            "Domestic abuse incidents reported to Thames Valley Police (crimes and non-crimes)",
            "incidents",
            "month",
        ),
    ]


RECONCILE_SQL = """
WITH from_records AS (
    SELECT month AS period_start, area_code, sum(value) AS n
    FROM tvp_domestic_abuse GROUP BY ALL
),
from_observations AS (
    SELECT period_start, area_code, sum(value) AS n
    FROM observations WHERE source_id = 'tvp_domestic_abuse' GROUP BY ALL
)
SELECT 'tvp_domestic_abuse' AS source_id, period_start, area_code, r.n AS records,
       o.n AS observations
FROM from_records AS r FULL JOIN from_observations AS o USING (period_start, area_code)
WHERE coalesce(r.n, 0) <> coalesce(o.n, 0)
"""

TOTALS_MISMATCH_SQL = """
SELECT source_file, row_number, reason
FROM set_aside
WHERE source_id = 'tvp_domestic_abuse' AND reason_code = 'totals_mismatch'
ORDER BY source_file, row_number
"""

SPEC = SourceSpec(
    source_id=SOURCE_ID,
    title="Thames Valley Police domestic abuse crimes and incidents",
    group="thames_valley_police",
    accepted_schema=ACCEPTED_SCHEMA,
    record_tables=(SOURCE_ID,),
    build_contract=build_contract,
    measures=measures,
    read_all=read_all,
    reconcile_sql=RECONCILE_SQL,
    warning_checks=(
        (
            "tvp_domestic_abuse_totals_reconcile",
            "Each domestic abuse workbook's Total row and Total column agree with its district "
            "figures; a cell that disagrees is listed here by sheet, row and column, and the "
            "rows it makes doubtful are set aside.",
            TOTALS_MISMATCH_SQL,
        ),
    ),
)
