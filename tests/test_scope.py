"""The area the pipeline reports on is configuration: Oxfordshire by default, or national.

The national scope reads the ONS district-to-CSP-to-police-force lookup (the real January 2017
edition beside the repository), so these tests skip where it is absent.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import openpyxl
import pytest
from conftest import REAL_DIR, SAMPLE_RAW_DIR, street_row, write_street_file
from test_refresh import query, refresh

from oscp_pipeline import scope
from oscp_pipeline.sources import police_uk
from oscp_pipeline.sources.base import row_accounting_failures

LOOKUP = REAL_DIR / "LAD17_CSP17_PFA17_lookup_Jan2017.csv"


@pytest.fixture
def national(monkeypatch: pytest.MonkeyPatch) -> None:
    if not LOOKUP.is_file():
        pytest.skip(f"the ONS area lookup is not available at {LOOKUP} (only in the workspace)")
    monkeypatch.setenv(scope.SCOPE_VARIABLE, "national")
    monkeypatch.setenv(scope.LOOKUP_VARIABLE, str(LOOKUP))


def street_rows() -> list[list[str]]:
    """Rows in Oxfordshire, Buckinghamshire, Cardiff, an unknown area and with no location."""
    return [
        street_row(lsoa_name="Cherwell 001A"),
        street_row(lsoa_name="Aylesbury Vale 012C"),
        street_row(crime_id="c" * 64, lsoa_name="Cardiff 032F", crime_type="Burglary"),
        street_row(lsoa_name="Atlantis 001A"),
        street_row(lsoa_name="Bristol 012C"),  # ONS: 'Bristol, City of'
        street_row(lsoa_name="", lon="", lat="", location="No Location"),
    ]


def read(raw: Path) -> tuple[dict[str, int], dict[str, str]]:
    """(district code -> rows loaded, set-aside reason per row number) for the street files."""
    result = police_uk.read_street_files(police_uk.discover_files(raw), raw)
    assert row_accounting_failures(result) == []
    loaded: dict[str, int] = {}
    for code in result.accepted.column("district_code").to_pylist():
        loaded[code] = loaded.get(code, 0) + 1
    reasons = {row["row_number"]: row["reason"] for row in result.set_aside.to_pylist()}
    return loaded, reasons


def test_the_default_scope_keeps_oxfordshire_rows_and_sets_aside_the_rest(tmp_path: Path) -> None:
    write_street_file(tmp_path, "2014-01", street_rows())
    loaded, reasons = read(tmp_path)
    assert loaded == {"E07000177": 1}
    assert reasons == {
        3: "LSOA 'Aylesbury Vale 012C' is in Aylesbury Vale, outside the Oxfordshire districts",
        4: "LSOA 'Cardiff 032F' is in Cardiff, outside the Oxfordshire districts",
        5: "LSOA 'Atlantis 001A' is in Atlantis, outside the Oxfordshire districts",
        6: "LSOA 'Bristol 012C' is in Bristol, outside the Oxfordshire districts",
        7: "No Location: the LSOA name is blank, so the row cannot be assigned to a district",
    }


def test_the_national_scope_assigns_rows_in_every_district_of_england_and_wales(
    tmp_path: Path, national: None
) -> None:
    write_street_file(tmp_path, "2014-01", street_rows())
    loaded, reasons = read(tmp_path)
    assert loaded == {"E07000177": 1, "E07000004": 1, "W06000015": 1, "E06000023": 1}
    assert reasons == {
        5: "LSOA 'Atlantis 001A' is in Atlantis, outside the districts of England and Wales "
        "in the area lookup",
        7: "No Location: the LSOA name is blank, so the row cannot be assigned to a district",
    }


def test_the_national_scope_holds_every_district_csp_and_force_once(national: None) -> None:
    areas = scope.current_scope().areas.to_pylist()
    by_type: dict[str, int] = {}
    for area in areas:
        by_type[area["area_type"]] = by_type.get(area["area_type"], 0) + 1
    # 348 districts; the lookup's 314 CSPs, of which South Oxfordshire and Vale of White Horse
    # are one CSP (South and Vale) in the partnership: 313; 43 forces.
    assert by_type == {
        "county": 1,
        "csp": 313,
        "district": 348,
        "unallocated": 1,
        "police_force": 43,
    }
    assert len({area["area_code"] for area in areas}) == len(areas)
    vale = next(area for area in areas if area["area_code"] == "E07000180")
    assert vale["csp_code"] == "OSCP-SOUTHVALE"  # the partnership's own rows win
    cardiff = next(area for area in areas if area["area_code"] == "W06000015")
    assert (cardiff["csp_code"], cardiff["police_force_code"]) == ("W14000015", "W15000003")


def test_a_national_scope_without_its_lookup_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(scope.SCOPE_VARIABLE, "national")
    monkeypatch.delenv(scope.LOOKUP_VARIABLE, raising=False)
    with pytest.raises(scope.ScopeError, match="OSCP_SCOPE=national needs OSCP_AREA_LOOKUP"):
        scope.current_scope()
    monkeypatch.setenv(scope.SCOPE_VARIABLE, "wessex")
    with pytest.raises(scope.ScopeError, match="'wessex' is not one of oxfordshire, national"):
        scope.current_scope()


def test_a_national_refresh_publishes_every_district_and_keeps_partner_data_to_oxfordshire(
    tmp_path: Path, national: None, instance: dg.DagsterInstance
) -> None:
    raw = tmp_path / "raw"
    write_street_file(raw, "2014-01", street_rows())
    for folder in ("tvp_hate_crime",):
        (raw / folder).mkdir()
        for path in (SAMPLE_RAW_DIR / folder).glob("*2013-14_Q4*"):
            (raw / folder / path.name).write_bytes(path.read_bytes())
    result = refresh(raw, tmp_path / "warehouse", instance)
    assert result.success
    warehouse = tmp_path / "warehouse"
    assert query(
        warehouse,
        "SELECT count(*) FROM dim_area WHERE area_type = 'district'",
    ) == [(348,)]
    burglary = query(
        warehouse,
        "SELECT area_code, value FROM observations WHERE measure_id = 'police_uk.burglary' "
        "AND value > 0",
    )
    assert burglary == [("W06000015", 1.0)]
    zero_filled = query(
        warehouse,
        "SELECT count(DISTINCT area_code) FROM observations WHERE source_id = 'police_uk'",
    )
    assert zero_filled == [(348,)]
    partner_areas = query(
        warehouse,
        "SELECT DISTINCT area_code FROM observations WHERE source_id = 'tvp_hate_crime' ORDER BY 1",
    )
    assert partner_areas == [
        ("E07000177",),
        ("E07000178",),
        ("E07000179",),
        ("E07000180",),
        ("E07000181",),
        ("OSCP-UNALLOCATED",),  # Oxfordshire, district not known: the county's, in any scope
    ]
    # The scorecard follows the figures: the partnership's own hate crime extract gives totals
    # for the partnership's four CSPs only, not a not-available row for every other CSP.
    csps = query(
        warehouse,
        "SELECT DISTINCT area_code FROM scorecard WHERE area_type = 'csp' ORDER BY 1",
    )
    assert csps == [("E22000305",), ("E22000308",), ("E22000315",), ("OSCP-SOUTHVALE",)]


def test_national_figures_stay_in_the_warehouse_and_out_of_the_partnerships_reports(
    tmp_path: Path, national: None, instance: dg.DagsterInstance
) -> None:
    """A whole quarter of street files: every district and CSP has scorecard rows for analysts,
    but OSCP's report and workbook show the partnership's own areas only."""
    raw = tmp_path / "raw"
    for month in ("2014-01", "2014-02", "2014-03"):
        rows = [street_row(f"{month}-{i}", month, "Cardiff 032F", "Burglary") for i in range(3)]
        write_street_file(raw, month, [*rows, street_row(month=month)])
    assert refresh(raw, tmp_path / "warehouse", instance).success
    warehouse = tmp_path / "warehouse"
    assert query(
        warehouse,
        "SELECT value FROM scorecard WHERE indicator_id = 'burglary' AND area_name = 'Cardiff' "
        "AND fy_quarter = '2013-14 Q4'",
    ) == [(9.0,), (9.0,)]  # the district and its CSP

    report = next((warehouse / "reports").glob("*.html")).read_text(encoding="utf-8")
    workbook = openpyxl.load_workbook(next((warehouse / "reports").glob("*.xlsx")))
    cells = {
        str(cell.value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }
    assert "Cherwell" in report and "Cherwell" in cells
    assert "Cardiff" not in report and "Cardiff" not in cells
