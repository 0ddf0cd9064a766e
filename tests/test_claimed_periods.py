"""A row for a period its file does not cover, and a delivery with no rows, change nothing else.

A release's file name says which years (or which quarter) it covers: a row outside them is set
aside with its reason, so one mistyped year cannot make an old release the newest, nor replace
another quarter's own figure. A quarter's export with a header and no rows is held back, so the
quarter shows as not available, never as 0. Each case also checks that the other deliveries load
exactly as they do without the damage.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import pytest
from conftest import SAMPLE_RAW_DIR
from openpyxl import load_workbook
from test_refresh import query, refresh

from oscp_pipeline import periods
from oscp_pipeline.quality import AuditedBatch, audit
from oscp_pipeline.sources import SOURCES
from oscp_pipeline.sources.base import FileRead, row_accounting_failures

SPECS = {spec.source_id: spec for spec in SOURCES}

DEFRA_OLD = "defra_flytipping/flytipping_LA_incidents_2011-12_to_2013-14.xlsx"
DEFRA_NEW = "defra_flytipping/flytipping_LA_incidents_2012-13_to_2014-15.csv"
PRC = "home_office_prc/prc-csp-open-data-table-2011-12-to-2014-15.csv"
PRC_NEWER = "home_office_prc/prc-csp-open-data-table-2014-15-to-2015-16.csv"
RETURNS_Q2 = "district_flytipping_returns/flytipping_returns_2013-14_Q2.csv"
RETURNS_Q3 = "district_flytipping_returns/flytipping_returns_2013-14_Q3.csv"
HATE_Q1 = "stop_hate_uk/stop_hate_uk_2013-14_Q1.csv"
HATE_Q2_CSV = "stop_hate_uk/stop_hate_uk_2013-14_Q2.csv"
HATE_Q2_JSON = "stop_hate_uk/stop_hate_uk_2013-14_Q2.json"
HATE_Q3 = "stop_hate_uk/stop_hate_uk_2013-14_Q3.json"
S27_Q1 = "tvp_s27_directions/tvp_s27_directions_2013-14_Q1.csv"
S27_Q2 = "tvp_s27_directions/tvp_s27_directions_2013-14_Q2.csv"
S27_Q3 = "tvp_s27_directions/tvp_s27_directions_2013-14_Q3.csv"
S27_AFTER_REPEAL = "tvp_s27_directions/tvp_s27_directions_2014-15_Q4.csv"
S27_HEADER = "Date Issued,District,Age Band,Gender\r\n"
CHERWELL, OXFORD = "E07000177", "E07000178"


def deliver(raw: Path, *relatives: str) -> None:
    """Copy sample files into ``raw``, under the same paths."""
    for relative in relatives:
        (raw / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE_RAW_DIR / relative, raw / relative)


def audited(source_id: str, raw: Path) -> AuditedBatch:
    """The read and audit a refresh runs, with every row read accounted for."""
    spec = SPECS[source_id]
    assert spec.read_all is not None
    batch = audit(spec.build_contract(), "all", spec.read_all(raw))
    assert row_accounting_failures(batch.read) == []
    assert batch.passed, batch.verdict.summary()
    return batch


def rows_of(read: FileRead, source_file: str) -> list[dict[str, object]]:
    rows = [r for r in read.accepted.to_pylist() if r["source_file"] == source_file]
    return sorted(rows, key=lambda row: (row["row_number"], str(row.get("measure"))))


def aside_of(read: FileRead, source_file: str) -> list[tuple[int, str, str]]:
    return sorted(
        (row["row_number"], row["reason_code"], row["reason"])
        for row in read.set_aside.to_pylist()
        if row["source_file"] == source_file
    )


def line_of(read: FileRead, source_file: str) -> dict[str, object]:
    [line] = [line for line in read.load_log.to_pylist() if line["source_file"] == source_file]
    return line


def append_line(path: Path, line: str) -> int:
    """Add a data line at the end of a CSV file; its row number (header = row 1)."""
    text = path.read_text(encoding="utf-8-sig")
    path.write_text(text + line + "\r\n", encoding="utf-8")
    return len(text.splitlines()) + 1


def next_financial_year() -> str:
    return periods.financial_year_label(periods.financial_year_start(dt.date.today()) + 1)


def current_financial_year() -> str:
    return periods.financial_year_label(periods.financial_year_start(dt.date.today()))


# --- years outside a multi-year release --------------------------------------------------------


def test_a_mistyped_year_in_an_old_defra_release_is_set_aside_and_the_newer_release_still_wins(
    tmp_path: Path,
) -> None:
    deliver(tmp_path / "sample", DEFRA_OLD, DEFRA_NEW)
    before = audited("defra_flytipping", tmp_path / "sample")
    raw = tmp_path / "raw"
    deliver(raw, DEFRA_OLD, DEFRA_NEW)
    # The old release's Cherwell 2013-14 row typed as 2031-32 (a year after both releases).
    workbook = load_workbook(raw / DEFRA_OLD)
    sheet = workbook["LA_incidents"]
    [typo_row] = [
        row[0].row
        for row in sheet.iter_rows(min_row=6)
        if (row[0].value, row[1].value) == ("2013-14", CHERWELL)
    ]
    sheet.cell(typo_row, 1, "2031-32")
    workbook.save(raw / DEFRA_OLD)
    # The newer release gains an Oxford row for 2010-11, a year before it starts.
    fields = next(
        line for line in (raw / DEFRA_NEW).read_text(encoding="utf-8-sig").splitlines()
        if line.startswith(f"2014-15,{OXFORD},")
    ).split(",")  # fmt: skip
    early_row = append_line(raw / DEFRA_NEW, ",".join(["2010-11", *fields[1:]]))

    after = audited("defra_flytipping", raw)
    for source_file in (DEFRA_OLD, DEFRA_NEW):
        assert rows_of(after.read, source_file) == rows_of(before.read, source_file)
    old_aside = [a for a in aside_of(before.read, DEFRA_OLD) if a[0] != typo_row]
    assert aside_of(after.read, DEFRA_OLD) == sorted(
        [
            *old_aside,
            (
                typo_row,
                "year_outside_file",
                "column 'Year': '2031-32' is outside 2011-12 to 2013-14, the years the file "
                "name gives",
            ),
        ]
    )
    assert aside_of(after.read, DEFRA_NEW) == [
        *aside_of(before.read, DEFRA_NEW),
        (
            early_row,
            "year_outside_file",
            "column 'Year': '2010-11' is outside 2012-13 to 2014-15, the years the file name gives",
        ),
    ]
    # The newer release's 2013-14 figure for Cherwell stays the one loaded.
    [cherwell] = [
        r
        for r in after.read.accepted.to_pylist()
        if (r["area_code"], r["financial_year"], r["measure"])
        == (CHERWELL, "2013-14", "total_incidents")
    ]
    assert cherwell["source_file"] == DEFRA_NEW
    old_line, new_line = line_of(after.read, DEFRA_OLD), line_of(after.read, DEFRA_NEW)
    assert (old_line["status"], old_line["rows_loaded"], old_line["rows_set_aside"]) == (
        "loaded", 5, 115,
    )  # fmt: skip
    assert (new_line["status"], new_line["rows_read"], new_line["rows_loaded"]) == (
        "loaded", 121, 15,
    )  # fmt: skip
    assert (new_line["period_start"], new_line["period_end"]) == (
        dt.date(2012, 4, 1),
        dt.date(2015, 3, 31),
    )


def test_a_mistyped_year_in_an_old_home_office_release_does_not_override_the_newer_release(
    tmp_path: Path,
) -> None:
    deliver(tmp_path / "sample", PRC)
    before = audited("home_office_prc", tmp_path / "sample")
    raw = tmp_path / "raw"
    deliver(raw, PRC)
    offence = "Thames Valley,Oxford,Theft from a vehicle,Vehicle offences,Vehicle offences,45"
    typo_row = append_line(raw / PRC, f"2031/32,1,{offence},7")
    # The newer release covers 2014-15 Q4 (every row of it, one of them revised) and 2015-16 Q1.
    old_lines = (SAMPLE_RAW_DIR / PRC).read_text(encoding="utf-8").splitlines()
    q4_lines = [line for line in old_lines if line.startswith("2014/15,4,")]
    revised = next(line for line in q4_lines if line.startswith(f"2014/15,4,{offence},"))
    newer_lines = [old_lines[0], *(f"2014/15,4,{offence},210" if line == revised else line
                                   for line in q4_lines), f"2015/16,1,{offence},190"]  # fmt: skip
    newer = raw / PRC_NEWER
    newer.write_text("\r\n".join(newer_lines) + "\r\n", encoding="utf-8")
    q4 = dt.date(2015, 1, 1)

    after = audited("home_office_prc", raw)
    assert rows_of(after.read, PRC) == [
        r for r in rows_of(before.read, PRC) if r["quarter_start"] != q4
    ]
    superseded = [row for row in aside_of(after.read, PRC) if row[1] == "superseded"]
    assert [number for number, _, _ in superseded] == sorted(
        r["row_number"] for r in rows_of(before.read, PRC) if r["quarter_start"] == q4
    )
    revised_row = next(
        r["row_number"]
        for r in rows_of(before.read, PRC)
        if (r["csp_name_published"], r["quarter_start"], r["offence_code"]) == ("Oxford", q4, "45")
    )
    assert (
        revised_row,
        "superseded",
        "Oxford 2014-15 quarter starting 2015-01-01, offence 45, is loaded from the newer "
        f"release {PRC_NEWER} row {q4_lines.index(revised) + 2}",
    ) in superseded
    assert (
        typo_row,
        "year_outside_file",
        "column 'Financial Year': '2031/32' is outside 2011-12 to 2014-15, the years "
        "the file name gives",
    ) in aside_of(after.read, PRC)
    newer_rows = rows_of(after.read, PRC_NEWER)
    assert [(r["quarter_start"], r["number_of_offences"]) for r in newer_rows
            if r["offence_code"] == "45" and r["csp_name_published"] == "Oxford"] == [
        (q4, 210),
        (dt.date(2015, 4, 1), 190),
    ]  # fmt: skip
    assert len(newer_rows) == len(superseded) + 1


@pytest.mark.parametrize(
    ("source_id", "name", "header", "good", "future", "column"),
    [
        (
            "defra_flytipping", "defra_flytipping/table.csv",
            "Year,ONS Code,LA Name,Total Incidents",
            f"2013-14,{CHERWELL},Cherwell,469", f"{{year}},{OXFORD},Oxford,1300", "Year",
        ),
        (
            "home_office_prc", "home_office_prc/open-data-table.csv",
            "Financial Year,Financial Quarter,CSP Name,Offence Description,Offence Code,"
            "Number of Offences",
            "2013/14,1,Oxford,Theft from a vehicle,45,120",
            "{year},1,Oxford,Theft from a vehicle,45,130", "Financial Year",
        ),
    ],
)  # fmt: skip
def test_a_release_named_without_years_sets_aside_a_year_after_the_current_one(
    tmp_path: Path,
    source_id: str,
    name: str,
    header: str,
    good: str,
    future: str,
    column: str,
) -> None:
    year = next_financial_year()
    if source_id == "home_office_prc":
        year = year.replace("-", "/")
    (tmp_path / name).parent.mkdir(parents=True)
    (tmp_path / name).write_text(f"{header}\r\n{good}\r\n{future.format(year=year)}\r\n")
    read = audited(source_id, tmp_path).read
    assert aside_of(read, name) == [
        (
            3,
            "future_period",
            f"column '{column}': '{year}' is after the current financial year "
            f"({current_financial_year()})",
        )
    ]
    assert {r["row_number"] for r in read.accepted.to_pylist()} == {2}
    assert line_of(read, name)["period_start"] == dt.date(2013, 4, 1)


# --- a quarterly return holding another quarter -------------------------------------------------


def test_a_row_for_another_quarter_in_a_return_is_set_aside_and_that_quarter_keeps_its_figure(
    tmp_path: Path,
) -> None:
    for name in ("q2", "q3"):
        deliver(tmp_path / name, RETURNS_Q2 if name == "q2" else RETURNS_Q3)
    q2_alone = audited("district_flytipping_returns", tmp_path / "q2").read
    q3_alone = audited("district_flytipping_returns", tmp_path / "q3").read
    raw = tmp_path / "raw"
    deliver(raw, RETURNS_Q2, RETURNS_Q3)
    stray = append_line(raw / RETURNS_Q2, "Cherwell District Council,2013-14,Q3,Highway,999")

    after = audited("district_flytipping_returns", raw)
    assert aside_of(after.read, RETURNS_Q2) == [
        (
            stray,
            "quarter_outside_file",
            "columns 'Financial Year' and 'Quarter': 2013-14 Q3 is outside 2013-14 Q2, the "
            "quarter the file name gives",
        )
    ]
    assert rows_of(after.read, RETURNS_Q2) == rows_of(q2_alone, RETURNS_Q2)
    assert rows_of(after.read, RETURNS_Q3) == rows_of(q3_alone, RETURNS_Q3)
    assert aside_of(after.read, RETURNS_Q3) == []
    [highway] = [
        r
        for r in after.read.accepted.to_pylist()
        if (r["area_code"], r["quarter_start"], r["land_type"])
        == (CHERWELL, dt.date(2013, 10, 1), "highway")
    ]
    assert (highway["incidents"], highway["source_file"]) == (57, RETURNS_Q3)
    line = line_of(after.read, RETURNS_Q2)
    assert (line["status"], line["period_start"], line["period_end"]) == (
        "loaded",
        dt.date(2013, 7, 1),
        dt.date(2013, 9, 30),
    )
    assert (line["rows_read"], line["rows_set_aside"]) == (
        line_of(q2_alone, RETURNS_Q2)["rows_read"] + 1,
        1,
    )


# --- a quarter delivered with a header and no rows ----------------------------------------------

HATE_EMPTY_MESSAGE = (
    "held back: expected at least 1 row(s) loaded from each file (an export with no loadable "
    "reports is suspect, so its quarter shows as not available, not 0): found 0"
)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (HATE_Q2_CSV, (SAMPLE_RAW_DIR / HATE_Q1).read_text(encoding="utf-8-sig").splitlines()[0]),
        (HATE_Q2_JSON, "[]"),
        (HATE_Q2_JSON, '{"records": []}'),
    ],
)
def test_a_stop_hate_uk_export_with_no_reports_is_quarantined_and_the_other_quarter_loads(
    tmp_path: Path, name: str, content: str
) -> None:
    deliver(tmp_path / "alone", HATE_Q1)
    alone = audited("stop_hate_uk", tmp_path / "alone").read
    raw = tmp_path / "raw"
    deliver(raw, HATE_Q1)
    (raw / name).write_text(content + "\r\n", encoding="utf-8")
    batch = audited("stop_hate_uk", raw)
    line = line_of(batch.read, name)
    assert (line["status"], line["message"]) == ("quarantined", HATE_EMPTY_MESSAGE)
    assert (line["rows_read"], line["rows_loaded"], line["rows_set_aside"]) == (0, 0, 0)
    assert (line["period_start"], line["period_end"]) == (dt.date(2013, 7, 1), dt.date(2013, 9, 30))
    assert rows_of(batch.read, HATE_Q1) == rows_of(alone, HATE_Q1)
    assert line_of(batch.read, HATE_Q1)["status"] == "loaded"


def test_a_section_27_file_with_only_a_header_is_rejected_while_the_power_was_in_force(
    tmp_path: Path,
) -> None:
    deliver(tmp_path / "alone", S27_Q1)
    alone = audited("tvp_s27_directions", tmp_path / "alone").read
    raw = tmp_path / "raw"
    deliver(raw, S27_Q1, S27_AFTER_REPEAL)
    (raw / S27_Q2).write_text(S27_HEADER + "\r\n", encoding="utf-8")
    batch = audited("tvp_s27_directions", raw)
    line = line_of(batch.read, S27_Q2)
    assert (line["status"], line["rows_read"], line["rows_loaded"]) == ("rejected", 0, 0)
    assert (line["period_start"], line["period_end"]) == (dt.date(2013, 7, 1), dt.date(2013, 9, 30))
    assert line["message"] == (
        "the file has a header but no directions for 2013-14 Q2, when the power was in force "
        "(until 20 October 2014): held back, so the quarter shows as not available rather than "
        "0; only a quarter after the repeal is delivered with a header alone"
    )
    assert rows_of(batch.read, S27_Q1) == rows_of(alone, S27_Q1)
    # After the repeal a header alone is the expected delivery: no directions, loaded.
    after_repeal = line_of(batch.read, S27_AFTER_REPEAL)
    assert (after_repeal["status"], after_repeal["rows_read"]) == ("loaded", 0)
    assert batch.read.set_aside.num_rows == 0


def test_a_quarter_delivered_empty_is_not_available_in_the_warehouse_never_zero(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    deliver(raw, HATE_Q1, HATE_Q3, S27_Q1, S27_Q3)
    hate_header = (SAMPLE_RAW_DIR / HATE_Q1).read_text(encoding="utf-8-sig").splitlines()[0]
    (raw / HATE_Q2_CSV).write_text(hate_header + "\r\n", encoding="utf-8")
    (raw / S27_Q2).write_text(S27_HEADER, encoding="utf-8")
    result = refresh(raw, wh, instance)
    assert result.success
    assert query(
        wh,
        """SELECT source_file, status FROM load_log
           WHERE source_id IN ('stop_hate_uk', 'tvp_s27_directions') ORDER BY 1""",
    ) == [
        (HATE_Q1, "loaded"),
        (HATE_Q2_CSV, "quarantined"),
        (HATE_Q3, "loaded"),
        (S27_Q1, "loaded"),
        (S27_Q2, "rejected"),
        (S27_Q3, "loaded"),
    ]
    # No observation for July to September 2013: neither 0 nor a row at all.
    months = [dt.date(2013, month, 1) for month in (4, 5, 6, 10, 11, 12)]
    for source_id in ("stop_hate_uk", "tvp_s27_directions"):
        observed = query(
            wh,
            f"""SELECT DISTINCT period_start FROM observations
                WHERE source_id = '{source_id}' AND value IS NOT NULL ORDER BY 1""",
        )
        assert observed == [(month,) for month in months], source_id
    # The scorecard has no figure for the quarter, and no year to date that counts it as 0.
    assert query(
        wh,
        """SELECT indicator_id, quarter_start, value_ytd IS NULL FROM scorecard
           WHERE area_code = 'E10000025' ORDER BY 1, 2""",
    ) == [
        ("s27_directions", dt.date(2013, 4, 1), False),
        ("s27_directions", dt.date(2013, 10, 1), True),
        ("stop_hate_uk_reports", dt.date(2013, 4, 1), False),
        ("stop_hate_uk_reports", dt.date(2013, 10, 1), True),
    ]
