"""Home Office recorded crime by CSP: South and Vale added together, adjustments flagged."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import dagster as dg
from test_refresh import query, refresh

from oscp_pipeline.sources import home_office_prc
from oscp_pipeline.sources.base import row_accounting_failures

HEADER = [
    "Financial Year", "Financial Quarter", "Force Name", "CSP Name", "Offence Description",
    "Offence Group", "Offence Subgroup", "Offence Code", "Number of Offences",
]  # fmt: skip


def write_table(raw: Path, name: str, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    folder = raw / "home_office_prc"
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path = folder / name
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def row(csp: str, code: str, count: str, year: str = "2013/14", quarter: str = "2") -> list[str]:
    return [
        year,
        quarter,
        "Thames Valley",
        csp,
        f"Offence {code}",
        "Group",
        "Subgroup",
        code,
        count,
    ]


ROWS = [
    row("South Oxfordshire", "28C", "3"),
    row("Vale of White Horse", "28C", "2"),
    row("Vale of White Horse", "28D", "-1"),
    row("Oxford", "45", "120"),
    row("Oxford", "9A", "40"),
    row("Wycombe", "45", "80"),
    row("Cherwell", "45", "lots"),
    row("Cherwell", "45", "7", year="2013/15"),
]


def test_rows_are_assigned_to_oscp_csps_and_bad_rows_set_aside_with_reasons(
    tmp_path: Path,
) -> None:
    write_table(tmp_path, "t.csv", ROWS)
    read = home_office_prc.read_all(tmp_path)
    accepted = read.accepted.to_pylist()
    assert [(r["area_code"], r["offence_code"], r["number_of_offences"]) for r in accepted] == [
        ("OSCP-SOUTHVALE", "28C", 3),
        ("OSCP-SOUTHVALE", "28C", 2),
        ("OSCP-SOUTHVALE", "28D", -1),
        ("E22000308", "45", 120),
        ("E22000308", "9A", 40),
    ]
    assert [r["is_adjustment"] for r in accepted] == [False, False, True, False, False]
    assert read.set_aside.select(["row_number", "reason"]).to_pylist() == [
        {"row_number": 7, "reason": "CSP 'Wycombe' is not one of the Oxfordshire CSPs"},
        {
            "row_number": 8,
            "reason": "column 'Number of Offences': 'lots' is not a whole number",
        },
        {
            "row_number": 9,
            "reason": "column 'Financial Year': '2013/15' is not a year like 2013/14",
        },
    ]
    assert row_accounting_failures(read) == []


def test_the_newer_release_replaces_an_earlier_quarter(tmp_path: Path) -> None:
    write_table(tmp_path, "a_2013-14.csv", [row("Oxford", "45", "120")])
    write_table(
        tmp_path,
        "b_2014-15.csv",
        [row("Oxford", "45", "118"), row("Oxford", "45", "90", year="2014/15", quarter="1")],
    )
    read = home_office_prc.read_all(tmp_path)
    assert [r["number_of_offences"] for r in read.accepted.to_pylist()] == [118, 90]
    (aside,) = read.set_aside.to_pylist()
    assert aside["reason_code"] == "superseded"
    assert "newer release home_office_prc/b_2014-15.csv row 2" in aside["reason"]


def test_header_order_case_and_encoding_do_not_change_what_is_loaded(tmp_path: Path) -> None:
    write_table(tmp_path / "a", "t.csv", ROWS)
    order = list(reversed(range(len(HEADER))))
    path = write_table(
        tmp_path / "b",
        "t.csv",
        [[r[i] for i in order] for r in ROWS],
        [HEADER[i].upper() + " " for i in order],
    )
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    baseline = home_office_prc.read_all(tmp_path / "a").accepted.drop_columns(["source_file"])
    assert (
        home_office_prc.read_all(tmp_path / "b")
        .accepted.drop_columns(["source_file"])
        .equals(baseline)
    )


def test_refresh_adds_south_and_vale_and_flags_adjustments_without_blocking(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_table(raw, "t.csv", ROWS[:6])
    result = refresh(raw, wh, instance)
    assert result.success
    values = query(
        wh,
        """SELECT measure_id, area_code, value FROM observations
           WHERE period_start = DATE '2013-07-01' AND value <> 0 ORDER BY 1, 2""",
    )
    assert values == [
        ("home_office_prc.all_recorded_crime", "E22000308", 160.0),
        ("home_office_prc.all_recorded_crime", "OSCP-SOUTHVALE", 4.0),
        ("home_office_prc.burglary_dwelling", "OSCP-SOUTHVALE", 4.0),
        ("home_office_prc.distraction_burglary", "OSCP-SOUTHVALE", 4.0),
        ("home_office_prc.public_order", "E22000308", 40.0),
        ("home_office_prc.vehicle_offences", "E22000308", 120.0),
    ]
    # Zero-filled: every OSCP CSP and measure has a value for the quarter delivered.
    assert query(wh, "SELECT count(*) FROM observations WHERE source_id = 'home_office_prc'") == [
        (4 * 7,)
    ]
    (warning,) = [
        e for e in result.get_asset_check_evaluations()
        if e.check_name == "home_office_negative_adjustments"
    ]  # fmt: skip
    assert not warning.passed
    assert warning.severity == dg.AssetCheckSeverity.WARN
    assert "'28D'" in str(warning.metadata["sample"].value)


def test_a_newer_release_replaces_an_older_quarter_whole(tmp_path: Path) -> None:
    """The newer release's quarter is complete: an offence it has no row for had no offences,
    so the older release's figure for it is set aside too, not kept beside the newer ones."""
    write_table(tmp_path, "a_2013-14.csv", [row("Oxford", "45", "120"), row("Oxford", "126", "9")])
    write_table(tmp_path, "b_2014-15.csv", [row("Oxford", "45", "118")])
    read = home_office_prc.read_all(tmp_path)
    assert row_accounting_failures(read, "one") == []
    assert [(r["offence_code"], r["number_of_offences"]) for r in read.accepted.to_pylist()] == [
        ("45", 118)
    ]
    assert [
        (r["row_number"], r["reason_code"], r["reason"])
        for r in read.set_aside.to_pylist()
        if r["row_number"] == 3
    ] == [
        (
            3,
            "superseded",
            "Oxford 2013-14 quarter starting 2013-07-01, offence 126: the newer release "
            "home_office_prc/b_2014-15.csv covers the quarter and has no row for the offence "
            "there (no offences), so this figure is not loaded",
        )
    ]


