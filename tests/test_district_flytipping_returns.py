"""District quarterly fly-tipping returns: DEFRA's land types, and agreement with DEFRA's year."""

from __future__ import annotations

import codecs
import csv
import io
from collections import defaultdict
from pathlib import Path

import dagster as dg
from conftest import SAMPLE_RAW_DIR
from test_refresh import query, refresh

from oscp_pipeline.sources import defra_flytipping
from oscp_pipeline.sources import district_flytipping_returns as returns
from oscp_pipeline.sources.base import row_accounting_failures

FOLDER = "district_flytipping_returns"
HEADER = ["Council", "Financial Year", "Quarter", "Land Type", "Incidents"]
ROWS = [
    ["Cherwell District Council", "2013-14", "Q2", "Highway", "40"],
    ["Cherwell District Council", "2013-14", "Q2", "Footpath / Bridleway", "6"],
    ["Oxford City Council", "2013-14", "Q2", "back  alleyway", "1,204"],
    ["Vale", "2013-14", "2", "Other (unidentified)", "0"],
    ["Wycombe District Council", "2013-14", "Q2", "Highway", "80"],
    ["Oxford City Council", "2013-14", "Q2", "Tyres", "3"],
    ["Oxford City Council", "2013-14", "Q2", "Highway", "-3"],
    ["Oxford City Council", "2013/14", "Q2", "Highway", "12"],
    ["Oxford City Council", "2013-14", "Q5", "Highway", "12"],
    ["Cherwell District Council", "2013-14", "Q2", "Highway", "41"],
]


