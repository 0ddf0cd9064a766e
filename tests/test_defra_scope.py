"""DEFRA fly-tipping follows the configured scope: national open data published per district.

Uses the real DEFRA table (2012-13 to 2021-22) and the real ONS 2017 area lookup beside the
repository; the tests skip where they are absent. Expected counts are taken from the published
CSV with the csv module, not from the reader.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pytest
from conftest import REAL_DEFRA_CSV

from oscp_pipeline import ingestion, quality, scope, warehouse
from oscp_pipeline.sources import defra_flytipping
from oscp_pipeline.sources.base import FileRead, row_accounting_failures

LOOKUP_NAME = "LAD17_CSP17_PFA17_lookup_Jan2017.csv"
OXFORDSHIRE_CODES = {"E07000177", "E07000178", "E07000179", "E07000180", "E07000181"}


@pytest.fixture
def defra_raw(real_dir: Path, tmp_path: Path) -> Path:
    """A raw folder holding the real DEFRA table only."""
    if not REAL_DEFRA_CSV.is_file():
        pytest.skip(f"the real DEFRA table is not available at {REAL_DEFRA_CSV}")
    folder = tmp_path / "raw" / defra_flytipping.SOURCE_ID
    folder.mkdir(parents=True)
    (folder / REAL_DEFRA_CSV.name).symlink_to(REAL_DEFRA_CSV)
    return tmp_path / "raw"


@pytest.fixture
def lookup_codes(real_dir: Path) -> set[str]:
    """The district codes of the 2017 ONS lookup, read with the csv module."""
    lookup = real_dir / LOOKUP_NAME
    if not lookup.is_file():
        pytest.skip(f"the ONS area lookup is not available at {lookup}")
    with lookup.open(encoding="utf-8-sig", newline="") as handle:
        return {row["LAD17CD"].strip() for row in csv.DictReader(handle)}


@pytest.fixture
def national(monkeypatch: pytest.MonkeyPatch, real_dir: Path, lookup_codes: set[str]) -> None:
    monkeypatch.setenv(scope.SCOPE_VARIABLE, "national")
    monkeypatch.setenv(scope.LOOKUP_VARIABLE, str(real_dir / LOOKUP_NAME))


def published_rows() -> list[tuple[int, str, str]]:
    """(row number with the header as 1, ONS code, LA name) of every authority row, without
    the aggregate '*' rows."""
    with REAL_DEFRA_CSV.open(encoding="utf-8-sig", newline="") as handle:
        rows = [
            (number, row["ONS Code"].strip(), row["LA Name"].strip())
            for number, row in enumerate(csv.DictReader(handle), start=2)
        ]
    return [row for row in rows if not (row[1].startswith("*") or row[2].startswith("*"))]


def read(raw: Path) -> FileRead:
    result = defra_flytipping.read_all(raw)
    assert row_accounting_failures(result) == []
    return result


def outside_area(result: FileRead) -> dict[int, str]:
    return {
        row["row_number"]: row["reason"]
        for row in result.set_aside.to_pylist()
        if row["reason_code"] == "outside_area"
    }


def test_the_national_scope_loads_every_authority_in_the_lookup(
    defra_raw: Path, national: None, lookup_codes: set[str]
) -> None:
    rows = published_rows()
    in_lookup = [row for row in rows if row[1] in lookup_codes]
    not_in_lookup = [row for row in rows if row[1] not in lookup_codes]
    assert (len(in_lookup), len(not_in_lookup)) == (3203, 19)

    result = read(defra_raw)

    assert result.load_log["rows_loaded"].to_pylist() == [len(in_lookup)]
    assert set(result.accepted["row_number"].to_pylist()) == {row[0] for row in in_lookup}
    assert set(result.accepted["area_code"].to_pylist()) == {row[1] for row in in_lookup}
    assert outside_area(result) == {
        number: f"ONS code '{code}' ({name}) is not one of the districts of England and Wales "
        "in the area lookup"
        for number, code, name in not_in_lookup
    }
    dorset = {number for number, code, _ in not_in_lookup if code == "E06000059"}
    assert len(dorset) == 3  # 2019-20 to 2021-22, after Dorset's districts were merged
    verdict = quality.audit(defra_flytipping.build_contract(), "all", result)
    assert verdict.passed


def test_the_default_scope_still_loads_only_oxfordshire(
    defra_raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(scope.SCOPE_VARIABLE, raising=False)
    rows = published_rows()
    oxfordshire = [row for row in rows if row[1] in OXFORDSHIRE_CODES]
    others = [row for row in rows if row[1] not in OXFORDSHIRE_CODES]
    assert len(oxfordshire) == 50  # ten financial years for five districts

    result = read(defra_raw)

    assert result.load_log["rows_loaded"].to_pylist() == [50]
    assert set(result.accepted["row_number"].to_pylist()) == {row[0] for row in oxfordshire}
    assert outside_area(result) == {
        number: f"ONS code '{code}' ({name}) is not one of the Oxfordshire districts"
        for number, code, name in others
    }


def test_a_national_warehouse_holds_defra_figures_for_every_district_in_the_lookup(
    defra_raw: Path, national: None, lookup_codes: set[str], tmp_path: Path
) -> None:
    store = tmp_path / "warehouse"
    batch = ingestion.stage_batch(
        store / "staging",
        store / "quarantine",
        defra_flytipping.SOURCE_ID,
        quality.audit(defra_flytipping.build_contract(), "all", read(defra_raw)),
        "run-1",
        dt.datetime(2026, 1, 1),
    )
    assert batch.passed

    built = warehouse.build(store / "staging", store, "run-2")

    assert [r.name for r in built.invariants if r.blocking and not r.passed] == []
    expected = sorted({code for _, code, _ in published_rows() if code in lookup_codes})
    assert len(expected) == 326
    connection = duckdb.connect(str(built.candidate), read_only=True)
    try:
        areas = connection.sql(
            "SELECT DISTINCT o.area_code FROM observations AS o "
            "JOIN dim_area AS a USING (area_code) "
            "WHERE o.source_id = 'defra_flytipping' AND a.area_type = 'district' ORDER BY 1"
        ).fetchall()
    finally:
        connection.close()
    assert [code for (code,) in areas] == expected
