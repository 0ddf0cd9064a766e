"""Domestic abuse workbooks: months unpivoted, totals reconciled, every row accounted for."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import pytest
from conftest import SAMPLE_RAW_DIR
from openpyxl import Workbook
from test_refresh import query, refresh

from oscp_pipeline import periods
from oscp_pipeline.sources import tvp_domestic_abuse
from oscp_pipeline.sources.base import FileRead, row_accounting_failures
from oscp_pipeline.synthetic import tvp_domestic_abuse as synthetic

SEED = 20140331
FOLDER = "tvp_domestic_abuse"
Q2_FILE = "tvp_domestic_abuse_2013-14_Q2.xlsx"
Q2_MONTHS = ("Jul-13", "Aug-13", "Sep-13")
CRIMES = [
    ("Cherwell", [70, 64, 66]),
    ("Oxford", [83, 90, 88]),
    ("South Oxfordshire", [52, 55, 50]),
    ("Vale of White Horse", [49, 47, 51]),
    ("West Oxfordshire", [40, 38, 41]),
]
INCIDENTS = [(name, [3 * n for n in counts]) for name, counts in CRIMES]
CODES = ["E07000177", "E07000178", "E07000179", "E07000180", "E07000181"]

Rows = list[list[object]]


def sheet_rows(
    title: str,
    districts: Sequence[tuple[str, Sequence[object]]],
    months: Sequence[object] = Q2_MONTHS,
) -> Rows:
    """A sheet as the analyst lays it out: three title rows, header on row 4, Total last.

    Totals add up the cells that are numbers, as Excel's SUM does.
    """
    rows: Rows = [[title], ["Produced by Force Intelligence, SYNTHETIC"], []]
    rows.append(["District", *months, "Total"])
    numbers = [[c if isinstance(c, int) else 0 for c in counts] for _, counts in districts]
    rows.extend(
        [name, *counts, sum(n)] for (name, counts), n in zip(districts, numbers, strict=True)
    )
    totals = [sum(column) for column in zip(*numbers, strict=True)]
    rows.append(["Total", *totals, sum(totals)])
    return rows


def write_workbook(folder: Path, name: str, sheets: dict[str, Rows]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    folder.mkdir(parents=True, exist_ok=True)
    workbook.save(folder / name)
    return folder / name


def write_quarter(raw: Path, name: str = Q2_FILE, **sheets: Rows) -> Path:
    """A workbook with both sheets, either replaced by the caller's rows."""
    return write_workbook(
        raw / FOLDER,
        name,
        {
            "Crimes": sheets.get("crimes") or sheet_rows("Domestic abuse crimes", CRIMES),
            "Incidents": sheets.get("incidents")
            or sheet_rows("Domestic abuse incidents", INCIDENTS),
        },
    )


def read(raw: Path) -> FileRead:
    result = tvp_domestic_abuse.read_all(raw)
    assert row_accounting_failures(result) == []
    return result


def aside(result: FileRead) -> list[tuple[str, int, str, str]]:
    return [
        (r["source_file"].split("#")[1], r["row_number"], r["reason_code"], r["reason"])
        for r in result.set_aside.to_pylist()
    ]


