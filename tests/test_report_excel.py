"""The published Excel scorecard, written from a warehouse built from the sample and re-read."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pytest
from conftest import SAMPLE_RAW_DIR
from test_refresh import refresh

from oscp_pipeline import warehouse
from oscp_pipeline.reports import disclosure
from oscp_pipeline.reports.disclosure import WITHHELD_NOTE
from oscp_pipeline.reports.excel import (
    ARROW_DOWN,
    ARROW_UP,
    COLUMNS,
    FIRST_AREA_COLUMN,
    HEADER_ROWS,
    MARKERS,
    RAG_FILLS,
    safe_text,
    write_scorecard_workbook,
)
from oscp_pipeline.scorecard.build import SUPPRESSION_NOTES

SUBTITLE = "SYNTHETIC sample data: not real figures"
INJECTED_NAME = '=HYPERLINK("http://example.com/x","Distraction burglary")'
INJECTED_NOTE = "@SUM(1+1) injected note"
LEVELS = {"County": ("county",), "CSPs": ("csp",), "Districts": ("district", "unallocated")}
VALUE, LAST_YEAR, CHANGE, CHANGE_YTD, RAG, DIRECTION = range(len(COLUMNS))


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory):
    """The sample warehouse, with hostile text planted where the workbook shows it."""
    wh = tmp_path_factory.mktemp("wh")
    assert refresh(SAMPLE_RAW_DIR, wh, dg.DagsterInstance.ephemeral()).success
    with duckdb.connect(str(warehouse.published_path(wh))) as writable:
        writable.execute(
            "UPDATE dim_indicator SET indicator_name = ? "
            "WHERE indicator_id = 'ho_distraction_burglary'",
            [INJECTED_NAME],
        )
        writable.execute(
            "UPDATE scorecard SET notes = ? WHERE indicator_id = 'fly_tipping' AND area_code = "
            "'E10000025' AND quarter_start = (SELECT max(quarter_start) FROM scorecard)",
            [INJECTED_NOTE],
        )
    with warehouse.read_only(wh) as read_only:
        yield read_only


@pytest.fixture(scope="module")
def latest(connection: duckdb.DuckDBPyConnection) -> list[dict]:
    relation = connection.execute(
        "SELECT s.*, i.indicator_name AS shown_name FROM scorecard s JOIN dim_indicator i "
        "USING (indicator_id) WHERE quarter_start = (SELECT max(quarter_start) FROM scorecard)"
    )
    names = [d[0] for d in relation.description]
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


@pytest.fixture(scope="module")
def workbook_path(connection: duckdb.DuckDBPyConnection, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("xlsx") / "scorecard.xlsx"
    assert write_scorecard_workbook(connection, path, subtitle=SUBTITLE) == path
    return path


@pytest.fixture(scope="module")
def book(workbook_path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(workbook_path)


def cell_of(book: openpyxl.Workbook, row: dict, offset: int):
    """The cell of a scorecard row's indicator and area, `offset` columns into the area's block."""
    sheet = next(name for name, types in LEVELS.items() if row["area_type"] in types)
    ws = book[sheet]
    rows = {ws.cell(r, 2).value: r for r in range(HEADER_ROWS + 1, ws.max_row + 1)}
    columns = {
        ws.cell(4, c).value: c
        for c in range(FIRST_AREA_COLUMN, ws.max_column + 1, len(COLUMNS))
        if ws.cell(4, c).value
    }
    return ws.cell(rows[safe_text(row["shown_name"])], columns[row["area_name"]] + offset)


def markers_of(cell) -> set[str]:
    """The footnote markers shown after a value: in its number format, or in its text."""
    shown = cell.value if isinstance(cell.value, str) else cell.number_format
    return set(shown.partition("[")[2].rstrip(']"').split(",")) - {""}


def test_safe_text_neutralises_formula_openers_and_leaves_the_rest() -> None:
    for text in ("=1+1", "+44 1865", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("a","b")'):
        assert safe_text(text) == "'" + text
    for text in ("Oxford", "", "1=1", " =x", "* [s]"):
        assert safe_text(text) == text
    assert safe_text(-2.5) == -2.5 and safe_text(None) is None


def test_sheets_title_and_synthetic_subtitle(book: openpyxl.Workbook, latest: list[dict]) -> None:
    assert book.sheetnames == ["County", "CSPs", "Districts", "Notes"]
    fy_quarter = latest[0]["fy_quarter"]
    assert fy_quarter == "2014-15 Q4"
    for ws in book.worksheets:
        assert ws["A1"].value.startswith(f"OSCP performance scorecard, {fy_quarter}")
        assert ws["A2"].value == SUBTITLE
    for name in LEVELS:
        assert book[name].freeze_panes == "C6"
        assert [book[name].cell(5, FIRST_AREA_COLUMN + i).value for i in range(6)] == [
            label for label, _ in COLUMNS
        ]
    assert book["CSPs"]["C4"].value == "Cherwell"
    assert book["Districts"]["A6"].value == "OSCP Business Plan"


def test_values_and_changes_equal_the_warehouse(book: openpyxl.Workbook, latest: list[dict]):
    (asb,) = [
        r for r in latest if r["indicator_id"] == "asb_incidents" and r["area_type"] == "county"
    ]
    assert cell_of(book, asb, VALUE).value == asb["value"] == 2179
    assert cell_of(book, asb, LAST_YEAR).value == asb["value_same_quarter_last_year"]
    assert cell_of(book, asb, CHANGE).value == pytest.approx(asb["change_pct"])
    assert cell_of(book, asb, CHANGE_YTD).value == pytest.approx(asb["change_ytd_pct"])
    shown = [r for r in latest if not r["suppressed"] and r["value"] is not None]
    assert len(shown) > 150
    for row in shown:
        assert cell_of(book, row, VALUE).value == row["value"], row


def test_rag_fill_matches_the_warehouse_rag(
    book: openpyxl.Workbook, latest: list[dict], connection: duckdb.DuckDBPyConnection
) -> None:
    quarter = latest[0]["quarter_start"]
    flagged = {
        (r["indicator_id"], r["area_code"]): r
        for r in disclosure.scorecard_rows(connection, [quarter])
    }
    rated = [r for r in latest if r["rag"]]
    assert {r["rag"] for r in rated} >= {"green", "amber", "red", "grey"}
    hidden = 0
    for row in rated:
        cell = cell_of(book, row, RAG)
        if flagged[(row["indicator_id"], row["area_code"])]["ytd_withheld"]:
            # No RAG beside a withheld year to date, not even grey: it could say last year's
            # was 0 (no change to rate).
            assert cell.value is None, row
            hidden += 1
            continue
        assert cell.value == row["rag"].capitalize()
        assert cell.fill.fgColor.rgb[-6:] == RAG_FILLS[row["rag"]], row
    assert hidden, "the sample has years to date holding a withheld quarter"


def test_direction_arrows_and_colours(book: openpyxl.Workbook, latest: list[dict]) -> None:
    deteriorating = [r for r in latest if r["direction"] == "deteriorating"]
    improving = [r for r in latest if r["direction"] == "improving"]
    assert deteriorating and improving
    for row in deteriorating + improving:
        cell = cell_of(book, row, DIRECTION)
        arrow = ARROW_UP if row["change"] > 0 else ARROW_DOWN
        assert cell.value == f"{arrow} {row['direction']}"
        colour = "C00000" if row["direction"] == "deteriorating" else "00803C"
        assert cell.font.color.rgb[-6:] == colour


def test_suppressed_cells_show_the_marker_never_the_value(
    book: openpyxl.Workbook, latest: list[dict]
) -> None:
    suppressed = [r for r in latest if r["suppressed"]]
    assert len(suppressed) >= 10
    for row in suppressed:
        value = cell_of(book, row, VALUE).value
        assert isinstance(value, str) and value.startswith("* [") and "s" in value
        assert str(int(row["value"])) not in value
        assert cell_of(book, row, CHANGE).value in (None, "*")
    # nowhere in the published sheets does a withheld count appear as a number in its cell
    assert all(cell_of(book, r, VALUE).data_type == "s" for r in suppressed)


def test_a_change_on_a_withheld_quarter_is_the_marker_even_when_none_can_be_given(
    book: openpyxl.Workbook, latest: list[dict], connection: duckdb.DuckDBPyConnection
) -> None:
    """A withheld 0 last year leaves no change % to give; a blank there (where other withheld
    quarters show the marker) would say the withheld figure was 0."""
    quarter = latest[0]["quarter_start"]
    against_withheld = [
        r
        for r in disclosure.scorecard_rows(connection, [quarter])
        if r["last_year_suppressed"] and r["value"] is not None
    ]
    assert any(r["value_same_quarter_last_year"] == 0 for r in against_withheld)
    shown = {(r["indicator_id"], r["area_code"]): r for r in latest}
    for row in against_withheld:
        assert cell_of(book, shown[(row["indicator_id"], row["area_code"])], CHANGE).value == "*"


def test_footnote_markers_and_texts(
    book: openpyxl.Workbook, latest: list[dict], connection: duckdb.DuckDBPyConnection
) -> None:
    broken = [r for r in latest if r["series_break"]]
    assert broken
    for row in broken:
        assert "b" in markers_of(cell_of(book, row, VALUE))
    estimated = next(r for r in latest if r["population_is_estimate"] and not r["suppressed"])
    assert "e" in markers_of(cell_of(book, estimated, VALUE))
    exceptional = next(r for r in latest if r["exception"] == "high")
    assert "x" in markers_of(cell_of(book, exceptional, VALUE))
    not_available = next(r for r in latest if r["value"] is None)
    assert cell_of(book, not_available, VALUE).value.startswith("n/a [")
    commented = next(r for r in latest if r["notes"] and r["indicator_id"] != "fly_tipping")
    assert cell_of(book, commented, VALUE).comment.text == commented["notes"]

    notes = [c.value for row in book["Notes"].iter_rows() for c in row if c.value]
    for (description,) in connection.execute("SELECT description FROM series_break").fetchall():
        assert description in notes
    county = [c.value for row in book["County"].iter_rows() for c in row if c.value]
    for marker, text in MARKERS.items():
        assert f"[{marker}]" in notes and text in notes
        assert f"[{marker}]" in county and text in county
    assert commented["notes"] in notes


def test_formula_text_is_neutralised(book: openpyxl.Workbook, latest: list[dict]) -> None:
    (row,) = [
        r
        for r in latest
        if r["indicator_id"] == "ho_distraction_burglary" and r["area_type"] == "county"
    ]
    ws = book["County"]
    names = [ws.cell(r, 2) for r in range(HEADER_ROWS + 1, ws.max_row + 1)]
    (cell,) = [c for c in names if c.value and "HYPERLINK" in c.value]
    assert cell.value == "'" + INJECTED_NAME and cell.data_type == "s"
    assert cell_of(book, row, VALUE).value == row["value"]
    notes = [c for r in book["Notes"].iter_rows() for c in r if c.value]
    assert any(c.value == "'" + INJECTED_NOTE and c.data_type == "s" for c in notes)
    formulas = [
        c for ws in book.worksheets for r in ws.iter_rows() for c in r if c.data_type == "f"
    ]
    assert formulas == []


def test_an_earlier_quarter_can_be_asked_for(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_scorecard_workbook(connection, tmp_path / "q2.xlsx", dt.date(2013, 7, 1))
    book = openpyxl.load_workbook(path)
    ws = book["County"]
    assert ws["A1"].value.startswith("OSCP performance scorecard, 2013-14 Q2")
    assert ws["A2"].value is None
    relation = connection.execute(
        "SELECT s.*, i.indicator_name AS shown_name FROM scorecard s JOIN dim_indicator i "
        "USING (indicator_id) WHERE quarter_start = DATE '2013-07-01' AND area_type = 'county' "
        "AND indicator_id IN ('domestic_abuse_crimes', 'stop_hate_uk_reports') ORDER BY 1"
    )
    names = [d[0] for d in relation.description]
    broken, young = [dict(zip(names, r, strict=True)) for r in relation.fetchall()]
    assert broken["series_break"] and young["sufficient_history"] is False
    for row, marker in ((broken, "b"), (young, "h")):
        assert cell_of(book, row, VALUE).value == row["value"]
        assert marker in markers_of(cell_of(book, row, VALUE))
        assert cell_of(book, row, RAG).value == "Grey"
    with pytest.raises(ValueError, match="no rows"):
        write_scorecard_workbook(connection, tmp_path / "none.xlsx", dt.date(1999, 4, 1))


def shift_quarters(quarter: dt.date, count: int) -> dt.date:
    months = quarter.year * 12 + quarter.month - 1 + 3 * count
    return dt.date(months // 12, months % 12 + 1, 1)


def year_to_date(quarter: dt.date) -> list[dt.date]:
    """The quarters of the financial year to date ending with `quarter`."""
    return [shift_quarters(quarter, -k) for k in range((quarter.month - 4) % 12 // 3 + 1)]


def printed_blocks(book: openpyxl.Workbook, connection: duckdb.DuckDBPyConnection) -> dict:
    """Every area block of every level sheet, by (indicator_id, area_code): its six cells."""
    ids = {
        safe_text(name): i
        for i, name in connection.execute(
            "SELECT indicator_id, indicator_name FROM dim_indicator"
        ).fetchall()
    }
    areas = connection.execute("SELECT area_name, area_code, area_type FROM dim_area").fetchall()
    blocks = {}
    for sheet, types in LEVELS.items():
        ws = book[sheet]
        codes = {name: code for name, code, area_type in areas if area_type in types}
        for r in range(HEADER_ROWS + 1, ws.max_row + 1):
            indicator_id = ids.get(ws.cell(r, 2).value)
            for c in range(FIRST_AREA_COLUMN, ws.max_column + 1, len(COLUMNS)):
                if indicator_id and ws.cell(4, c).value in codes:
                    cells = [ws.cell(r, c + offset) for offset in range(len(COLUMNS))]
                    if any(cell.value is not None for cell in cells):
                        blocks[(indicator_id, codes[ws.cell(4, c).value])] = cells
    return blocks


def test_no_printed_figure_lets_a_withheld_value_be_worked_out(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Each quarter's workbook, read back whole: a change % is printed only when neither
    quarter it compares is withheld or part of a quarter; a YTD change % only when no quarter
    of either year to date is; a withheld cell has no arrow, no exception marker and the one
    neutral note. (Every other quarter's values are printed in its own workbook, so a single
    withheld quarter beside a printed YTD change % would be given away by it.)"""
    cells = {
        (i, a, q): (suppressed, status)
        for i, a, q, suppressed, status in connection.execute(
            "SELECT indicator_id, area_code, quarter_start, suppressed, value_status FROM scorecard"
        ).fetchall()
    }

    def clear(indicator_id: str, area_code: str, quarters: list[dt.date]) -> bool:
        found = [cells.get((indicator_id, area_code, q), (False, "reported")) for q in quarters]
        return all(not held and status != "partly_not_applicable" for held, status in found)

    quarters = sorted({q for _, _, q in cells})
    assert len(quarters) == 16
    checked = withheld = ytd_hidden_beyond_the_quarters_compared = 0
    for quarter in quarters:
        book = openpyxl.load_workbook(
            write_scorecard_workbook(connection, tmp_path / f"{quarter}.xlsx", quarter)
        )
        last_year = shift_quarters(quarter, -4)
        ytd = year_to_date(quarter) + year_to_date(last_year)
        for (indicator_id, area_code), block in printed_blocks(book, connection).items():
            checked += 1
            held = cells[(indicator_id, area_code, quarter)][0]
            compared = clear(indicator_id, area_code, [quarter, last_year])
            if isinstance(block[CHANGE].value, int | float):
                assert compared, (indicator_id, area_code, quarter)
            if isinstance(block[CHANGE_YTD].value, int | float):
                assert clear(indicator_id, area_code, ytd), (indicator_id, area_code, quarter)
            if block[CHANGE_YTD].value == "*" and compared:
                ytd_hidden_beyond_the_quarters_compared += 1
            if block[DIRECTION].value is not None:
                assert compared, (indicator_id, area_code, quarter)
            if held:
                withheld += 1
                assert block[DIRECTION].value is None and "x" not in markers_of(block[VALUE])
                assert block[CHANGE].value in (None, "*") and block[CHANGE_YTD].value in (None, "*")
                notes = block[VALUE].comment.text.split("; ")
                assert notes.count(WITHHELD_NOTE) == 1, notes
        printed = [str(c.value) for ws in book.worksheets for r in ws.iter_rows() for c in r]
        printed += [c.comment.text for ws in book.worksheets for r in ws.iter_rows() for c in r
                    if c.comment]  # fmt: skip
        for detailed in SUPPRESSION_NOTES.values():
            assert not any(detailed in text for text in printed), detailed
        assert not any("1 to 4" in text for text in printed)
    # every cell of the scorecard is printed in its quarter's workbook
    assert checked == len(cells) and withheld == sum(held for held, _ in cells.values())
    # YTD changes withheld for an earlier quarter of either year to date only
    assert ytd_hidden_beyond_the_quarters_compared == 38


