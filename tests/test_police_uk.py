"""The data.police.uk street reader, on the real files and on files with every published quirk."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_RAW_DIR, STREET_HEADER, street_row, write_street_file

from oscp_pipeline import ingestion, staging
from oscp_pipeline.reference import districts
from oscp_pipeline.sources import police_uk
from oscp_pipeline.sources.base import row_accounting_failures

# Published facts about the real January-March 2014 files (../shared/data/real/SOURCES.md).
REAL_ROWS_BY_DISTRICT = {
    "Cherwell": 1983,
    "Oxford": 3888,
    "South Oxfordshire": 1338,
    "Vale of White Horse": 1238,
    "West Oxfordshire": 1041,
}


def _read(raw_dir: Path) -> police_uk.FileRead:
    return police_uk.read_street_files(police_uk.discover_files(raw_dir), raw_dir)


def _district_of(lsoa_name: str) -> str:
    return lsoa_name.rsplit(" ", 1)[0]


def test_real_files_hold_the_published_rows_less_duplicate_crimes(real_dir: Path) -> None:
    # An independent count with the csv module: rows per district, and repeated Crime IDs.
    raw_rows: Counter[str] = Counter()
    duplicates: Counter[str] = Counter()
    for path in sorted((real_dir / "police_uk").glob("*/*.csv")):
        seen: set[str] = set()
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                district = _district_of(row["LSOA name"])
                raw_rows[district] += 1
                if row["Crime ID"] and row["Crime ID"] in seen:
                    duplicates[district] += 1
                seen.add(row["Crime ID"])
    assert dict(raw_rows) == REAL_ROWS_BY_DISTRICT
    assert sum(duplicates.values()) == 17

    read = _read(real_dir)
    loaded = Counter(read.accepted.column("district_code").to_pylist())
    codes = districts()
    assert {name: loaded[codes[name]] for name in REAL_ROWS_BY_DISTRICT} == {
        name: count - duplicates[name] for name, count in REAL_ROWS_BY_DISTRICT.items()
    }
    assert read.accepted.num_rows == 9471
    assert read.set_aside.column("reason_code").to_pylist() == ["duplicate_crime_id"] * 17
    assert row_accounting_failures(read) == []
    assert [line["rows_read"] for line in read.load_log.to_pylist()] == [3137, 3004, 3347]


def test_identical_asb_rows_are_separate_incidents_but_repeated_crime_ids_are_not(
    tmp_path: Path,
) -> None:
    asb = street_row(location="On or near Supermarket")
    crime = street_row("a" * 64, crime_type="Burglary", outcome="Under investigation")
    crime_new_outcome = street_row("a" * 64, crime_type="Burglary", outcome="Local resolution")
    write_street_file(tmp_path, "2014-01", [asb, asb, asb, crime, crime_new_outcome])
    read = _read(tmp_path)
    assert Counter(read.accepted.column("crime_type").to_pylist()) == {
        "Anti-social behaviour": 3,
        "Burglary": 1,
    }
    kept = next(r for r in read.accepted.to_pylist() if r["crime_type"] == "Burglary")
    assert kept["last_outcome_category"] == "Under investigation"
    assert kept["row_number"] == 5  # header is row 1
    (aside,) = read.set_aside.to_pylist()
    assert aside["row_number"] == 6
    assert aside["reason_code"] == "duplicate_crime_id"
    assert (
        "already counted from police_uk/2014-01/2014-01-thames-valley-street.csv row 5"
        in (aside["reason"])
    )
    assert json.loads(aside["record"])["Last outcome category"] == "Local resolution"


def test_whole_force_rows_without_an_oxfordshire_district_are_set_aside_and_counted(
    tmp_path: Path,
) -> None:
    no_location = {"lsoa_name": "", "lon": "", "lat": "", "location": "No Location"}
    rows = [
        street_row(month="2014-02"),
        street_row("b" * 64, month="2014-02", crime_type="Vehicle crime", **no_location),
        street_row(month="2014-02", **no_location),
        street_row("c" * 64, "2014-02", "Aylesbury Vale 012C", crime_type="Burglary"),
        street_row(month="2014-02", lsoa_name="West Berkshire 003A"),
        street_row("d" * 64, "2014-02", "Oxford 008B", crime_type="Drugs"),
    ]
    write_street_file(tmp_path, "2014-02", rows)
    read = _read(tmp_path)
    assert read.accepted.column("district_code").to_pylist() == ["E07000177", "E07000178"]
    reasons = Counter(read.set_aside.column("reason_code").to_pylist())
    assert reasons == {"no_location": 2, "outside_area": 2}
    messages = read.set_aside.column("reason").to_pylist()
    assert "LSOA 'Aylesbury Vale 012C' is in Aylesbury Vale, outside the Oxfordshire districts" in (
        messages
    )
    (log,) = read.load_log.to_pylist()
    assert (log["rows_read"], log["rows_loaded"], log["rows_set_aside"]) == (6, 2, 4)


def test_pre_may_2013_crime_types_map_to_the_later_scheme_keeping_the_published_value(
    tmp_path: Path,
) -> None:
    write_street_file(
        tmp_path,
        "2013-04",
        [
            street_row("e" * 64, month="2013-04", crime_type="Violent crime"),
            street_row("f" * 64, month="2013-04", crime_type="Public disorder and weapons"),
            street_row("g" * 64, month="2013-04", crime_type="Made-up crime"),
        ],
    )
    read = _read(tmp_path)
    pairs = list(
        zip(
            read.accepted.column("crime_type_published").to_pylist(),
            read.accepted.column("crime_type").to_pylist(),
            strict=True,
        )
    )
    assert pairs == [
        ("Violent crime", "Violence and sexual offences"),
        ("Public disorder and weapons", "Public order"),
    ]
    (aside,) = read.set_aside.to_pylist()
    assert aside["reason_code"] == "unknown_crime_type"
    assert "'Made-up crime'" in aside["reason"]


def test_a_row_for_another_month_than_the_file_is_set_aside(tmp_path: Path) -> None:
    write_street_file(
        tmp_path, "2014-03", [street_row(month="2014-03"), street_row(month="2014-02")]
    )
    read = _read(tmp_path)
    assert read.accepted.column("month").to_pylist() == [dt.date(2014, 3, 1)]
    (aside,) = read.set_aside.to_pylist()
    assert aside["reason"] == "Month 2014-02 is outside the month the file covers (2014-03)"


def test_header_case_spacing_order_and_encoding_do_not_change_what_is_loaded(
    tmp_path: Path,
) -> None:
    rows = [street_row(), street_row("h" * 64, lsoa_name="Oxford 001A", crime_type="Robbery")]
    plain = write_street_file(tmp_path / "plain", "2014-01", rows)
    baseline = _read(tmp_path / "plain").accepted.drop_columns(["source_file"])

    order = list(reversed(range(len(STREET_HEADER))))
    shuffled_header = [f"  {STREET_HEADER[i].upper()} " for i in order]
    shuffled_rows = [[row[i] for i in order] for row in rows]
    path = write_street_file(tmp_path / "odd", "2014-01", shuffled_rows, shuffled_header)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert _read(tmp_path / "odd").accepted.drop_columns(["source_file"]).equals(baseline)

    cp1252 = write_street_file(tmp_path / "cp", "2014-01", rows)
    cp1252.write_bytes(plain.read_text(encoding="utf-8").encode("cp1252"))
    assert _read(tmp_path / "cp").accepted.drop_columns(["source_file"]).equals(baseline)


def test_a_missing_required_column_rejects_the_file_naming_it(tmp_path: Path) -> None:
    header = [h for h in STREET_HEADER if h != "LSOA name"]
    write_street_file(tmp_path, "2014-01", [street_row()[:8] + street_row()[9:]], header)
    read = _read(tmp_path)
    (log,) = read.load_log.to_pylist()
    assert log["status"] == "rejected"
    assert log["message"] == (
        "required column(s) 'LSOA name' not found; the first row has 11 cell(s), of which 11 are "
        "known headers ('Crime ID', 'Month', 'Reported by', 'Falls within', 'Longitude', "
        "'Latitude', 'Location', 'LSOA code', 'Crime type', 'Last outcome category', 'Context')"
    )
    assert read.accepted.num_rows == 0


def test_a_row_with_the_wrong_number_of_fields_is_set_aside_with_its_row_number(
    tmp_path: Path,
) -> None:
    path = write_street_file(tmp_path, "2014-01", [street_row(), street_row()])
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r\nshort,row\r\n", 1))
    read = _read(tmp_path)
    assert read.accepted.column("row_number").to_pylist() == [3, 4]
    (aside,) = read.set_aside.to_pylist()
    assert (aside["row_number"], aside["reason"]) == (2, "row has 2 fields; the header has 12")
    assert row_accounting_failures(read) == []


@pytest.mark.parametrize("name", ["2014-01-thames-valley-street.csv"])
def test_file_month_comes_from_the_file_name(name: str) -> None:
    assert police_uk.file_month(Path(name)) == dt.date(2014, 1, 1)


def test_a_reason_quoting_a_huge_value_is_cut_and_says_how_long_it_was(tmp_path: Path) -> None:
    write_street_file(tmp_path, "2014-01", [street_row(crime_type="Burglary" * 1000)])
    (aside,) = _read(tmp_path).set_aside.to_pylist()
    assert aside["reason_code"] == "unknown_crime_type"
    assert len(aside["reason"]) == 1000
    assert aside["reason"].startswith("Crime type 'BurglaryBurglary")
    whole = (
        f"Crime type '{'Burglary' * 1000}' is not a data.police.uk category (see dim_crime_type)"
    )
    assert aside["reason"].endswith(f"\u2026 ({len(whole):,} characters in all)")


def test_staged_previews_show_the_first_rows_in_delivered_order(tmp_path: Path) -> None:
    """Street rows are read on every core and staged in no order; the previews the refresh
    shows are still the first rows by file and row, so two runs show the same rows."""
    quarter = police_uk.quarters_present(SAMPLE_RAW_DIR)[0].isoformat()
    batch = ingestion.ingest_police_uk_quarter(
        SAMPLE_RAW_DIR, tmp_path / "staging", tmp_path / "quarantine", quarter, "run-1",
        dt.datetime(2026, 1, 1),
    )  # fmt: skip
    assert batch is not None
    staged = staging.partition_dir(tmp_path / "staging", police_uk.SOURCE_ID, quarter)
    for head, name in [(batch.accepted_head, "accepted"), (batch.set_aside_head, "set_aside")]:
        rows = pq.read_table(staged / f"{name}.parquet", columns=["source_file", "row_number"])
        first = sorted(zip(*rows.to_pydict().values(), strict=True))[: ingestion.KEPT_ROWS]
        shown = list(
            zip(*head.select(["source_file", "row_number"]).to_pydict().values(), strict=True)
        )
        assert len(first) == ingestion.KEPT_ROWS
        assert shown == first
