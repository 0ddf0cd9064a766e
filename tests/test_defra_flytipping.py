"""The DEFRA fly-tipping reader: published CSV and XLSX forms, ':' as missing, newest release."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pytest
from conftest import REAL_DEFRA_CSV
from openpyxl import Workbook

from oscp_pipeline.sources import defra_flytipping
from oscp_pipeline.sources.base import row_accounting_failures

# DEFRA Total Incidents 2013-14, from ../shared/data/real/SOURCES.md.
TOTALS_2013_14 = {
    "E07000177": 469.0,
    "E07000178": 1293.0,
    "E07000179": 517.0,
    "E07000180": 341.0,
    "E07000181": 498.0,
}


def _read(raw_dir: Path) -> defra_flytipping.FileRead:
    return defra_flytipping.read_defra_files(defra_flytipping.discover_files(raw_dir), raw_dir)


def _totals(read: defra_flytipping.FileRead, year: str) -> dict[str, float]:
    rows = read.accepted.to_pylist()
    return {
        r["area_code"]: r["value"]
        for r in rows
        if r["measure"] == "total_incidents" and r["financial_year"] == year
    }


def _write_xlsx_like_defra(csv_path: Path, target: Path, banner_rows: int = 4) -> None:
    """The published workbook form: a cover sheet, then LA_incidents with banner rows."""
    workbook = Workbook()
    workbook.active.title = "Cover"
    workbook.active["A1"] = "Fly-tipping incidents and actions reported by local authorities"
    sheet = workbook.create_sheet("LA_incidents")
    sheet.append(["Table 1: Fly-tipping incidents by local authority"])
    for _ in range(banner_rows - 1):
        sheet.append([])
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        for index, row in enumerate(csv.reader(handle)):
            cells: list[object] = row
            if index:  # numbers as numbers, ':' kept as text, as in the workbook
                cells = [float(c) if c.replace(".", "", 1).isdigit() else c for c in row]
            sheet.append(cells)
    workbook.save(target)


def test_real_csv_gives_the_published_oxfordshire_totals(real_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "defra_flytipping").mkdir()
    shutil.copy(REAL_DEFRA_CSV, tmp_path / "defra_flytipping")
    read = _read(tmp_path)
    assert _totals(read, "2013-14") == TOTALS_2013_14
    # Ten financial years for five districts, joined by code although 2018-19 and 2019-20
    # names carry trailing spaces.
    assert len({(r["area_code"], r["financial_year"]) for r in read.accepted.to_pylist()}) == 50
    assert read.load_log["rows_read"].to_pylist() == [3323]
    assert row_accounting_failures(read) == []
    reasons = set(read.set_aside["reason_code"].to_pylist())
    assert reasons == {"outside_area", "aggregate_row"}


def test_not_available_is_missing_never_zero(tmp_path: Path) -> None:
    folder = tmp_path / "defra_flytipping"
    folder.mkdir()
    (folder / "table.csv").write_text(
        "Year,ONS Code,LA Name,Region,Total Incidents,Highway Incidents,Asbestos Incidents\n"
        "2013-14,E07000178,Oxford ,South East,1293,805,:\n"
        "2013-14,*Total,*Total,South East,5000,3000,10\n",
        encoding="utf-8",
    )
    read = _read(tmp_path)
    by_measure = {r["measure"]: (r["value"], r["value_status"]) for r in read.accepted.to_pylist()}
    assert by_measure == {
        "total_incidents": (1293.0, "reported"),
        "highway_incidents": (805.0, "reported"),
        "asbestos_incidents": (None, "not_available"),
    }
    assert read.accepted["la_name_published"].to_pylist()[0] == "Oxford"
    (aside,) = read.set_aside.to_pylist()
    assert (aside["row_number"], aside["reason_code"]) == (3, "aggregate_row")


def test_xlsx_workbook_with_banner_rows_reads_as_the_csv_does(
    real_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "csv" / "defra_flytipping").mkdir(parents=True)
    (tmp_path / "xlsx" / "defra_flytipping").mkdir(parents=True)
    shutil.copy(REAL_DEFRA_CSV, tmp_path / "csv" / "defra_flytipping")
    _write_xlsx_like_defra(REAL_DEFRA_CSV, tmp_path / "xlsx" / "defra_flytipping" / "t.xlsx")
    from_csv = _read(tmp_path / "csv")
    from_xlsx = _read(tmp_path / "xlsx")
    assert _totals(from_xlsx, "2013-14") == TOTALS_2013_14
    columns = ["financial_year", "area_code", "measure", "value", "value_status"]
    assert from_xlsx.accepted.select(columns).equals(from_csv.accepted.select(columns))
    # Excel row numbers: the header sits on row 5 below four banner rows.
    first_row = pc.min(from_xlsx.set_aside["row_number"]).as_py()
    assert first_row == 6


def _two_releases(raw_dir: Path, newer_2013_14: str) -> None:
    """An older release (2011-12 to 2013-14) and a newer one (2012-13 to 2014-15) of Cherwell's
    Total Incidents; the newer release's 2013-14 row is ``newer_2013_14`` after the name."""
    folder = raw_dir / "defra_flytipping"
    folder.mkdir()
    header = "Year,ONS Code,LA Name,Total Incidents\n"
    (folder / "release_2011-12_to_2013-14.csv").write_text(
        header + "2012-13,E07000177,Cherwell,390\n2013-14,E07000177,Cherwell,460\n",
        encoding="utf-8",
    )
    (folder / "release_2012-13_to_2014-15.csv").write_text(
        header + f"2013-14,E07000177,Cherwell,{newer_2013_14}\n2014-15,E07000177,Cherwell,486\n",
        encoding="utf-8",
    )


