"""Section 27 directions to leave: quarterly files, a header-only delivery after the repeal, and
months after the repeal published as not applicable, never as zero."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from pathlib import Path

import dagster as dg
from conftest import SAMPLE_RAW_DIR
from test_refresh import query, refresh

from oscp_pipeline.sources import tvp_s27_directions
from oscp_pipeline.sources.base import WITHHELD_ROW_RECORD, FileRead, row_accounting_failures

HEADER = ["Date Issued", "District", "Age Band", "Gender"]
OXFORD, CHERWELL, WEST = "E07000178", "E07000177", "E07000181"
DISTRICTS = ["E07000177", "E07000178", "E07000179", "E07000180", "E07000181"]


def csv_text(rows: list[list[str]], header: list[str] = HEADER) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_file(raw: Path, label: str, text: str, encoding: str = "utf-8") -> Path:
    folder = raw / "tvp_s27_directions"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"tvp_s27_directions_{label}.csv"
    path.write_bytes(text.encode(encoding))
    return path


def loaded(result: FileRead) -> list[tuple[object, ...]]:
    columns = ["date_issued", "month", "area_code", "age_band", "gender", "row_number"]
    return [tuple(row.values()) for row in result.accepted.select(columns).to_pylist()]


def test_the_sample_quarters_are_read_with_an_empty_file_after_the_repeal() -> None:
    result = tvp_s27_directions.read_all(SAMPLE_RAW_DIR)
    log = result.load_log.to_pylist()
    assert len(log) == 16
    assert {line["status"] for line in log} == {"loaded"}
    # An independent count of the data rows with the csv module.
    folder = SAMPLE_RAW_DIR / "tvp_s27_directions"
    counted = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            counted[f"tvp_s27_directions/{path.name}"] = sum(1 for _ in csv.DictReader(handle))
    assert {line["source_file"]: line["rows_read"] for line in log} == counted
    assert sum(counted.values()) == 1502
    assert result.accepted.num_rows == 1501
    assert row_accounting_failures(result) == []
    (aside,) = result.set_aside.to_pylist()
    assert (aside["source_file"], aside["row_number"], aside["reason"]) == (
        "tvp_s27_directions/tvp_s27_directions_2012-13_Q2.csv",
        101,
        "column 'Age Band': '17' is not one of Under 18, 18-24, 25-34, 35-44, 45+, Unknown",
    )
    last = log[-1]
    assert (last["source_file"], last["period_start"], last["period_end"], last["rows_read"]) == (
        "tvp_s27_directions/tvp_s27_directions_2014-15_Q4.csv",
        dt.date(2015, 1, 1),
        dt.date(2015, 3, 31),
        0,
    )
    assert [line["encoding"] for line in log[4:8]] == ["utf-8-sig"] * 4  # Excel's 2012-13 files
    dates = result.accepted["date_issued"].to_pylist()
    assert (min(dates), max(dates)) == (dt.date(2011, 4, 2), dt.date(2014, 10, 18))
    by_month = Counter(result.accepted["month"].to_pylist())
    assert len(by_month) == 43  # April 2011 to October 2014
    assert max(by_month, key=by_month.__getitem__).month in {6, 7, 8, 12}
    assert (by_month[dt.date(2013, 12, 1)], by_month[dt.date(2014, 10, 1)]) == (50, 11)
    by_district = Counter(result.accepted["area_code"].to_pylist())
    assert by_district.most_common(1) == [(OXFORD, 824)]


def test_rows_breaking_a_rule_are_set_aside_naming_column_value_and_expectation(
    tmp_path: Path,
) -> None:
    rows = [
        ["20/10/2014", "Oxford", "18-24", "Male"],
        ["21/10/2014", "Oxford", "18-24", "Male"],
        ["03/11/2014", "Cherwell", "25-34", "Female"],
        ["2014-10-05", "Oxford", "18-24", "Male"],
        ["31/09/2014", "Oxford", "18-24", "Male"],
        ["30/09/2014", "Oxford", "18-24", "Male"],
        ["05/10/2014", "Wycombe", "18-24", "Male"],
        ["05/10/2014", "South and Vale", "18-24", "Male"],
        ["05/10/2014", "Oxford", "17", "Male"],
        ["05/10/2014", "Oxford", "18-24", "M"],
        [" 06/10/2014 ", "oxford city", "45 +", "female"],
        ["06/10/2014", "West Oxon", "under 18", "UNKNOWN"],
        ["06/10/2014", "West Oxon", "under 18", "UNKNOWN"],
    ]
    text = csv_text(rows) + "07/10/2014,Oxford,18-24\r\n"
    write_file(tmp_path, "2014-15_Q3", text)
    result = tvp_s27_directions.read_all(tmp_path)
    assert loaded(result) == [
        (dt.date(2014, 10, 20), dt.date(2014, 10, 1), OXFORD, "18-24", "Male", 2),
        (dt.date(2014, 10, 6), dt.date(2014, 10, 1), WEST, "Under 18", "Unknown", 13),
        (dt.date(2014, 10, 6), dt.date(2014, 10, 1), WEST, "Under 18", "Unknown", 14),
    ]
    aside = result.set_aside.select(["row_number", "reason_code", "reason"]).to_pylist()
    repeal = "was repealed (Anti-social Behaviour, Crime and Policing Act 2014)"
    assert [(a["row_number"], a["reason_code"], a["reason"]) for a in aside] == [
        (3, "after_repeal", "column 'Date Issued': 2014-10-21 is after 20 October 2014, when "
         f"section 27 of the Violent Crime Reduction Act 2006 {repeal}"),
        (4, "after_repeal", "column 'Date Issued': 2014-11-03 is after 20 October 2014, when "
         f"section 27 of the Violent Crime Reduction Act 2006 {repeal}"),
        (5, "invalid_date",
         "column 'Date Issued': '2014-10-05' is not a date in the declared format(s) %d/%m/%Y"),
        (6, "invalid_date",
         "column 'Date Issued': '31/09/2014' is not a date in the declared format(s) %d/%m/%Y"),
        (7, "date_outside_period",
         "column 'Date Issued': 2014-09-30 is outside the quarter the file covers "
         "(2014-15 Q3, 2014-10-01 to 2014-12-31)"),
        (8, "unknown_district",
         "column 'District': 'Wycombe' is not one of the five Oxfordshire districts (a new "
         "spelling is added to area_aliases.csv)"),
        (9, "unknown_district",
         "column 'District': 'South and Vale' is not one of the five Oxfordshire districts (a "
         "new spelling is added to area_aliases.csv)"),
        (10, "unknown_age_band",
         "column 'Age Band': '17' is not one of Under 18, 18-24, 25-34, 35-44, 45+, Unknown"),
        (11, "unknown_gender", "column 'Gender': 'M' is not one of Male, Female, Unknown"),
        (12, "unknown_age_band",
         "column 'Age Band': '45 +' is not one of Under 18, 18-24, 25-34, 35-44, 45+, Unknown"),
        (15, "malformed_row", "row has 3 fields; the header has 4"),
    ]  # fmt: skip
    assert result.set_aside["record"].to_pylist()[0] == (
        '{"Date Issued": "21/10/2014", "District": "Oxford", "Age Band": "18-24", "Gender": "Male"}'
    )
    assert result.set_aside["record"].to_pylist()[-1] == WITHHELD_ROW_RECORD
    assert row_accounting_failures(result) == []


def test_a_header_only_file_is_a_valid_empty_delivery_and_a_misnamed_file_is_rejected(
    tmp_path: Path,
) -> None:
    write_file(tmp_path, "2014-15_Q4", csv_text([]))
    write_file(tmp_path, "2015-16_Q1", csv_text([]) + "\r\n\r\n")
    (tmp_path / "tvp_s27_directions" / "s27 Oct 2014.csv").write_text(csv_text([]))
    write_file(tmp_path, "2014-15_Q2", "Date Issued,District,Gender\r\n01/07/2014,Oxford,Male\r\n")
    result = tvp_s27_directions.read_all(tmp_path)
    log = {line["source_file"].rsplit("/", 1)[1]: line for line in result.load_log.to_pylist()}
    assert [(n, line["status"], line["rows_read"]) for n, line in log.items()] == [
        ("s27 Oct 2014.csv", "rejected", 0),
        ("tvp_s27_directions_2014-15_Q2.csv", "rejected", 0),
        ("tvp_s27_directions_2014-15_Q4.csv", "loaded", 0),
        ("tvp_s27_directions_2015-16_Q1.csv", "loaded", 0),
    ]
    empty = log["tvp_s27_directions_2014-15_Q4.csv"]
    assert (empty["period_start"], empty["period_end"]) == (dt.date(2015, 1, 1),
                                                            dt.date(2015, 3, 31))  # fmt: skip
    assert log["s27 Oct 2014.csv"]["message"] == (
        "the file name does not give the quarter it covers; expected "
        "tvp_s27_directions_YYYY-YY_QN.csv (e.g. tvp_s27_directions_2013-14_Q2.csv)"
    )
    assert log["tvp_s27_directions_2014-15_Q2.csv"]["message"] == (
        "required column(s) 'Age Band' not found; the first row has 3 cell(s), of which 3 are "
        "known headers ('Date Issued', 'District', 'Gender')"
    )


def test_reordered_case_spacing_bom_and_windows_1252_leave_the_loaded_rows_unchanged(
    tmp_path: Path,
) -> None:
    rows = [
        ["04/07/2013", "Oxford", "18-24", "Male"],
        ["27/07/2013", "Cherwell", "Under 18", "Female"],
        ["31/08/2013", "Vale", "45+", "Unknown"],
    ]
    baseline = csv_text(rows)
    order = [3, 1, 0, 2]
    reordered = csv_text(
        [[row[i] for i in order] for row in rows],
        header=[f" {HEADER[i].lower()}  " for i in order],
    )
    extra = csv_text([[*row, "Café Nero, Cornmarket"] for row in rows], [*HEADER, "Location"])
    variants = {
        "baseline": (baseline, "utf-8"),
        "reordered": (reordered, "utf-8"),
        "bom": ("\ufeff" + baseline, "utf-8"),
        "cp1252": (extra, "cp1252"),
    }
    results = {}
    for name, (text, encoding) in variants.items():
        write_file(tmp_path / name, "2013-14_Q2", text, encoding)
        results[name] = tvp_s27_directions.read_all(tmp_path / name)
    expected = loaded(results["baseline"])
    assert [row[2] for row in expected] == [OXFORD, CHERWELL, "E07000180"]
    for name, result in results.items():
        assert loaded(result) == expected, name
    assert [r.load_log["encoding"].to_pylist()[0] for r in results.values()] == [
        "utf-8", "utf-8", "utf-8-sig", "cp1252",
    ]  # fmt: skip
    assert results["cp1252"].warnings == [
        "tvp_s27_directions/tvp_s27_directions_2013-14_Q2.csv: ignored 1 unknown column(s): "
        "column 5"
    ]


def test_refresh_counts_directions_and_marks_months_after_the_repeal_not_applicable(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    q2 = [
        ["05/07/2014", "Oxford", "18-24", "Male"],
        ["05/07/2014", "Oxford", "18-24", "Male"],
        ["23/08/2014", "Cherwell", "25-34", "Female"],
    ]
    q3 = [
        ["18/10/2014", "Oxford", "Under 18", "Male"],
        ["25/10/2014", "Oxford", "18-24", "Male"],
    ]
    write_file(raw, "2014-15_Q2", csv_text(q2))
    write_file(raw, "2014-15_Q3", csv_text(q3))
    write_file(raw, "2014-15_Q4", csv_text([]))
    result = refresh(raw, wh, instance)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())

    assert query(wh, "SELECT * FROM tvp_s27_directions") == [
        (dt.date(2014, 7, 5), dt.date(2014, 7, 1), OXFORD, "18-24", "Male",
         "tvp_s27_directions/tvp_s27_directions_2014-15_Q2.csv", 2),
        (dt.date(2014, 7, 5), dt.date(2014, 7, 1), OXFORD, "18-24", "Male",
         "tvp_s27_directions/tvp_s27_directions_2014-15_Q2.csv", 3),
        (dt.date(2014, 8, 23), dt.date(2014, 8, 1), CHERWELL, "25-34", "Female",
         "tvp_s27_directions/tvp_s27_directions_2014-15_Q2.csv", 4),
        (dt.date(2014, 10, 18), dt.date(2014, 10, 1), OXFORD, "Under 18", "Male",
         "tvp_s27_directions/tvp_s27_directions_2014-15_Q3.csv", 2),
    ]  # fmt: skip
    assert query(wh, "SELECT source_file, row_number, reason_code FROM set_aside") == [
        ("tvp_s27_directions/tvp_s27_directions_2014-15_Q3.csv", 3, "after_repeal")
    ]
    by_month = query(
        wh,
        """SELECT period_start, value_status, count(*), count(DISTINCT area_code), sum(value),
                  count(value)
           FROM observations WHERE measure_id = 'tvp_s27_directions.directions'
           GROUP BY 1, 2 ORDER BY 1""",
    )
    assert by_month == [
        (dt.date(2014, 7, 1), "reported", 5, 5, 2.0, 5),
        (dt.date(2014, 8, 1), "reported", 5, 5, 1.0, 5),
        (dt.date(2014, 9, 1), "reported", 5, 5, 0.0, 5),
        (dt.date(2014, 10, 1), "reported", 5, 5, 1.0, 5),
        *((dt.date(y, m, 1), "not_applicable", 5, 5, None, 0)
          for y, m in ((2014, 11), (2014, 12), (2015, 1), (2015, 2), (2015, 3))),
    ]  # fmt: skip
    assert query(
        wh,
        "SELECT area_code FROM observations WHERE period_start = DATE '2014-12-01' ORDER BY 1",
    ) == [(code,) for code in DISTRICTS]
    assert query(
        wh,
        "SELECT break_date FROM series_break WHERE measure_id = 'tvp_s27_directions.directions'",
    ) == [(dt.date(2014, 10, 21),)]
    assert query(
        wh, "SELECT unit, period_grain FROM dim_measure WHERE source_id = 'tvp_s27_directions'"
    ) == [("directions", "month")]


def test_a_file_whose_every_row_is_unreadable_is_held_back_not_published_as_zero(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    """A re-export with its dates in another format has every row set aside; publishing its
    quarter as 0 directions would be wrong, so the file is quarantined, each row kept with its
    reason, and the quarter's months are not reported. A quarter whose rows are all dated after
    the repeal is still a real 0 for the days the power was in force."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_file(
        raw,
        "2014-15_Q1",
        csv_text(
            [
                ["2014-04-05", "Oxford", "18-24", "Male"],
                ["2014-05-23", "Cherwell", "25-34", "Female"],
            ]
        ),
    )
    write_file(raw, "2014-15_Q2", csv_text([["05/07/2014", "Oxford", "18-24", "Male"]]))
    write_file(raw, "2014-15_Q3", csv_text([["25/10/2014", "Oxford", "18-24", "Male"]]))

    read = tvp_s27_directions.read_all(raw)
    log = {line["source_file"].rsplit("_", 1)[1]: line for line in read.load_log.to_pylist()}
    held = log["Q1.csv"]
    assert (held["status"], held["rows_read"], held["rows_loaded"], held["rows_set_aside"]) == (
        "quarantined",
        2,
        0,
        2,
    )
    assert held["message"] == (
        "every row of the file was set aside (2 invalid_date), so no direction is loaded for "
        "2014-15 Q1, when the power was in force: held back, so the quarter shows as not "
        "available rather than 0; see set_aside for each row's reason"
    )
    assert [line["status"] for line in (log["Q2.csv"], log["Q3.csv"])] == ["loaded", "loaded"]
    assert row_accounting_failures(read, "one") == []

    result = refresh(raw, wh, instance)
    assert result.success
    assert query(
        wh, "SELECT row_number, reason_code FROM set_aside WHERE source_file LIKE '%Q1.csv'"
    ) == [(2, "invalid_date"), (3, "invalid_date")]
    assert query(
        wh,
        """SELECT period_start, value_status, sum(value) FROM observations
           WHERE measure_id = 'tvp_s27_directions.directions' AND period_start < '2014-11-01'
           GROUP BY ALL ORDER BY 1""",
    ) == [
        (dt.date(2014, 7, 1), "reported", 1.0),
        (dt.date(2014, 8, 1), "reported", 0.0),
        (dt.date(2014, 9, 1), "reported", 0.0),
        (dt.date(2014, 10, 1), "reported", 0.0),
    ]


def test_a_replaced_delivery_with_a_malformed_line_is_not_held_back(tmp_path: Path) -> None:
    """Every row of an earlier delivery is set aside (superseded, or malformed), yet the quarter
    is loaded from the later one, so the earlier file is not held back: it stays logged as read,
    loading nothing (its malformed row keeps it from the plain 'superseded' status)."""
    rows = [["05/07/2014", "Oxford", "18-24", "Male"]]
    write_file(tmp_path, "2014-15_Q2", csv_text(rows) + "06/07/2014,Oxford,18-24,Male,extra\r\n")
    write_file(tmp_path, "2014-15_Q2_v2", csv_text(rows))
    read = tvp_s27_directions.read_all(tmp_path)
    log = {line["source_file"].rsplit("/", 1)[1]: line for line in read.load_log.to_pylist()}
    earlier, later = (
        log["tvp_s27_directions_2014-15_Q2.csv"],
        log["tvp_s27_directions_2014-15_Q2_v2.csv"],
    )
    assert (earlier["status"], earlier["rows_loaded"], earlier["message"]) == ("loaded", 0, "")
    assert (later["status"], later["rows_loaded"]) == ("loaded", 1)