def write_return(raw: Path, name: str, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    path = raw / FOLDER / name
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_rows_map_to_defra_land_types_and_bad_rows_are_set_aside_with_reasons(
    tmp_path: Path,
) -> None:
    write_return(tmp_path, "returns_2013-14_Q2.csv", ROWS)
    read = returns.read_all(tmp_path)
    assert [
        (r["area_code"], r["quarter_start"].isoformat(), r["land_type"], r["incidents"])
        for r in read.accepted.to_pylist()
    ] == [
        ("E07000177", "2013-07-01", "highway", 40),
        ("E07000177", "2013-07-01", "footpath_bridleway", 6),
        ("E07000178", "2013-07-01", "back_alleyway", 1204),
        ("E07000180", "2013-07-01", "other_unidentified_land", 0),
    ]
    assert [
        (r["row_number"], r["reason_code"], r["reason"]) for r in read.set_aside.to_pylist()
    ] == [
        (
            6,
            "outside_area",
            "council 'Wycombe District Council' is not one of the five Oxfordshire districts",
        ),
        (
            7,
            "unknown_land_type",
            "land type 'Tyres' in column 'Land Type' is not one of DEFRA's land types",
        ),
        (8, "invalid_count", "column 'Incidents': '-3' is not a whole number of zero or more"),
        (
            9,
            "invalid_period",
            "column 'Financial Year': financial year '2013/14' is not in the form YYYY-YY",
        ),
        (10, "invalid_period", "column 'Quarter': 'Q5' is not Q1, Q2, Q3 or Q4"),
        (
            11,
            "duplicate_row",
            f"Cherwell District Council Highway for 2013-14 Q2 was already loaded from "
            f"{FOLDER}/returns_2013-14_Q2.csv row 2",
        ),
    ]
    (line,) = read.load_log.to_pylist()
    assert (line["period_start"].isoformat(), line["period_end"].isoformat()) == (
        "2013-07-01",
        "2013-09-30",
    )
    assert row_accounting_failures(read) == []


def test_land_types_are_named_as_defras_measures() -> None:
    defra_measures = {name for name, _, _ in defra_flytipping.COUNT_COLUMNS}
    assert {f"{land_type}_incidents" for land_type in returns.LAND_TYPE_OF.values()} <= (
        defra_measures
    )
    assert len(returns.LAND_TYPE_OF) == 10


def test_header_order_case_bom_and_encoding_leave_the_accepted_rows_unchanged(
    tmp_path: Path,
) -> None:
    write_return(tmp_path / "a", "r.csv", ROWS)
    order = [4, 3, 2, 1, 0]
    path = write_return(
        tmp_path / "b",
        "r.csv",
        [[row[i] for i in order] for row in ROWS],
        [HEADER[i].lower() + "  " for i in order],
    )
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    bom = write_return(tmp_path / "c", "r.csv", ROWS)
    bom.write_bytes(codecs.BOM_UTF8 + bom.read_bytes())
    baseline = returns.read_all(tmp_path / "a")
    for variant in ("b", "c"):
        read = returns.read_all(tmp_path / variant)
        assert read.accepted.equals(baseline.accepted)
        assert read.set_aside["reason"].equals(baseline.set_aside["reason"])


def test_the_sample_follows_defra_but_for_one_deliberately_short_year() -> None:
    read = returns.read_all(SAMPLE_RAW_DIR)
    assert row_accounting_failures(read) == []
    assert read.set_aside.num_rows == 0
    assert len(read.load_log) == 16
    sums: dict[tuple[str, str], int] = defaultdict(int)
    for row in read.accepted.to_pylist():
        sums[(row["financial_year"], row["area_code"])] += row["incidents"]
    defra = {
        (r["financial_year"], r["area_code"]): r["value"]
        for r in defra_flytipping.read_all(SAMPLE_RAW_DIR).accepted.to_pylist()
        if r["measure"] == "total_incidents"
    }
    assert set(sums) == set(defra)
    tolerance = returns.DEFRA_ANNUAL_TOLERANCE
    outside = {
        key: (total, defra[key])
        for key, total in sums.items()
        if abs(total - defra[key]) > max(tolerance.incidents, tolerance.share * defra[key])
    }
    assert outside == {("2012-13", "E07000181"): (467, 511.0)}
    county = defaultdict(int)
    for (year, _), total in sums.items():
        county[year] += total
    assert county["2013-14"] > county["2012-13"] * 1.05  # fly-tipping rose in 2013-14


DEFRA_HEADER = "Year,ONS Code,LA Name,Total Incidents,Highway Incidents\n"


def test_refresh_warns_when_a_districts_four_quarters_disagree_with_defra(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    (raw / "defra_flytipping").mkdir(parents=True)
    (raw / "defra_flytipping" / "defra.csv").write_text(
        DEFRA_HEADER + "2013-14,E07000177,Cherwell,400,250\n2013-14,E07000178,Oxford,1000,600\n",
        encoding="utf-8",
    )
    # Cherwell's quarters add up to 398 (within 20 of 400); Oxford's to 900 (100 short of 1000,
    # outside 50); West Oxfordshire made no return for Q4.
    quarterly = {
        "Cherwell District Council": (100, 99, 100, 99),
        "Oxford City Council": (225, 225, 225, 225),
    }
    for quarter in (1, 2, 3, 4):
        rows = []
        for council, totals in quarterly.items():
            highway = str(totals[quarter - 1] - 10)
            rows.append([council, "2013-14", f"Q{quarter}", "Highway", highway])
            rows.append([council, "2013-14", f"Q{quarter}", "Council Land", "10"])
        if quarter < 4:
            rows.append(
                ["West Oxfordshire District Council", "2013-14", f"Q{quarter}", "Railway", "1"]
            )
        write_return(raw, f"returns_2013-14_Q{quarter}.csv", rows)
    result = refresh(raw, wh, instance)
    assert result.success
    (check,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == returns.DEFRA_AGREEMENT_CHECK
    ]
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert "5% of DEFRA's figure or 10 incidents, whichever is larger" in (check.description or "")
    assert check.metadata["sample"].value == [
        {
            "financial_year": "2013-14",
            "area_code": "E07000178",
            "area_name": "Oxford",
            "quarters_sum": "900",
            "defra_annual": "1000.0",
            "difference": "-100.0",
            "tolerance": "50.0",
        }
    ]
    totals = query(
        wh,
        """SELECT area_code, period_start::VARCHAR, value, value_status FROM observations
           WHERE measure_id = 'district_flytipping_returns.incidents_total'
           AND area_code IN ('E07000177', 'E07000179', 'E07000181') ORDER BY 1, 2""",
    )
    assert totals == [
        ("E07000177", "2013-04-01", 100.0, "reported"),
        ("E07000177", "2013-07-01", 99.0, "reported"),
        ("E07000177", "2013-10-01", 100.0, "reported"),
        ("E07000177", "2014-01-01", 99.0, "reported"),
        ("E07000179", "2013-04-01", None, "not_available"),
        ("E07000179", "2013-07-01", None, "not_available"),
        ("E07000179", "2013-10-01", None, "not_available"),
        ("E07000179", "2014-01-01", None, "not_available"),
        ("E07000181", "2013-04-01", 1.0, "reported"),
        ("E07000181", "2013-07-01", 1.0, "reported"),
        ("E07000181", "2013-10-01", 1.0, "reported"),
        ("E07000181", "2014-01-01", None, "not_available"),
    ]
    # A land type not listed by a council that made its return is 0; 11 measures x 5 districts
    # x 4 quarters are published.
    assert query(
        wh,
        """SELECT value FROM observations WHERE area_code = 'E07000181'
           AND measure_id = 'district_flytipping_returns.highway_incidents'
           AND period_start = DATE '2013-04-01'""",
    ) == [(0.0,)]
    assert query(
        wh, "SELECT count(*) FROM observations WHERE source_id = 'district_flytipping_returns'"
    ) == [(11 * 5 * 4,)]