def test_the_newer_release_wins_for_years_both_cover(tmp_path: Path) -> None:
    _two_releases(tmp_path, "469")
    read = _read(tmp_path)
    assert {r["financial_year"]: r["value"] for r in read.accepted.to_pylist()} == {
        "2012-13": 390.0,
        "2013-14": 469.0,
        "2014-15": 486.0,
    }
    (aside,) = read.set_aside.to_pylist()
    assert aside["source_file"] == "defra_flytipping/release_2011-12_to_2013-14.csv"
    assert aside["reason_code"] == "superseded"
    assert (
        "newer release defra_flytipping/release_2012-13_to_2014-15.csv (row 2)" in (aside["reason"])
    )
    assert row_accounting_failures(read) == []


def test_an_older_figure_loaded_for_an_unreadable_newer_row_is_warned_about(
    tmp_path: Path,
) -> None:
    _two_releases(tmp_path, "4 69")
    read = _read(tmp_path)
    assert {r["financial_year"]: r["value"] for r in read.accepted.to_pylist()} == {
        "2012-13": 390.0,
        "2013-14": 460.0,  # the older release's, the newer one's cannot be read
        "2014-15": 486.0,
    }
    (aside,) = read.set_aside.to_pylist()
    assert (aside["row_number"], aside["reason_code"]) == (2, "invalid_count")
    assert read.warnings == [
        "defra_flytipping: 2013-14 for E07000177 (Cherwell) is loaded from the older release "
        "defra_flytipping/release_2011-12_to_2013-14.csv row 3, because the newer release's row "
        "(defra_flytipping/release_2012-13_to_2014-15.csv row 2) has a count that cannot be read "
        "and is set aside: DEFRA may have revised the figure since"
    ]
    assert row_accounting_failures(read) == []


def test_older_figures_beside_a_newer_release_line_that_cannot_be_read_are_warned_about(
    tmp_path: Path,
) -> None:
    _two_releases(tmp_path, "1,469")
    read = _read(tmp_path)
    assert {r["financial_year"]: r["value"] for r in read.accepted.to_pylist()} == {
        "2012-13": 390.0,
        "2013-14": 460.0,
        "2014-15": 486.0,
    }
    (aside,) = read.set_aside.to_pylist()
    assert (aside["row_number"], aside["reason_code"]) == (2, "malformed_row")
    assert read.warnings == [
        "defra_flytipping: defra_flytipping/release_2012-13_to_2014-15.csv has 1 line(s) that "
        "cannot be read (malformed_row), and 2 figure(s) of years it covers are loaded from "
        "older releases (2012-13 E07000177, 2013-14 E07000177): a line that cannot be read may "
        "be the newer figure of one of them"
    ]
    assert row_accounting_failures(read) == []


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("release_2012-13_to_2014-15_v9.csv", "release_2012-13_to_2014-15_v10.csv"),
        ("release_2012-13_to_2014-15.csv", "release_2012-13_to_2014-15 (1).csv"),
        ("release_2012-13_to_2014-15.csv", "revised_release_2012-13_to_2014-15.csv"),
    ],
)
def test_of_two_files_of_one_release_the_later_delivery_wins(
    tmp_path: Path, earlier: str, later: str
) -> None:
    """Files covering the same years are told apart as every re-delivery is: by what the name
    says (a version compared as a number, a correction, a browser's copy), not alphabetically."""
    folder = tmp_path / "defra_flytipping"
    folder.mkdir()
    header = "Year,ONS Code,LA Name,Total Incidents\n"
    (folder / earlier).write_text(header + "2013-14,E07000177,Cherwell,438\n", encoding="utf-8")
    (folder / later).write_text(header + "2013-14,E07000177,Cherwell,500\n", encoding="utf-8")
    read = _read(tmp_path)
    assert [(r["source_file"], r["value"]) for r in read.accepted.to_pylist()] == [
        (f"defra_flytipping/{later}", 500.0)
    ]
    assert [(r["source_file"], r["reason_code"]) for r in read.set_aside.to_pylist()] == [
        (f"defra_flytipping/{earlier}", "superseded")
    ]


def test_a_negative_or_non_numeric_count_sets_the_row_aside_naming_the_column(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "defra_flytipping"
    folder.mkdir()
    (folder / "t.csv").write_text(
        "Year,ONS Code,LA Name,Total Incidents,Highway Incidents\n"
        "2013-14,E07000177,Cherwell,469,-3\n"
        "2013-14,E07000178,Oxford,lots,1\n",
        encoding="utf-8",
    )
    read = _read(tmp_path)
    assert read.accepted.num_rows == 0
    assert read.set_aside["reason"].to_pylist() == [
        "column 'Highway Incidents': '-3' is not a non-negative count or ':'",
        "column 'Total Incidents': 'lots' is not a non-negative count or ':'",
    ]
