"""What partners get: the specification generated from the contracts, and ``oscp validate``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_DIR, SAMPLE_RAW_DIR, street_row, write_street_file

from oscp_pipeline.sources import SOURCES
from oscp_pipeline.specification import render_specification
from oscp_pipeline.validate import validate_file

OSCP = str(Path(sys.executable).parent / "oscp")


def test_the_data_sharing_specification_is_current_with_the_contracts() -> None:
    written = (REPO_DIR / "docs" / "data-sharing-spec.md").read_text(encoding="utf-8")
    assert written == render_specification(), "run `make spec` and commit the result"
    for spec in SOURCES:
        assert f"- Source id: `{spec.source_id}`" in written


def sample_files() -> list[Path]:
    return sorted(
        path
        for spec in SOURCES
        for path in (SAMPLE_RAW_DIR / spec.source_id).rglob("*")
        if path.is_file()
    )


@pytest.mark.parametrize(
    "path", sample_files(), ids=lambda p: p.relative_to(SAMPLE_RAW_DIR).as_posix()
)
def test_every_sample_file_is_accepted(path: Path) -> None:
    validation = validate_file(path)
    assert validation.accepted, validation.report()


def test_a_broken_file_is_rejected_with_the_reason_and_a_non_zero_exit(tmp_path: Path) -> None:
    header = ["Crime ID", "Month", "Crime type"]
    path = write_street_file(tmp_path, "2014-01", [["", "2014-01", "Burglary"]], header)
    completed = subprocess.run([OSCP, "validate", str(path)], capture_output=True, text=True)
    assert completed.returncode == 1
    assert "REJECTED" in completed.stdout
    assert "required column(s) 'Reported by', 'Falls within'" in completed.stdout
    assert "the first row has 3 cell(s), of which 3 are known headers ('Crime ID', 'Month', " in (
        completed.stdout
    )
    assert completed.stdout.rstrip().endswith("NOT ACCEPTED: police_uk contract")


def test_set_aside_rows_are_shown_but_do_not_fail_an_otherwise_good_file(tmp_path: Path) -> None:
    rows = [street_row(), street_row(lsoa_name="", lon="", lat="", location="No Location")]
    path = write_street_file(tmp_path, "2014-01", rows)
    completed = subprocess.run([OSCP, "validate", str(path)], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout
    assert "2 rows read, 1 would be loaded, 1 set aside" in completed.stdout
    assert "row 3: No Location: the LSOA name is blank" in completed.stdout


def test_a_file_whose_source_cannot_be_told_asks_for_it(tmp_path: Path) -> None:
    path = tmp_path / "extract.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    completed = subprocess.run([OSCP, "validate", str(path)], capture_output=True, text=True)
    assert completed.returncode == 2
    assert "cannot tell the source of" in completed.stdout
    assert "pass --source" in completed.stdout
