"""The national benchmark's data and floor: published format, reproducible, and the same answer.

The generator is run small (two forces, one month); the files must be byte for byte in the
data.police.uk layout, the same for the same seed, readable by the pipeline with every row
accounted for, and the floor query must give exactly the counts the pipeline stages. The
national Home Office table is generated small too (one year, five offences) for every CSP of the
ONS lookup (the real January 2017 edition beside the repository; skipped where absent): in the
published layout, the same for the same seed, and loaded whole under the national scope.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import duckdb
import pytest
from conftest import REAL_DIR, STREET_HEADER

from oscp_pipeline import ingestion, quality, scope
from oscp_pipeline.bench import month_folders, street_files
from oscp_pipeline.bench.measure import floor_counts
from oscp_pipeline.sources import home_office_prc, police_uk
from oscp_pipeline.sources.base import row_accounting_failures
from oscp_pipeline.synthetic import national, national_home_office
from oscp_pipeline.synthetic.geography import OXFORDSHIRE_DISTRICTS

FORCES = ("thames-valley", "city-of-london")
MONTH = "2014-01"
ROWS_PER_MONTH = 200_000
SEED = 11  # a seed whose Oxfordshire rows include repeated crimes
HEX_ID = re.compile(r"^[0-9a-f]{64}$")
LSOA_NAME = re.compile(r"^(.*\S) [0-9]{3}[A-Z]$")


def generate(out: Path, seed: int = SEED) -> list[Path]:
    national.generate(out, 1, MONTH, seed, ROWS_PER_MONTH, FORCES)
    return street_files(month_folders(out))


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("archive")
    generate(out)
    return out


def test_files_are_in_the_published_format(archive: Path) -> None:
    files = street_files(month_folders(archive))
    assert [path.relative_to(archive).as_posix() for path in files] == [
        f"{MONTH}/{MONTH}-city-of-london-street.csv",
        f"{MONTH}/{MONTH}-thames-valley-street.csv",
    ]
    data = files[1].read_bytes()
    assert data.startswith(",".join(STREET_HEADER).encode() + b"\r\n")  # no BOM, no quotes
    assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n")
    assert b'"' not in data
    rows = [line.split(",") for line in data.decode("utf-8").split("\r\n")[1:-1]]
    assert {len(row) for row in rows} == {12}
    assert {(row[1], row[2], row[3]) for row in rows} == {
        (MONTH, "Thames Valley Police", "Thames Valley Police")
    }
    asb = [row for row in rows if row[9] == "Anti-social behaviour"]
    crimes = [row for row in rows if row[9] != "Anti-social behaviour"]
    assert 0.28 < len(asb) / len(rows) < 0.40
    assert all(row[0] == "" and row[10] == "" for row in asb)
    assert all(HEX_ID.match(row[0]) and row[10] for row in crimes)
    no_location = [row for row in rows if row[6] == "No Location"]
    assert 0.04 < len(no_location) / len(rows) < 0.08
    assert all(row[4] == row[5] == row[7] == row[8] == "" for row in no_location)
    located = [row for row in rows if row[6] != "No Location"]
    assert all(row[6].startswith("On or near ") and LSOA_NAME.match(row[8]) for row in located)
    assert all(-6.5 < float(row[4]) < 2 and 49.5 < float(row[5]) < 56 for row in located)
    districts = {LSOA_NAME.match(row[8])[1] for row in located}
    assert {district.name for district in OXFORDSHIRE_DISTRICTS} <= districts
    ids = [row[0] for row in crimes]
    assert len(ids) > len(set(ids)), "some crime rows are published twice"
    # Located rows in LSOA order, No Location rows last, as data.police.uk writes them.
    assert rows.index(no_location[0]) == len(located)


def test_same_seed_same_bytes(archive: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "again")
    other = generate(tmp_path / "other", seed=SEED + 1)
    first = street_files(month_folders(archive))
    assert [path.read_bytes() for path in again] == [path.read_bytes() for path in first]
    assert other[1].read_bytes() != first[1].read_bytes()


def test_a_month_alone_is_the_same_as_within_a_range(archive: Path, tmp_path: Path) -> None:
    national.generate(tmp_path, 3, "2013-12", SEED, ROWS_PER_MONTH, FORCES)
    alone = street_files(month_folders(archive))
    within = street_files([tmp_path / MONTH])
    assert [path.read_bytes() for path in within] == [path.read_bytes() for path in alone]


def _raw_folder_of(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A raw folder whose police_uk folder is the generated archive, read in the default scope."""
    monkeypatch.delenv("OSCP_SCOPE", raising=False)
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "police_uk").symlink_to(archive, target_is_directory=True)
    return raw