def test_a_csp_missing_from_a_quarter_is_not_available_not_zero(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    """An offence with no crimes has no row, so a group without rows is 0; but a CSP with no
    row at all in a quarter that others have was not supplied (a force's data missing from a
    release), and South and Vale needs both its districts."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    q2 = [
        row(csp, "45", "10")
        for csp in (
            "Cherwell",
            "Oxford",
            "South Oxfordshire",
            "Vale of White Horse",
            "West Oxfordshire",
        )
    ]
    q3 = [row(csp, "45", "10", quarter="3") for csp in ("Cherwell", "Oxford",
                                                         "South Oxfordshire")]  # fmt: skip
    write_table(raw, "prc_2013-14.csv", q2 + q3)
    assert refresh(raw, wh, instance).success
    assert query(
        wh,
        """SELECT period_start, area_code, value, value_status FROM observations
           WHERE measure_id = 'home_office_prc.all_recorded_crime' ORDER BY 1, 2""",
    ) == [
        (dt.date(2013, 7, 1), "E22000305", 10.0, "reported"),
        (dt.date(2013, 7, 1), "E22000308", 10.0, "reported"),
        (dt.date(2013, 7, 1), "E22000315", 10.0, "reported"),
        (dt.date(2013, 7, 1), "OSCP-SOUTHVALE", 20.0, "reported"),
        (dt.date(2013, 10, 1), "E22000305", 10.0, "reported"),
        (dt.date(2013, 10, 1), "E22000308", 10.0, "reported"),
        (dt.date(2013, 10, 1), "E22000315", None, "not_available"),
        (dt.date(2013, 10, 1), "OSCP-SOUTHVALE", None, "not_available"),
    ]


def test_of_two_files_of_one_release_the_later_delivery_wins(tmp_path: Path) -> None:
    """Files naming the same years are told apart by what the name says, as every re-delivery
    is: '_v10' is later than '_v9', though it sorts first."""
    write_table(tmp_path, "prc_2013-14_v9.csv", [row("Oxford", "45", "120")])
    write_table(tmp_path, "prc_2013-14_v10.csv", [row("Oxford", "45", "118")])
    read = home_office_prc.read_all(tmp_path)
    assert [(r["source_file"], r["number_of_offences"]) for r in read.accepted.to_pylist()] == [
        ("home_office_prc/prc_2013-14_v10.csv", 118)
    ]
    assert [r["reason_code"] for r in read.set_aside.to_pylist()] == ["superseded"]
