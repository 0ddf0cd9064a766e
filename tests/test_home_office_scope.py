"""Home Office recorded crime by CSP follows the configured scope, as DEFRA fly-tipping does.

The table covers every CSP in England and Wales. By default only the partnership's CSPs are
loaded; with the national scope every CSP of the ONS lookup (the real January 2017 edition
beside the repository; the tests skip where it is absent) is, matched on its ONS name. Expected
codes are read from the lookup with the csv module, not from the pipeline.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from test_home_office_prc import row, write_table

from oscp_pipeline import ingestion, quality, scope, warehouse
from oscp_pipeline.sources import home_office_prc
from oscp_pipeline.sources.base import FileRead, row_accounting_failures

LOOKUP_NAME = "LAD17_CSP17_PFA17_lookup_Jan2017.csv"
TABLE = "prc-csp-open-data-table-2013-14-to-2013-14.csv"
QUARTER = dt.date(2013, 7, 1)

ROWS = [
    row("South Oxfordshire", "28C", "3"),
    row("Vale of White Horse", "28C", "2"),
    row("Oxford", "45", "120"),
    row("Cherwell", "45", "10"),
    row("West Oxfordshire", "45", "6"),
    row("Reading", "45", "80"),
    row("Reading", "28C", "4"),
    row("  north   YORKSHIRE ", "45", "50"),  # a CSP of seven districts, spelt loosely
    row("Bristol", "45", "90"),  # ONS: 'Bristol, City of'
    row("Atlantis", "45", "1"),  # no CSP of the lookup
    row("Brighton & Hove", "45", "30"),  # ONS: 'Brighton and Hove'
    row("St Helens", "45", "20"),  # ONS: 'St. Helens'
    row("Stockton on Tees", "45", "10"),  # ONS: 'Stockton-on-Tees'
]


@pytest.fixture
def lookup(real_dir: Path) -> dict[str, tuple[str, list[str]]]:
    """ONS CSP name -> (CSP code, its district codes), read with the csv module."""
    path = real_dir / LOOKUP_NAME
    if not path.is_file():
        pytest.skip(f"the ONS area lookup is not available at {path}")
    csps: dict[str, tuple[str, list[str]]] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line in csv.DictReader(handle):
            _, districts = csps.setdefault(line["CSP17NM"], (line["CSP17CD"], []))
            districts.append(line["LAD17CD"])
    return csps


@pytest.fixture
def national(monkeypatch: pytest.MonkeyPatch, real_dir: Path, lookup: dict) -> None:
    monkeypatch.setenv(scope.SCOPE_VARIABLE, "national")
    monkeypatch.setenv(scope.LOOKUP_VARIABLE, str(real_dir / LOOKUP_NAME))


def read(raw: Path) -> FileRead:
    result = home_office_prc.read_all(raw)
    assert row_accounting_failures(result) == []
    return result


def staged_table(tmp_path: Path) -> Path:
    """The warehouse folder, with the table of ``ROWS`` read, audited and staged in it."""
    write_table(tmp_path / "raw", TABLE, ROWS)
    store = tmp_path / "warehouse"
    batch = ingestion.stage_batch(
        store / "staging",
        store / "quarantine",
        home_office_prc.SOURCE_ID,
        quality.audit(home_office_prc.build_contract(), "all", read(tmp_path / "raw")),
        "run-1",
        dt.datetime(2026, 1, 1),
    )
    assert batch.passed
    return store


def loaded(result: FileRead) -> dict[int, tuple[str, str, str | None]]:
    """Row number -> (area_code, ons_csp_code, district_code) of each loaded row."""
    return {
        r["row_number"]: (r["area_code"], r["ons_csp_code"], r["district_code"])
        for r in result.accepted.to_pylist()
    }


def reasons(result: FileRead) -> dict[int, tuple[str, str]]:
    return {r["row_number"]: (r["reason_code"], r["reason"]) for r in result.set_aside.to_pylist()}


def test_the_national_scope_loads_every_csp_of_the_lookup_by_its_ons_name(
    tmp_path: Path, national: None, lookup: dict[str, tuple[str, list[str]]]
) -> None:
    write_table(tmp_path, TABLE, ROWS)

    result = read(tmp_path)

    reading, (reading_district,) = lookup["Reading"]
    north_yorkshire, north_yorkshire_districts = lookup["North Yorkshire"]
    bristol, (bristol_district,) = lookup["Bristol, City of"]
    stockton = lookup["Stockton-on-Tees"][0]
    assert len(north_yorkshire_districts) == 7
    assert loaded(result) == {
        2: ("OSCP-SOUTHVALE", "E22000312", "E07000179"),
        3: ("OSCP-SOUTHVALE", "E22000313", "E07000180"),
        4: ("E22000308", "E22000308", "E07000178"),
        5: ("E22000305", "E22000305", "E07000177"),
        6: ("E22000315", "E22000315", "E07000181"),
        7: (reading, reading, reading_district),
        8: (reading, reading, reading_district),
        9: (north_yorkshire, north_yorkshire, None),  # several districts: none named
        10: (bristol, bristol, bristol_district),
        12: (
            lookup["Brighton and Hove"][0],
            lookup["Brighton and Hove"][0],
            *lookup["Brighton and Hove"][1],
        ),
        13: (lookup["St. Helens"][0], lookup["St. Helens"][0], *lookup["St. Helens"][1]),
        14: (stockton, stockton, *lookup["Stockton-on-Tees"][1]),
    }
    assert result.warnings == [
        "home_office_prc: CSP 'Atlantis' is not one of the CSPs of England and Wales in the area "
        "lookup: its 1 row(s) are set aside as outside_area, so no CSP has them; check the name "
        "against the lookup's CSP names (OSCP_AREA_LOOKUP), or use a lookup edition that has the "
        "CSP"
    ]
    assert reasons(result) == {
        11: (
            "outside_area",
            "CSP 'Atlantis' is not one of the CSPs of England and Wales in the area lookup",
        )
    }
    assert quality.audit(home_office_prc.build_contract(), "all", result).passed


def test_the_default_scope_still_loads_only_the_partnership_csps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(scope.SCOPE_VARIABLE, raising=False)
    write_table(tmp_path, TABLE, ROWS)

    result = read(tmp_path)

    assert sorted(loaded(result)) == [2, 3, 4, 5, 6]
    aside = reasons(result)
    assert sorted(aside) == [7, 8, 9, 10, 11, 12, 13, 14]
    assert aside[7] == ("outside_area", "CSP 'Reading' is not one of the Oxfordshire CSPs")
    assert result.warnings == []  # other CSPs are expected outside the partnership


def test_a_national_warehouse_reports_every_csp_and_marks_those_not_supplied(
    tmp_path: Path, national: None, lookup: dict[str, tuple[str, list[str]]]
) -> None:
    store = staged_table(tmp_path)

    built = warehouse.build(store / "staging", store, "run-2")

    assert [r.name for r in built.invariants if r.blocking and not r.passed] == []
    connection = duckdb.connect(str(built.candidate), read_only=True)
    try:
        figures = {
            area: (value, status)
            for area, value, status in connection.sql(
                "SELECT area_code, value, value_status FROM observations "
                "WHERE measure_id = 'home_office_prc.all_recorded_crime' AND period_start = ?",
                params=[QUARTER],
            ).fetchall()
        }
        csp_count = connection.sql("SELECT count(*) FROM dim_area WHERE area_type = 'csp'")
        csps_in_scope = csp_count.fetchall()[0][0]
    finally:
        connection.close()
    # The lookup's 314 CSPs, with South Oxfordshire's and Vale's replaced by South and Vale.
    assert csps_in_scope == len(lookup) - 1 == 313
    assert len(figures) == csps_in_scope
    assert figures["OSCP-SOUTHVALE"] == (5.0, "reported")
    assert figures[lookup["Reading"][0]] == (84.0, "reported")
    assert figures[lookup["North Yorkshire"][0]] == (50.0, "reported")
    assert figures[lookup["Bristol, City of"][0]] == (90.0, "reported")
    not_supplied = {area for area, (_, status) in figures.items() if status == "not_available"}
    assert len(not_supplied) == csps_in_scope - 10
    assert figures[lookup["Wycombe"][0]] == (None, "not_available")


def test_staging_written_without_a_column_stops_the_build_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staging from before ons_csp_code existed would be read as blanks, every CSP then 'not
    supplied': the build stops instead, and the published warehouse is left as it was."""
    monkeypatch.delenv(scope.SCOPE_VARIABLE, raising=False)
    store = staged_table(tmp_path)
    (staged,) = (store / "staging" / home_office_prc.SOURCE_ID).glob("*/accepted.parquet")
    pq.write_table(pq.read_table(staged).drop_columns(["ons_csp_code"]), staged)

    with pytest.raises(warehouse.OutdatedStaging) as stopped:
        warehouse.build(store / "staging", store, "run-2")

    assert str(stopped.value) == (
        f"{staged} was staged by an earlier version of the pipeline and has no column "
        "ons_csp_code: run the refresh (oscp run, or the quarterly_refresh job) so that its "
        "source is staged again; nothing was published"
    )
    assert not warehouse.published_path(store).exists()