def test_withheld_cells_and_comparisons_with_them_drop_direction_and_exception(
    book: openpyxl.Workbook, latest: list[dict], connection: duckdb.DuckDBPyConnection
) -> None:
    """The warehouse tests withheld cells like any other; the workbook prints none of it, nor
    the direction of a cell compared with a withheld one last year."""
    flagged = [r for r in latest if r["suppressed"] and r["exception"]]
    directed = [r for r in latest if r["suppressed"] and r["direction"]]
    assert len(flagged) == 2 and len(directed) >= 20
    for row in flagged + directed:
        assert cell_of(book, row, DIRECTION).value is None
        assert "x" not in markers_of(cell_of(book, row, VALUE))
        assert cell_of(book, row, VALUE).comment.text.split("; ").count(WITHHELD_NOTE) == 1
    relation = connection.execute(
        "SELECT s.*, i.indicator_name AS shown_name FROM scorecard s JOIN dim_indicator i "
        "USING (indicator_id) JOIN scorecard ly ON ly.indicator_id = s.indicator_id "
        "AND ly.area_code = s.area_code AND ly.quarter_start = s.quarter_start - INTERVAL 1 YEAR "
        "WHERE s.quarter_start = DATE '2015-01-01' AND ly.suppressed AND NOT s.suppressed "
        "AND s.direction IS NOT NULL"
    )
    names = [d[0] for d in relation.description]
    against_withheld = [dict(zip(names, r, strict=True)) for r in relation.fetchall()]
    assert len(against_withheld) == 8
    for row in against_withheld:
        assert cell_of(book, row, VALUE).value == row["value"]
        assert cell_of(book, row, LAST_YEAR).value == cell_of(book, row, CHANGE).value == "*"
        assert cell_of(book, row, DIRECTION).value is None
    listed = [c.value for r in book["Notes"].iter_rows(min_col=3, max_col=3) for c in r]
    assert sum(WITHHELD_NOTE in str(text).split("; ") for text in listed) == sum(
        1 for r in latest if r["suppressed"]
    )