def test_the_pipeline_reads_them_with_every_row_accounted_for(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = _raw_folder_of(archive, tmp_path, monkeypatch)
    read = police_uk.read_all(raw)
    log = read.load_log.to_pylist()
    assert [line["status"] for line in log] == ["loaded", "loaded"]
    assert all(line["rows_read"] == line["rows_loaded"] + line["rows_set_aside"] for line in log)
    lines = sum(path.read_bytes().count(b"\r\n") - 1 for path in police_uk.discover_files(raw))
    assert sum(line["rows_read"] for line in log) == lines
    reasons = set(read.set_aside.column("reason_code").to_pylist())
    assert {"no_location", "outside_area", "duplicate_crime_id"} <= reasons


def test_floor_counts_equal_the_staged_counts(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The floor and the pipeline agree on every monthly count per district and crime type."""
    raw = _raw_folder_of(archive, tmp_path, monkeypatch)
    staging_dir = tmp_path / "warehouse" / "staging"
    batch = ingestion.ingest_police_uk_quarter(
        raw, staging_dir, tmp_path / "warehouse" / "quarantine", "2014-01-01", "test",
        dt.datetime(2024, 1, 1),
    )  # fmt: skip
    assert batch is not None and batch.passed
    staged = duckdb.sql(
        f"""
        SELECT strftime(month, '%Y-%m') AS month,
               regexp_extract(lsoa_name, '^(.*\\S)\\s+[0-9]{{3}}[A-Z]$', 1) AS district,
               crime_type_published AS crime_type, count(*) AS n
        FROM read_parquet('{staging_dir}/police_uk/2014-01-01/accepted.parquet')
        GROUP BY ALL ORDER BY ALL
        """
    ).fetchall()
    oxfordshire = {district.name for district in OXFORDSHIRE_DISTRICTS}
    floor = sorted(
        (row["month"], row["district"], row["crime_type"], row["counted"])
        for row in floor_counts(street_files(month_folders(archive))).to_pylist()
        if row["district"] in oxfordshire
    )
    assert len(staged) > 50
    assert staged == floor


LOOKUP = REAL_DIR / "LAD17_CSP17_PFA17_lookup_Jan2017.csv"
HOME_OFFICE_SEED = 5
HOME_OFFICE_OFFENCES = 5
HOME_OFFICE_HEADER = (
    "Financial Year,Financial Quarter,Force Name,CSP Name,Offence Description,Offence Group,"
    "Offence Subgroup,Offence Code,Number of Offences"
)


def generate_home_office(out: Path, seed: int = HOME_OFFICE_SEED) -> Path:
    table = national_home_office.generate(out, LOOKUP, seed, years=1, offences=HOME_OFFICE_OFFENCES)
    return table.path


@pytest.fixture(scope="module")
def lookup_csps() -> dict[str, tuple[str, str]]:
    """ONS CSP name -> (CSP code, police force area name), read with the csv module."""
    if not LOOKUP.is_file():
        pytest.skip(f"the ONS area lookup is not available at {LOOKUP}")
    with LOOKUP.open(encoding="utf-8-sig", newline="") as handle:
        return {
            line["CSP17NM"]: (line["CSP17CD"], line["PFA17NM"]) for line in csv.DictReader(handle)
        }


@pytest.fixture(scope="module")
def home_office_table(
    tmp_path_factory: pytest.TempPathFactory, lookup_csps: dict[str, tuple[str, str]]
) -> Path:
    return generate_home_office(tmp_path_factory.mktemp("home_office"))


def test_the_national_home_office_table_is_in_the_published_format(
    home_office_table: Path, lookup_csps: dict[str, tuple[str, str]]
) -> None:
    assert home_office_table.relative_to(home_office_table.parents[1]).as_posix() == (
        "home_office_prc/prc-csp-open-data-table-2013-14-to-2013-14.csv"
    )
    data = home_office_table.read_bytes()
    assert data.startswith(HOME_OFFICE_HEADER.encode() + b"\r\n")  # no BOM
    assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))[1:]
    assert len(rows) == len(lookup_csps) * 4 * HOME_OFFICE_OFFENCES
    assert {len(row) for row in rows} == {9}
    assert {row[0] for row in rows} == {"2013/14"}
    assert {row[1] for row in rows} == {"1", "2", "3", "4"}
    assert {(row[3], row[2]) for row in rows} == {
        (name, force) for name, (_, force) in lookup_csps.items()
    }
    assert [row[7] for row in rows[:HOME_OFFICE_OFFENCES]] == ["28A", "28B", "28C", "28D", "29"]
    assert all(re.fullmatch(r"-?[0-9]+", row[8]) for row in rows)
    negative = [row for row in rows if int(row[8]) < 0]
    assert 0 < len(negative) < len(rows) / 100, "rare negative adjustments"
    assert b'"Bristol, City of"' in data  # quoted where the ONS name holds a comma


def test_the_same_seed_gives_the_same_home_office_table(
    home_office_table: Path, tmp_path: Path
) -> None:
    again = generate_home_office(tmp_path / "again")
    other = generate_home_office(tmp_path / "other", seed=HOME_OFFICE_SEED + 1)
    assert again.read_bytes() == home_office_table.read_bytes()
    assert other.read_bytes() != home_office_table.read_bytes()


def test_the_national_scope_loads_every_csp_of_the_home_office_table(
    home_office_table: Path,
    lookup_csps: dict[str, tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(scope.SCOPE_VARIABLE, "national")
    monkeypatch.setenv(scope.LOOKUP_VARIABLE, str(LOOKUP))

    read = home_office_prc.read_all(home_office_table.parents[1])

    assert row_accounting_failures(read) == []
    assert read.set_aside.num_rows == 0
    assert read.accepted.num_rows == len(lookup_csps) * 4 * HOME_OFFICE_OFFENCES
    ons_codes = {code for code, _ in lookup_csps.values()}
    assert set(read.accepted.column("ons_csp_code").to_pylist()) == ons_codes
    merged = {lookup_csps[name][0] for name in ("South Oxfordshire", "Vale of White Horse")}
    assert set(read.accepted.column("area_code").to_pylist()) == (ons_codes - merged) | {
        "OSCP-SOUTHVALE"
    }
    assert quality.audit(home_office_prc.build_contract(), "all", read).passed