def quarter_totals(result: FileRead, measure: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in result.accepted.to_pylist():
        if row["measure"] == measure:
            label = periods.fy_quarter_label(row["month"])
            totals[label] = totals.get(label, 0) + row["value"]
    return totals


def test_the_sample_reconciles_and_shows_the_2013_14_q2_jump(tmp_path: Path) -> None:
    synthetic.generate(tmp_path, SEED)
    result = read(tmp_path)
    log = result.load_log.to_pylist()
    assert len(log) == 32 and {line["status"] for line in log} == {"loaded"}
    assert log[0]["source_file"] == f"{FOLDER}/tvp_domestic_abuse_2011-12_Q1.xlsx#Crimes"
    assert (log[0]["period_start"], log[0]["period_end"]) == (
        dt.date(2011, 4, 1),
        dt.date(2011, 6, 30),
    )
    assert {(line["rows_read"], line["rows_loaded"]) for line in log} == {(6, 5)}
    assert result.accepted.num_rows == 2 * 48 * 5
    # The analyst's short 2011-12 names and the later full names reach the same five districts.
    assert set(result.accepted["area_code"].to_pylist()) == set(CODES)
    reasons = [(code, text) for _, _, code, text in aside(result) if code != "totals_line"]
    assert reasons == [
        (
            "totals_mismatch",
            "sheet 'Incidents' row 10 (Total), column 'Total': total 2333 but districts sum "
            "to 2323",
        )
    ]
    # County totals: 2013-14 Q2 jumps far outside the spread of the earlier years.
    crimes, incidents = quarter_totals(result, "crimes"), quarter_totals(result, "incidents")
    assert (crimes["2012-13 Q2"], crimes["2013-14 Q2"]) == (915, 1299)  # +42%
    assert (incidents["2012-13 Q2"], incidents["2013-14 Q2"]) == (2350, 3282)  # +40%
    earlier = [crimes[f"2012-13 Q{q}"] / crimes[f"2011-12 Q{q}"] - 1 for q in (1, 2, 3, 4)]
    assert max(abs(change) for change in earlier) < 0.05


def test_a_month_total_that_disagrees_sets_aside_every_district_row_of_the_sheet(
    tmp_path: Path,
) -> None:
    crimes = sheet_rows("Domestic abuse crimes", CRIMES)
    crimes[9][2] = 297  # Total row, Aug-13: the districts add up to 294
    write_quarter(tmp_path, crimes=crimes)
    result = read(tmp_path)
    mismatch = "sheet 'Crimes' row 10 (Total), column 'Aug-13': total 297 but districts sum to 294"
    doubtful = mismatch + (
        "; which district is wrong cannot be told, so no district row of the sheet is loaded"
    )
    assert aside(result)[:6] == [
        *(("Crimes", row, "totals_mismatch", doubtful) for row in range(5, 10)),
        ("Crimes", 10, "totals_mismatch", mismatch),
    ]
    assert set(result.accepted["measure"].to_pylist()) == {"incidents"}
    crimes_log = result.load_log.to_pylist()[0]
    assert (crimes_log["rows_read"], crimes_log["rows_loaded"], crimes_log["rows_set_aside"]) == (
        6,
        0,
        6,
    )


def test_a_district_total_that_disagrees_sets_aside_that_row_only(tmp_path: Path) -> None:
    crimes = sheet_rows("Domestic abuse crimes", CRIMES)
    crimes[5][4] = 263  # Oxford's Total: its months add up to 261
    write_quarter(tmp_path, crimes=crimes)
    result = read(tmp_path)
    assert aside(result)[:2] == [
        (
            "Crimes",
            6,
            "totals_mismatch",
            "sheet 'Crimes' row 6 (Oxford), column 'Total': total 263 but the months sum to 261",
        ),
        (
            "Crimes",
            10,
            "totals_mismatch",
            "sheet 'Crimes' row 10 (Total), column 'Total': total 884 but districts sum to 886",
        ),
    ]
    loaded = {r["area_code"] for r in result.accepted.to_pylist() if r["measure"] == "crimes"}
    assert loaded == set(CODES) - {"E07000178"}


def test_bad_counts_and_unknown_districts_are_set_aside_naming_the_cell(tmp_path: Path) -> None:
    districts = [
        ("Cherwell", [70, -3, 66]),
        ("Oxford", [83, "n/a", 88]),
        ("Oxford City Centre", [1, 2, 3]),
        ("Oxfordshire - district not known", [1, 0, 0]),
        ("South Oxon", [52, 55, 50]),
    ]
    write_quarter(tmp_path, crimes=sheet_rows("Domestic abuse crimes", districts))
    result = read(tmp_path)
    assert aside(result)[:4] == [
        (
            "Crimes",
            5,
            "invalid_count",
            "sheet 'Crimes' row 5 (Cherwell), column 'Aug-13': '-3' is not a count (a whole "
            "number, 0 or more)",
        ),
        (
            "Crimes",
            6,
            "invalid_count",
            "sheet 'Crimes' row 6 (Oxford), column 'Aug-13': 'n/a' is not a count (a whole "
            "number, 0 or more)",
        ),
        (
            "Crimes",
            7,
            "unknown_district",
            "sheet 'Crimes' row 7, column 'District': district 'Oxford City Centre' is not a "
            "known Oxfordshire district (a new spelling of one is added to area_aliases.csv)",
        ),
        (
            "Crimes",
            10,
            "totals_line",
            "sheet 'Crimes' row 10: totals row, checked against the districts except column(s) "
            "'Aug-13', which hold a value that is not a count; totals are not loaded",
        ),
    ]
    crimes = {
        (r["area_code"], r["month"]): r["value"]
        for r in result.accepted.to_pylist()
        if r["measure"] == "crimes"
    }
    assert crimes == {
        ("OSCP-UNALLOCATED", dt.date(2013, 7, 1)): 1,
        ("OSCP-UNALLOCATED", dt.date(2013, 8, 1)): 0,
        ("OSCP-UNALLOCATED", dt.date(2013, 9, 1)): 0,
        ("E07000179", dt.date(2013, 7, 1)): 52,
        ("E07000179", dt.date(2013, 8, 1)): 55,
        ("E07000179", dt.date(2013, 9, 1)): 50,
    }


def test_a_note_typed_into_a_district_or_count_cell_is_described_never_quoted(
    tmp_path: Path,
) -> None:
    district_note = "DAMARK_NOTE Oxford incl. repeat victim Jane Doe (DOB 01/02/1980)"
    count_note = "3 incl DAMARK_CELL victim Jane Doe"
    districts = [
        ("Cherwell", [70, 64, 66]),
        ("Oxford", [83, count_note, 88]),
        (district_note, ["", "", ""]),
        ("Oxford City Centre", [1, 2, 3]),  # a short unknown name is still quoted
    ]
    write_quarter(tmp_path, crimes=sheet_rows("Domestic abuse crimes", districts))
    result = read(tmp_path)

    tables = (result.accepted, result.set_aside, result.load_log)
    shown = "\n".join([*(str(table.to_pylist()) for table in tables), *result.warnings])
    assert "DAMARK" not in shown
    assert aside(result)[:3] == [
        (
            "Crimes",
            6,
            "invalid_count",
            f"sheet 'Crimes' row 6 (Oxford), column 'Aug-13': a {len(count_note)}-character "
            "value (not shown: it may be personal) is not a count (a whole number, 0 or more)",
        ),
        (
            "Crimes",
            7,
            "unknown_district",
            f"sheet 'Crimes' row 7, column 'District': a {len(district_note)}-character value "
            "(not shown: it may be personal) is not a known Oxfordshire district (a new "
            "spelling of one is added to area_aliases.csv)",
        ),
        (
            "Crimes",
            8,
            "unknown_district",
            "sheet 'Crimes' row 8, column 'District': district 'Oxford City Centre' is not a "
            "known Oxfordshire district (a new spelling of one is added to area_aliases.csv)",
        ),
    ]
    records = [json.loads(r) for r in result.set_aside["record"].to_pylist()[:3]]
    assert records == [
        {
            "District": "Oxford",
            "Jul-13": "83",
            "Aug-13": f"(not shown: a {len(count_note)}-character value that may be personal)",
            "Sep-13": "88",
            "Total": "171",
        },
        {
            "District": f"(not shown: a {len(district_note)}-character value that may be personal)",
            "Jul-13": "",
            "Aug-13": "",
            "Sep-13": "",
            "Total": "0",
        },
        {
            "District": "Oxford City Centre",
            "Jul-13": "1",
            "Aug-13": "2",
            "Sep-13": "3",
            "Total": "6",
        },
    ]


def test_a_district_on_two_rows_loads_neither(tmp_path: Path) -> None:
    districts = [*CRIMES, ("Oxford City", [1, 1, 1])]
    write_quarter(tmp_path, crimes=sheet_rows("Domestic abuse crimes", districts))
    result = read(tmp_path)
    repeated = (
        "sheet 'Crimes' rows 6 ('Oxford') and 10 ('Oxford City') give the same district, "
        "E07000178: neither is loaded"
    )
    assert aside(result)[:2] == [
        ("Crimes", 6, "repeated_key", repeated),
        ("Crimes", 10, "repeated_key", repeated),
    ]


@pytest.mark.parametrize(
    ("crimes", "message"),
    [
        (
            None,
            "no sheet named 'Incidents'; the workbook has ['Crimes']",
        ),
        (
            sheet_rows("t", CRIMES, ["Jul-13", "Sept-13", "Sep-13"]),
            "sheet 'Crimes': month header 'Sept-13' (column C) is not a month in the declared "
            "format(s) %b-%y, %Y-%m-%d: 'Sept-13' is not a date in the declared format(s) "
            "%b-%y, %Y-%m-%d",
        ),
        (
            sheet_rows("t", CRIMES, ["Jun-13", "Jul-13", "Aug-13"]),
            "sheet 'Crimes': month 'Jun-13' (column B) is outside 2013-14 Q2, the quarter the "
            "file name gives",
        ),
        (
            [*sheet_rows("t", CRIMES), [], ["Late return", 4, 0, 0, 4]],
            "sheet 'Crimes' row 12 is below the Total row (row 10) and holds figures; only "
            "notes may follow the totals",
        ),
        (
            sheet_rows("t", CRIMES)[:-1],
            "sheet 'Crimes': no Total row below the districts (a row whose District cell is "
            "'Total')",
        ),
    ],
)
def test_a_workbook_that_breaks_its_layout_is_rejected_naming_the_problem(
    tmp_path: Path, crimes: Rows | None, message: str
) -> None:
    sheets = {"Crimes": crimes or sheet_rows("t", CRIMES)}
    if crimes is not None:
        sheets["Incidents"] = sheet_rows("t", INCIDENTS)
    write_workbook(tmp_path / FOLDER, Q2_FILE, sheets)
    result = read(tmp_path)
    (line,) = result.load_log.to_pylist()
    assert (line["source_file"], line["status"], line["message"]) == (
        f"{FOLDER}/{Q2_FILE}",
        "rejected",
        message,
    )
    assert (line["period_start"], line["period_end"]) == (dt.date(2013, 7, 1), dt.date(2013, 9, 30))
    assert result.accepted.num_rows == 0


def test_a_later_delivery_of_the_same_quarter_replaces_the_earlier(tmp_path: Path) -> None:
    write_quarter(tmp_path)
    revised = [(name, [n + 1 for n in counts]) for name, counts in CRIMES]
    write_quarter(
        tmp_path,
        "tvp_domestic_abuse_2013-14_Q2_v2.xlsx",
        crimes=sheet_rows("Domestic abuse crimes", revised),
    )
    result = read(tmp_path)
    assert set(result.accepted["source_file"].to_pylist()) == {
        f"{FOLDER}/tvp_domestic_abuse_2013-14_Q2_v2.xlsx#Crimes",
        f"{FOLDER}/tvp_domestic_abuse_2013-14_Q2_v2.xlsx#Incidents",
    }
    superseded = [r for r in aside(result) if r[2] == "superseded"]
    assert len(superseded) == 12
    assert superseded[0][3] == (
        f"sheet 'Crimes': 2013-14 Q2 is loaded from {FOLDER}/tvp_domestic_abuse_2013-14_Q2_v2"
        ".xlsx, a later delivery of the same quarter"
    )


def test_layout_variations_leave_the_figures_unchanged(tmp_path: Path) -> None:
    write_quarter(tmp_path / "plain")
    expected = read(tmp_path / "plain").accepted.drop(["source_file"])

    # Date cells for months, headers in other case and spacing, two title rows instead of
    # three, an extra column the contract does not know, and a note under the totals.
    dates = [dt.datetime(2013, 7, 1), dt.datetime(2013, 8, 1), dt.datetime(2013, 9, 15)]
    varied: dict[str, Rows] = {}
    for name, districts in (("crimes", CRIMES), ("incidents", INCIDENTS)):
        rows = sheet_rows(name, districts, list(dates))
        del rows[2]
        rows[2] = ["  district ", *dates, "TOTAL", "Analyst"]
        for row in rows[3:]:
            row.append("JB")
        rows.append(["Source: crime recording system, extracted 5 October 2013"])
        varied[name] = rows
    write_quarter(tmp_path / "varied", **varied)
    result = read(tmp_path / "varied")
    assert result.warnings == [
        f"{FOLDER}/{Q2_FILE}#{sheet}: ignored 1 unknown column(s): column 6"
        for sheet in ("Crimes", "Incidents")
    ]
    numbers = result.accepted["row_number"].to_pylist()
    assert result.accepted.drop(["source_file", "row_number"]).equals(expected.drop(["row_number"]))
    assert min(numbers) == 4  # the header is on row 3 below two title rows


def test_refresh_publishes_records_and_monthly_observations(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_quarter(raw)
    # 2013-14 Q3 leaves out West Oxfordshire from Crimes (none recorded), and its Incidents
    # sheet has a row the reader cannot place.
    crimes_q3 = sheet_rows("c", CRIMES[:4], ["Oct-13", "Nov-13", "Dec-13"])
    incidents_q3 = sheet_rows(
        "i", [*INCIDENTS[:4], ("Thame", [1, 1, 1])], ["Oct-13", "Nov-13", "Dec-13"]
    )
    write_quarter(
        raw, "tvp_domestic_abuse_2013-14_Q3.xlsx", crimes=crimes_q3, incidents=incidents_q3
    )
    result = refresh(raw, wh, instance)
    assert result.success
    assert query(
        wh,
        """SELECT measure, count(*), sum(value), count(DISTINCT sheet) FROM tvp_domestic_abuse
           GROUP BY 1 ORDER BY 1""",
    ) == [("crimes", 27, 884 + 765, 1), ("incidents", 27, 3 * (884 + 765), 1)]
    observed = query(
        wh,
        """SELECT measure_id, period_start, area_code, value, value_status FROM observations
           WHERE source_id = 'tvp_domestic_abuse' AND area_code = 'E07000181'
           AND period_start IN (DATE '2013-07-01', DATE '2013-10-01') ORDER BY 1, 2""",
    )
    assert observed == [
        ("tvp_domestic_abuse.crimes", dt.date(2013, 7, 1), "E07000181", 40.0, "reported"),
        ("tvp_domestic_abuse.crimes", dt.date(2013, 10, 1), "E07000181", 0.0, "reported"),
        ("tvp_domestic_abuse.incidents", dt.date(2013, 7, 1), "E07000181", 120.0, "reported"),
        ("tvp_domestic_abuse.incidents", dt.date(2013, 10, 1), "E07000181", None, "not_available"),
    ]
    # Two measures, six months, five districts and the county's unallocated part.
    assert query(
        wh,
        """SELECT count(*), count(DISTINCT period_start) FROM observations
           WHERE source_id = 'tvp_domestic_abuse'""",
    ) == [(2 * 6 * (5 + 1), 6)]
    assert query(
        wh,
        "SELECT measure_id, break_date FROM series_break WHERE source_id = 'tvp_domestic_abuse' "
        "ORDER BY 1",
    ) == [
        ("tvp_domestic_abuse.crimes", dt.date(2013, 4, 1)),
        ("tvp_domestic_abuse.incidents", dt.date(2013, 4, 1)),
    ]
    assert query(
        wh,
        """SELECT source_file, rows_read, rows_loaded, rows_set_aside FROM load_log
           WHERE source_id = 'tvp_domestic_abuse' ORDER BY 1""",
    ) == [
        (f"{FOLDER}/{Q2_FILE}#Crimes", 6, 5, 1),
        (f"{FOLDER}/{Q2_FILE}#Incidents", 6, 5, 1),
        (f"{FOLDER}/tvp_domestic_abuse_2013-14_Q3.xlsx#Crimes", 5, 4, 1),
        (f"{FOLDER}/tvp_domestic_abuse_2013-14_Q3.xlsx#Incidents", 6, 4, 2),
    ]


def test_a_totals_mismatch_is_listed_by_the_warning_check(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    crimes = sheet_rows("Domestic abuse crimes", CRIMES)
    crimes[9][4] = 861
    write_quarter(raw, crimes=crimes)
    result = refresh(raw, wh, instance)
    assert result.success  # a warning: the published figures are all reconciled
    (check,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "tvp_domestic_abuse_totals_reconcile"
    ]
    assert not check.passed
    assert query(wh, "SELECT count(*) FROM tvp_domestic_abuse") == [(30,)]


def test_a_workbook_with_a_hash_in_its_name_gives_both_measures(tmp_path: Path) -> None:
    """Sheets are logged as '<workbook>#<sheet>': the measure is what follows the last '#'."""
    folder = tmp_path / "raw" / tvp_domestic_abuse.SOURCE_ID
    folder.mkdir(parents=True)
    sample = SAMPLE_RAW_DIR / tvp_domestic_abuse.SOURCE_ID / "tvp_domestic_abuse_2013-14_Q2.xlsx"
    (folder / "tvp_domestic_abuse_2013-14_Q2 #2.xlsx").write_bytes(sample.read_bytes())
    assert refresh(tmp_path / "raw", tmp_path / "wh", dg.DagsterInstance.ephemeral()).success
    assert query(
        tmp_path / "wh",
        "SELECT measure_id, count(*) FROM observations WHERE source_id = 'tvp_domestic_abuse' "
        "AND value IS NOT NULL GROUP BY ALL ORDER BY ALL",
    ) == [("tvp_domestic_abuse.crimes", 18), ("tvp_domestic_abuse.incidents", 18)]


def test_a_sheet_that_is_a_chart_rejects_its_workbook_alone(tmp_path: Path) -> None:
    """The 'Crimes' tab saved as a chart sheet: that workbook is rejected saying so, and the
    other quarter still loads."""
    from openpyxl import load_workbook
    from openpyxl.chart import BarChart, Reference

    q1_months = ("Apr-13", "May-13", "Jun-13")
    write_quarter(
        tmp_path,
        "tvp_domestic_abuse_2013-14_Q1.xlsx",
        crimes=sheet_rows("Domestic abuse crimes", CRIMES, q1_months),
        incidents=sheet_rows("Domestic abuse incidents", INCIDENTS, q1_months),
    )
    charted = write_quarter(tmp_path)
    workbook = load_workbook(charted)
    workbook["Crimes"].title = "Crimes data"
    chart = BarChart()
    chart.add_data(Reference(workbook["Crimes data"], min_col=2, min_row=4, max_row=9))
    workbook.create_chartsheet("Crimes").add_chart(chart)
    workbook.save(charted)

    result = read(tmp_path)

    statuses = {
        line["source_file"]: (line["status"], line["message"])
        for line in result.load_log.to_pylist()
    }
    assert statuses[f"{FOLDER}/{Q2_FILE}"] == (
        "rejected",
        "sheet 'Crimes' is a chart sheet, not a worksheet of rows; expected the table on a "
        "worksheet of that name",
    )
    assert result.accepted.num_rows > 0