def test_no_change_is_printed_for_part_of_a_quarter(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(
        write_scorecard_workbook(connection, tmp_path / "q3.xlsx", dt.date(2014, 10, 1))
    )
    relation = connection.execute(
        "SELECT s.*, i.indicator_name AS shown_name FROM scorecard s JOIN dim_indicator i "
        "USING (indicator_id) WHERE quarter_start = DATE '2014-10-01' "
        "AND value_status = 'partly_not_applicable'"
    )
    names = [d[0] for d in relation.description]
    partial = [dict(zip(names, r, strict=True)) for r in relation.fetchall()]
    # Last year is known, so a change could be worked out; the warehouse gives none either.
    assert len(partial) == 10
    assert all(r["value_same_quarter_last_year"] is not None for r in partial)
    assert all(r["change"] is None and r["change_pct"] is None for r in partial)
    for row in partial:
        assert cell_of(book, row, VALUE).value == row["value"]
        assert "n" in markers_of(cell_of(book, row, VALUE))
        assert cell_of(book, row, LAST_YEAR).value == row["value_same_quarter_last_year"]
        for column in (CHANGE, CHANGE_YTD, DIRECTION):
            assert cell_of(book, row, column).value is None, row


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_opens_the_workbook_and_prints_it(workbook_path: Path, tmp_path: Path) -> None:
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), workbook_path],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},  # a profile of its own
    )
    pdf = tmp_path / "scorecard.pdf"
    assert pdf.exists() and pdf.stat().st_size > 10_000
    assert pdf.read_bytes().startswith(b"%PDF")
