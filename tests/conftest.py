"""Shared fixtures: the real open data beside the repository, and small files written by tests."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import dagster as dg
import pytest

from oscp_pipeline.sources import SOURCES
from oscp_pipeline.sources.base import FileRead

REPO_DIR = Path(__file__).resolve().parents[1]
SAMPLE_RAW_DIR = REPO_DIR / "data" / "raw"
REAL_DIR = REPO_DIR.parent / "shared" / "data" / "real"
REAL_DEFRA_CSV = REAL_DIR / "defra_flytipping_LA_incidents_2012-13_to_2021-22.csv"

STREET_HEADER = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]  # fmt: skip


@pytest.fixture
def real_dir() -> Path:
    """The real open data (Open Government Licence), read in place; skipped where absent."""
    if not (REAL_DIR / "police_uk").is_dir():
        pytest.skip(f"real open data not available at {REAL_DIR} (only in the project workspace)")
    return REAL_DIR


@pytest.fixture
def real_raw_dir(real_dir: Path, tmp_path: Path) -> Path:
    """A raw folder laid out as the pipeline expects, linking to the real files (not copies)."""
    raw = tmp_path / "raw"
    (raw / "defra_flytipping").mkdir(parents=True)
    (raw / "police_uk").symlink_to(real_dir / "police_uk", target_is_directory=True)
    (raw / "defra_flytipping" / REAL_DEFRA_CSV.name).symlink_to(REAL_DEFRA_CSV)
    return raw


def street_row(
    crime_id: str = "",
    month: str = "2014-01",
    lsoa_name: str = "Cherwell 001A",
    crime_type: str = "Anti-social behaviour",
    location: str = "On or near High Street",
    lon: str = "-1.3",
    lat: str = "52.0",
    outcome: str = "",
) -> list[str]:
    """One data.police.uk street row with sensible defaults."""
    lsoa_code = "" if not lsoa_name else "E01028479"
    force = "Thames Valley Police"
    return [crime_id, month, force, force, lon, lat, location, lsoa_code, lsoa_name,
            crime_type, outcome, ""]  # fmt: skip


def write_street_file(
    raw_dir: Path, month: str, rows: list[list[str]], header: list[str] | None = None
) -> Path:
    """Write a street file in the published form (UTF-8, CRLF) under ``raw_dir/police_uk``."""
    folder = raw_dir / "police_uk" / month
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{month}-thames-valley-street.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header or STREET_HEADER)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=False)
    return target


def read_delivered(raw_dir: Path, source_id: str, files: dict[str, bytes]) -> FileRead:
    """Write ``files`` (path under the raw folder -> content) and read them with the source's
    reader, as a refresh would."""
    for name, content in files.items():
        path = raw_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    [read_all] = [spec.read_all for spec in SOURCES if spec.source_id == source_id]
    assert read_all is not None
    return read_all(raw_dir)


@pytest.fixture
def instance() -> dg.DagsterInstance:
    """An in-memory Dagster instance, so tests never touch the developer's run history."""
    return dg.DagsterInstance.ephemeral()
