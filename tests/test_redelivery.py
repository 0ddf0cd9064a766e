"""A period delivered twice: the later delivery is loaded once, whatever its name looks like.

Partners resend a quarter as ``_v2``, ``-corrected``, ``(corrected)`` or a browser's ``(1)``
copy; data.police.uk files are re-downloaded beside the first download. Each case checks which
file is loaded, that the other's rows are set aside as superseded (never counted twice), and
that a re-delivery which cannot be read leaves the earlier delivery loaded.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import openpyxl
import pytest
from conftest import SAMPLE_RAW_DIR, street_row, write_street_file

from oscp_pipeline.quality import audit
from oscp_pipeline.sources import SOURCES, police_uk
from oscp_pipeline.sources.base import FileRead, delivery_rank, row_accounting_failures

SPECS = {spec.source_id: spec for spec in SOURCES}
HATE_Q2 = "tvp_hate_crime/tvp_hate_2013-14_Q2.csv"
DOMESTIC_Q2 = "tvp_domestic_abuse/tvp_domestic_abuse_2013-14_Q2.xlsx"
CHERWELL_Q2 = "council_asb_complaints/cherwell/cherwell_noise_waste_complaints_2013-14_Q2.csv"


def deliver(raw: Path, relative: str, name: str | None = None) -> Path:
    """Copy a sample file into ``raw``, under another name in the same folder if given."""
    target = raw / relative if name is None else (raw / relative).with_name(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE_RAW_DIR / relative, target)
    return target


def read_source(source_id: str, raw: Path) -> FileRead:
    spec = SPECS[source_id]
    assert spec.read_all is not None
    read = spec.read_all(raw)
    assert row_accounting_failures(read) == []
    return read


def loaded_files(read: FileRead) -> set[str]:
    return set(read.accepted.column("source_file").to_pylist())


def reasons(read: FileRead, source_file: str) -> set[str]:
    return {
        row["reason_code"]
        for row in read.set_aside.to_pylist()
        if row["source_file"] == source_file
    }


def redated_cherwell(raw: Path) -> tuple[str, list[str]]:
    """The header and rows of the delivered Cherwell file with every Date Received unreadable."""
    header, *rows = (raw / CHERWELL_Q2).read_text(encoding="utf-8").splitlines()
    date_column = header.split(",").index("Date Received")
    return header, [
        ",".join(
            "31/31/2013" if i == date_column else cell for i, cell in enumerate(line.split(","))
        )
        for line in rows
    ]


def bump_first_total(path: Path) -> None:
    """Change the first data row's Total and Race by one, as a correction would."""
    lines = path.read_text().splitlines()
    cells = lines[1].split(",")
    cells[3], cells[4] = str(int(cells[3]) + 1), str(int(cells[4]) + 1)
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("tvp_hate_2013-14_Q2.csv", "tvp_hate_2013-14_Q2_v2.csv"),
        ("tvp_hate_2013-14_Q2.csv", "tvp_hate_2013-14_Q2-corrected.csv"),
        ("tvp_hate_2013-14_Q2.csv", "tvp_hate_2013-14_Q2 (corrected).csv"),
        ("tvp_hate_2013-14_Q2.csv", "tvp_hate_2013-14_Q2 v2.csv"),
        ("tvp_hate_2013-14_Q2_v9.csv", "tvp_hate_2013-14_Q2_v10.csv"),
        ("tvp_hate_2013-14_Q2-corrected.csv", "tvp_hate_2013-14_Q2_v2.csv"),
    ],
)
def test_the_later_delivery_is_loaded_whatever_the_name_sort_order(
    tmp_path: Path, earlier: str, later: str
) -> None:
    deliver(tmp_path, HATE_Q2, earlier)
    bump_first_total(deliver(tmp_path, HATE_Q2, later))
    read = read_source("tvp_hate_crime", tmp_path)
    assert loaded_files(read) == {f"tvp_hate_crime/{later}"}
    assert reasons(read, f"tvp_hate_crime/{earlier}") == {"superseded"}
    aside = next(r for r in read.set_aside.to_pylist() if r["row_number"] == 2)
    assert aside["reason"] == (
        f"2013-14 Q2 is loaded from tvp_hate_crime/{later}, a later delivery of the same quarter"
    )
    first = next(
        row for row in read.accepted.to_pylist() if row["row_number"] == 2 and row["strand"] is None
    )
    assert first["value"] == 13  # the corrected figure, not the original 12
    assert read.warnings == []


def test_a_broken_re_delivery_leaves_the_earlier_one_loaded(tmp_path: Path) -> None:
    deliver(tmp_path, HATE_Q2)
    alone = read_source("tvp_hate_crime", tmp_path)
    (tmp_path / HATE_Q2).with_name("tvp_hate_2013-14_Q2_v2.csv").write_bytes(
        b"\x00\x01garbage\xff" * 50
    )
    read = read_source("tvp_hate_crime", tmp_path)
    assert read.accepted.equals(alone.accepted)
    statuses = dict(
        zip(
            read.load_log.column("source_file").to_pylist(),
            read.load_log.column("status").to_pylist(),
            strict=True,
        )
    )
    assert statuses == {HATE_Q2: "loaded", "tvp_hate_crime/tvp_hate_2013-14_Q2_v2.csv": "rejected"}
    assert audit(SPECS["tvp_hate_crime"].build_contract(), "all", read).passed


def test_a_re_delivery_that_loads_no_row_leaves_the_earlier_one_loaded(tmp_path: Path) -> None:
    """A readable re-delivery none of whose rows can be loaded (here every date unreadable;
    or an export with no records at all) would leave its quarter with nothing: it is
    held back instead, its rows set aside with their reasons, and the earlier delivery stays
    loaded."""
    deliver(tmp_path, CHERWELL_Q2)
    alone = read_source("council_asb_complaints", tmp_path)
    header, redated = redated_cherwell(tmp_path)
    v2 = (tmp_path / CHERWELL_Q2).with_name(Path(CHERWELL_Q2).stem + "_v2.csv")
    v2.write_text("\n".join([header, *redated]) + "\n", encoding="utf-8")

    read = read_source("council_asb_complaints", tmp_path)

    assert read.accepted.equals(alone.accepted)
    log = {line["source_file"]: line for line in read.load_log.to_pylist()}
    held = log[f"council_asb_complaints/cherwell/{v2.name}"]
    expected = ("quarantined", len(redated), 0)
    assert (held["status"], held["rows_read"], held["rows_loaded"]) == expected
    assert held["message"] == (
        f"none of its {len(redated)} row(s) can be loaded (see set_aside), so it does not "
        f"replace {CHERWELL_Q2}, which stays loaded"
    )
    assert reasons(read, f"council_asb_complaints/cherwell/{v2.name}") == {"invalid_date"}
    assert log[CHERWELL_Q2]["status"] == "loaded"
    assert audit(SPECS["council_asb_complaints"].build_contract(), "all", read).passed


def test_an_empty_re_export_leaves_the_earlier_one_loaded(tmp_path: Path) -> None:
    first = "stop_hate_uk/stop_hate_uk_2014-15_Q1.json"
    deliver(tmp_path, first)
    alone = read_source("stop_hate_uk", tmp_path)
    (tmp_path / first).with_name("stop_hate_uk_2014-15_Q1_v2.json").write_text("[]")
    read = read_source("stop_hate_uk", tmp_path)
    assert read.accepted.equals(alone.accepted)
    statuses = {line["source_file"]: line["status"] for line in read.load_log.to_pylist()}
    assert statuses == {
        first: "loaded",
        "stop_hate_uk/stop_hate_uk_2014-15_Q1_v2.json": "quarantined",
    }


def test_a_re_delivered_workbook_missing_a_sheet_leaves_the_earlier_one_loaded(
    tmp_path: Path,
) -> None:
    deliver(tmp_path, DOMESTIC_Q2)
    alone = read_source("tvp_domestic_abuse", tmp_path)
    broken = deliver(tmp_path, DOMESTIC_Q2, "tvp_domestic_abuse_2013-14_Q2_v2.xlsx")
    workbook = openpyxl.load_workbook(broken)
    del workbook["Incidents"]
    workbook.save(broken)
    read = read_source("tvp_domestic_abuse", tmp_path)
    assert read.accepted.equals(alone.accepted)
    (line,) = [row for row in read.load_log.to_pylist() if row["status"] == "rejected"]
    assert line["source_file"] == "tvp_domestic_abuse/tvp_domestic_abuse_2013-14_Q2_v2.xlsx"
    assert "no sheet named 'Incidents'" in line["message"]


def test_a_re_delivered_workbook_that_loads_no_row_leaves_the_earlier_one_loaded(
    tmp_path: Path,
) -> None:
    """A _v2 workbook whose every monthly count reads 'n/a' would leave the quarter with
    nothing: it is held back, each sheet quarantined, and the earlier workbook stays loaded."""
    deliver(tmp_path, DOMESTIC_Q2)
    alone = read_source("tvp_domestic_abuse", tmp_path)
    unreadable = deliver(tmp_path, DOMESTIC_Q2, "tvp_domestic_abuse_2013-14_Q2_v2.xlsx")
    workbook = openpyxl.load_workbook(unreadable)
    for name in ("Crimes", "Incidents"):
        for row in workbook[name].iter_rows(min_row=6, min_col=2, max_col=4):
            for cell in row:
                cell.value = "n/a"
    workbook.save(unreadable)

    read = read_source("tvp_domestic_abuse", tmp_path)

    assert read.accepted.equals(alone.accepted)
    v2 = "tvp_domestic_abuse/tvp_domestic_abuse_2013-14_Q2_v2.xlsx"
    log = {line["source_file"]: line for line in read.load_log.to_pylist()}
    assert {name: line["status"] for name, line in log.items()} == {
        f"{DOMESTIC_Q2}#Crimes": "loaded",
        f"{DOMESTIC_Q2}#Incidents": "loaded",
        f"{v2}#Crimes": "quarantined",
        f"{v2}#Incidents": "quarantined",
    }
    assert log[f"{v2}#Crimes"]["message"] == (
        f"none of its {log[f'{v2}#Crimes']['rows_read']} row(s) can be loaded (see set_aside), "
        f"so it does not replace {DOMESTIC_Q2}#Crimes, which stays loaded"
    )
    assert reasons(read, f"{v2}#Crimes") and "superseded" not in reasons(read, f"{v2}#Crimes")
    assert audit(SPECS["tvp_domestic_abuse"].build_contract(), "all", read).passed


def test_a_workbook_is_replaced_sheet_by_sheet_keeping_a_sheet_that_loads(
    tmp_path: Path,
) -> None:
    """A _v2 whose Crimes sheet corrects a figure but whose Incidents counts all read 'n/a':
    its crimes are loaded, and the earlier incidents stay loaded, not the quarter lost."""
    deliver(tmp_path, DOMESTIC_Q2)
    alone = read_source("tvp_domestic_abuse", tmp_path)
    v2_path = deliver(tmp_path, DOMESTIC_Q2, "tvp_domestic_abuse_2013-14_Q2_v2.xlsx")
    workbook = openpyxl.load_workbook(v2_path)
    workbook["Crimes"]["B6"].value += 1  # Cherwell, July
    workbook["Crimes"]["E6"].value += 1
    workbook["Crimes"]["B11"].value += 1  # the Total row
    workbook["Crimes"]["E11"].value += 1
    for row in workbook["Incidents"].iter_rows(min_row=6, min_col=2, max_col=4):
        for cell in row:
            cell.value = "n/a"
    workbook.save(v2_path)

    read = read_source("tvp_domestic_abuse", tmp_path)

    v2 = "tvp_domestic_abuse/tvp_domestic_abuse_2013-14_Q2_v2.xlsx"
    statuses = {line["source_file"]: line["status"] for line in read.load_log.to_pylist()}
    assert statuses == {
        f"{DOMESTIC_Q2}#Crimes": "superseded",
        f"{DOMESTIC_Q2}#Incidents": "loaded",
        f"{v2}#Crimes": "loaded",
        f"{v2}#Incidents": "quarantined",
    }
    assert loaded_files(read) == {f"{v2}#Crimes", f"{DOMESTIC_Q2}#Incidents"}

    def figures(table: FileRead, measure: str) -> dict[tuple[str, str], int]:
        return {
            (str(r["area_code"]), str(r["month"])): r["value"]
            for r in table.accepted.to_pylist()
            if r["measure"] == measure
        }

    assert figures(read, "incidents") == figures(alone, "incidents")
    crimes, before = figures(read, "crimes"), figures(alone, "crimes")
    assert crimes[("E07000177", "2013-07-01")] == before[("E07000177", "2013-07-01")] + 1
    assert audit(SPECS["tvp_domestic_abuse"].build_contract(), "all", read).passed


def test_two_bad_re_deliveries_in_a_row_leave_the_good_first_one_loaded(tmp_path: Path) -> None:
    """v1 good, then _v2 and _v3 each with every date unreadable: the second bad delivery must
    not replace the first good one once the third is held back."""
    deliver(tmp_path, CHERWELL_Q2)
    alone = read_source("council_asb_complaints", tmp_path)
    header, redated = redated_cherwell(tmp_path)
    stem = Path(CHERWELL_Q2).stem
    for version in ("_v2", "_v3"):
        again = (tmp_path / CHERWELL_Q2).with_name(f"{stem}{version}.csv")
        again.write_text("\n".join([header, *redated, "" if version == "_v2" else ","]) + "\n")

    read = read_source("council_asb_complaints", tmp_path)

    assert read.accepted.equals(alone.accepted)
    log = {line["source_file"]: line for line in read.load_log.to_pylist()}
    folder = "council_asb_complaints/cherwell"
    assert {name: line["status"] for name, line in log.items()} == {
        CHERWELL_Q2: "loaded",
        f"{folder}/{stem}_v2.csv": "quarantined",
        f"{folder}/{stem}_v3.csv": "quarantined",
    }
    for version in ("_v2", "_v3"):
        assert log[f"{folder}/{stem}{version}.csv"]["message"].endswith(
            f"so it does not replace {CHERWELL_Q2}, which stays loaded"
        )
        assert "invalid_date" in reasons(read, f"{folder}/{stem}{version}.csv")
        assert "superseded" not in reasons(read, f"{folder}/{stem}{version}.csv")


def test_a_re_delivery_with_a_hash_in_its_name_is_held_back_too(tmp_path: Path) -> None:
    deliver(tmp_path, HATE_Q2)
    alone = read_source("tvp_hate_crime", tmp_path)
    header, *rows = (tmp_path / HATE_Q2).read_text(encoding="utf-8").splitlines()
    broken = (tmp_path / HATE_Q2).with_name("tvp_hate_2013-14_Q2 #2.csv")
    broken.write_text(header + "\n" + "\n".join("x" + row for row in rows) + "\n")

    read = read_source("tvp_hate_crime", tmp_path)

    assert read.accepted.equals(alone.accepted)
    statuses = {line["source_file"]: line["status"] for line in read.load_log.to_pylist()}
    assert statuses == {
        HATE_Q2: "loaded",
        "tvp_hate_crime/tvp_hate_2013-14_Q2 #2.csv": "quarantined",
    }


def test_a_corrected_workbook_replaces_the_earlier_one(tmp_path: Path) -> None:
    resaved = deliver(tmp_path, DOMESTIC_Q2, "tvp_domestic_abuse_2013-14_Q2 (corrected).xlsx")
    openpyxl.load_workbook(resaved).save(resaved)  # not byte-identical to the original
    deliver(tmp_path, DOMESTIC_Q2)
    read = read_source("tvp_domestic_abuse", tmp_path)
    corrected = "tvp_domestic_abuse/tvp_domestic_abuse_2013-14_Q2 (corrected).xlsx"
    assert loaded_files(read) == {f"{corrected}#Crimes", f"{corrected}#Incidents"}
    assert reasons(read, f"{DOMESTIC_Q2}#Crimes") == {"superseded"}


def test_names_that_do_not_tell_take_the_most_recent_file_and_warn(tmp_path: Path) -> None:
    first = deliver(tmp_path, HATE_Q2, "tvp_hate_2013-14_Q2_from_email.csv")
    second = deliver(tmp_path, HATE_Q2, "tvp_hate_2013-14_Q2_from_portal.csv")
    bump_first_total(first)
    os.utime(first, ns=(2_000_000_000_000_000_000, 2_000_000_000_000_000_000))
    os.utime(second, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    read = read_source("tvp_hate_crime", tmp_path)
    assert loaded_files(read) == {"tvp_hate_crime/tvp_hate_2013-14_Q2_from_email.csv"}
    assert read.warnings == [
        "tvp_hate_crime/tvp_hate_2013-14_Q2_from_email.csv and "
        "tvp_hate_crime/tvp_hate_2013-14_Q2_from_portal.csv deliver the same period and their "
        "names do not say which is the later delivery; took "
        "tvp_hate_crime/tvp_hate_2013-14_Q2_from_email.csv, the most recently modified, as the "
        "later (rename the correction with '_v2' to make the order explicit)"
    ]


def test_a_council_correction_replaces_its_quarter_instead_of_duplicating_it(
    tmp_path: Path,
) -> None:
    deliver(tmp_path, CHERWELL_Q2)
    alone = read_source("council_asb_complaints", tmp_path)
    corrected = deliver(
        tmp_path, CHERWELL_Q2, "cherwell_noise_waste_complaints_2013-14_Q2_corrected.csv"
    )
    lines = corrected.read_text().splitlines()
    corrected.write_text("\n".join(lines[:-1]) + "\n")  # the correction withdraws one complaint
    read = read_source("council_asb_complaints", tmp_path)
    corrected_file = corrected.relative_to(tmp_path).as_posix()
    assert loaded_files(read) == {corrected_file}
    assert read.accepted.num_rows == alone.accepted.num_rows - 1
    assert reasons(read, CHERWELL_Q2) == {"superseded"}
    assert reasons(read, corrected_file) == set()


def test_another_councils_file_of_the_same_quarter_is_not_a_re_delivery(tmp_path: Path) -> None:
    deliver(tmp_path, CHERWELL_Q2)
    west = "council_asb_complaints/west_oxfordshire/" + next(
        p.name
        for p in (SAMPLE_RAW_DIR / "council_asb_complaints/west_oxfordshire").iterdir()
        if "2013-14_Q2" in p.name
    )
    deliver(tmp_path, west)
    read = read_source("council_asb_complaints", tmp_path)
    assert loaded_files(read) == {CHERWELL_Q2, west}
    assert "superseded" not in read.set_aside.column("reason_code").to_pylist()


def police_rows() -> list[list[str]]:
    """Two ASB incidents (no ID, never de-duplicated) and one crime."""
    return [
        street_row(),
        street_row(),
        street_row(crime_id="a" * 64, crime_type="Burglary"),
    ]


def read_police(raw: Path) -> FileRead:
    read = police_uk.read_street_files(police_uk.discover_files(raw), raw)
    assert row_accounting_failures(read) == []
    return read


@pytest.mark.parametrize(
    "name",
    [
        "2014-01-thames-valley-updated-street.csv",
        "2014-01-thames-valley-street (1).csv",
        "2014-01-thames-valley-street_v2.csv",
        "2014-01-THAMES-VALLEY-STREET.CSV",
    ],
)
def test_a_re_downloaded_street_file_counts_each_incident_once(tmp_path: Path, name: str) -> None:
    original = write_street_file(tmp_path, "2014-01", police_rows())
    again = original.with_name(name)
    again.write_bytes(original.read_bytes().replace(b"Burglary", b"Robbery"))
    if name.endswith(".CSV"):  # the names do not say which is later: the newer file is
        os.utime(original, ns=(1_000_000_000_000_000_000,) * 2)
    read = read_police(tmp_path)
    assert read.accepted.num_rows == 3  # two ASB incidents and one crime, not 4 and 1
    assert set(read.accepted.column("source_file").to_pylist()) == {f"police_uk/2014-01/{name}"}
    assert set(read.accepted.column("crime_type").to_pylist()) == {
        "Anti-social behaviour",
        "Robbery",
    }
    aside = read.set_aside.to_pylist()
    assert [row["reason_code"] for row in aside] == ["superseded"] * 3
    assert aside[0]["reason"] == (
        f"Thames Valley Police for 2014-01 is loaded from police_uk/2014-01/{name}, a later "
        "delivery of the same force and month"
    )


def test_a_broken_street_re_download_leaves_the_first_download_loaded(tmp_path: Path) -> None:
    original = write_street_file(tmp_path, "2014-01", police_rows())
    original.with_name("2014-01-thames-valley-street (1).csv").write_bytes(b"")
    read = read_police(tmp_path)
    assert set(read.accepted.column("source_file").to_pylist()) == {
        "police_uk/2014-01/2014-01-thames-valley-street.csv"
    }
    assert read.accepted.num_rows == 3


def test_a_street_re_download_that_loads_no_row_leaves_the_first_download_loaded(
    tmp_path: Path,
) -> None:
    """A re-download of January whose rows all say another month (a February file saved under
    January's name) would leave Thames Valley's January with nothing: it is held back."""
    original = write_street_file(tmp_path, "2014-01", police_rows())
    alone = read_police(tmp_path)
    again = original.with_name("2014-01-thames-valley-street (1).csv")
    again.write_bytes(original.read_bytes().replace(b",2014-01,", b",2014-02,"))

    read = read_police(tmp_path)

    assert read.accepted.equals(alone.accepted)
    log = {line["source_file"]: line for line in read.load_log.to_pylist()}
    held = log[f"police_uk/2014-01/{again.name}"]
    assert (held["status"], held["rows_read"], held["rows_loaded"]) == ("quarantined", 3, 0)
    assert held["message"] == (
        "none of its 3 row(s) can be loaded (see set_aside), so it does not replace "
        "police_uk/2014-01/2014-01-thames-valley-street.csv, which stays loaded"
    )
    assert reasons(read, f"police_uk/2014-01/{again.name}") == {"month_outside_file"}
    assert log["police_uk/2014-01/2014-01-thames-valley-street.csv"]["status"] == "loaded"
    assert audit(police_uk.build_contract(), "2013-10-01", read).passed


def test_a_re_download_of_another_forces_file_loading_nothing_either_way_is_not_held_back(
    tmp_path: Path,
) -> None:
    """Files of a force outside the county load no row, the first download or the second:
    the second replaces the first as any re-download does, and nothing is quarantined."""
    original = write_street_file(tmp_path, "2014-01", police_rows())
    surrey = original.with_name("2014-01-surrey-street.csv")
    surrey.write_bytes(
        original.read_bytes()
        .replace(b"Thames Valley Police", b"Surrey Police")
        .replace(b"Cherwell", b"Guildford")
        .replace(b"a" * 64, b"c" * 64)
    )
    again = surrey.with_name("2014-01-surrey-street (1).csv")
    again.write_bytes(surrey.read_bytes().replace(b"Burglary", b"Robbery"))

    read = read_police(tmp_path)

    log = {line["source_file"]: line for line in read.load_log.to_pylist()}
    assert {name: line["status"] for name, line in log.items()} == {
        "police_uk/2014-01/2014-01-thames-valley-street.csv": "loaded",
        "police_uk/2014-01/2014-01-surrey-street.csv": "superseded",
        f"police_uk/2014-01/{again.name}": "loaded",
    }
    assert reasons(read, f"police_uk/2014-01/{again.name}") == {"outside_area"}
    assert read.accepted.num_rows == 3


def test_a_file_named_otherwise_in_a_month_folder_is_rejected_not_passed_over(
    tmp_path: Path,
) -> None:
    original = write_street_file(tmp_path, "2014-01", police_rows())
    original.with_name("thames valley jan.csv").write_bytes(original.read_bytes() + b"\r\n")
    shutil.copyfile(original, original.with_name("2014-01-thames-valley-outcomes.csv"))
    read = read_police(tmp_path)
    lines = {row["source_file"]: row for row in read.load_log.to_pylist()}
    assert set(lines) == {
        "police_uk/2014-01/2014-01-thames-valley-street.csv",
        "police_uk/2014-01/thames valley jan.csv",
    }
    rejected = lines["police_uk/2014-01/thames valley jan.csv"]
    assert rejected["status"] == "rejected"
    assert rejected["message"] == (
        "the file name is not YYYY-MM-<force>-street.csv, as data.police.uk names street "
        "files; if it is one, rename it"
    )
    assert rejected["period_start"].isoformat() == "2014-01-01"


def test_two_forces_of_the_same_month_are_both_loaded(tmp_path: Path) -> None:
    original = write_street_file(tmp_path, "2014-01", police_rows())
    other_force = original.with_name("2014-01-hampshire-street.csv")
    other_force.write_bytes(
        original.read_bytes()
        .replace(b"Thames Valley Police", b"Hampshire Constabulary")
        .replace(b"a" * 64, b"b" * 64)
    )
    read = read_police(tmp_path)
    assert read.accepted.num_rows == 6
    assert read.set_aside.num_rows == 0


@pytest.mark.parametrize(
    ("name", "rank"),
    [
        ("x_2013-14_Q2.csv", (1, 0, 0)),
        ("x_2013-14_Q2_v2.csv", (2, 0, 0)),
        ("x_2013-14_Q2 version 3.csv", (3, 0, 0)),
        ("x_2013-14_Q2_rev10.csv", (10, 0, 0)),
        ("x_2013-14_Q2_REVISED.csv", (1, 1, 0)),
        ("x_2013-14_Q2 amended.xlsx", (1, 1, 0)),
        ("x_2013-14_Q2 (2).csv", (1, 0, 2)),
        ("tvp_s27_directions_2013-14_Q2.csv", (1, 0, 0)),  # no mark inside other words
        ("vale_of_white_horse_2013-14_Q2.csv", (1, 0, 0)),
        ("x_2013-14_Q2_replacement.csv", (1, 1, 0)),
        ("x_2013-14_Q2 resubmission.csv", (1, 1, 0)),
        ("x_2013-14_Q2_Correction.json", (1, 1, 0)),
        ("x_2013-14_Q2_update.csv", (1, 1, 0)),
        ("x_2013-14_Q2_corrections.csv", (1, 1, 0)),
        ("x_2013-14_Q2_amendments.csv", (1, 1, 0)),
        ("x_2013-14_Q2_resubmit.csv", (1, 1, 0)),
        ("TVP_HateCrimeCorrected_2013-14_Q2.csv", (1, 1, 0)),
        ("x_2013-14_Q2_unamended.csv", (1, 0, 0)),
        ("x_2013-14_Q2_origin_corrected.csv", (1, 1, 0)),
        # Names an analyst gives the bad delivery a correction replaced: no correction mark.
        ("x_2013-14_Q2_incorrect.json", (1, 0, 0)),
        ("x_2013-14_Q2_uncorrected.csv", (1, 0, 0)),
        ("x_2013-14_Q2_not corrected.csv", (1, 0, 0)),
        ("x_2013-14_Q2_replaced.csv", (1, 0, 0)),
        ("x_2013-14_Q2_before_update.csv", (1, 0, 0)),
    ],
)
def test_delivery_rank_reads_the_marks_partners_use(name: str, rank: tuple[int, int, int]) -> None:
    assert delivery_rank(Path(name)) == rank


@pytest.mark.parametrize("old_name", ["_incorrect", "_uncorrected", "_replaced"])
def test_an_old_delivery_renamed_as_wrong_does_not_replace_the_correction(
    tmp_path: Path, old_name: str
) -> None:
    """The analyst renames the bad first export before saving the complete re-export under the
    plain name: the word marking the old file is no correction mark, so the later file is
    loaded (and a warning says the names did not tell)."""
    old = deliver(tmp_path, HATE_Q2, f"tvp_hate_2013-14_Q2{old_name}.csv")
    bump_first_total(old)
    correction = deliver(tmp_path, HATE_Q2)
    os.utime(old, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    os.utime(correction, ns=(2_000_000_000_000_000_000, 2_000_000_000_000_000_000))
    read = read_source("tvp_hate_crime", tmp_path)
    old_file = old.relative_to(tmp_path).as_posix()
    assert loaded_files(read) == {HATE_Q2}
    statuses = {line["source_file"]: line["status"] for line in read.load_log.to_pylist()}
    assert statuses == {HATE_Q2: "loaded", old_file: "superseded"}
    deliver(tmp_path / "alone", HATE_Q2)
    assert read.accepted.equals(read_source("tvp_hate_crime", tmp_path / "alone").accepted)
    [warning] = read.warnings
    assert warning.startswith(f"{HATE_Q2} and {old_file} deliver the same period")


def test_a_copy_named_for_another_quarter_is_not_taken_for_a_duplicate(tmp_path: Path) -> None:
    """Q2's extract first sent misnamed as Q3, then the same bytes named Q2, then the real Q3:
    the Q2 file is read as Q2's delivery, not logged as a copy of the misnamed file (which the
    real Q3 supersedes), so no quarter is lost."""
    misnamed = deliver(tmp_path, HATE_Q2, "tvp_hate_2013-14_Q3.csv")
    os.utime(misnamed, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    deliver(tmp_path, HATE_Q2)
    deliver(tmp_path, "tvp_hate_crime/tvp_hate_2013-14_Q3.csv", "tvp_hate_2013-14_Q3_v2.csv")
    read = read_source("tvp_hate_crime", tmp_path)
    alone = tmp_path / "alone"
    deliver(alone, HATE_Q2)
    deliver(alone, "tvp_hate_crime/tvp_hate_2013-14_Q3.csv")
    statuses = {line["source_file"]: line["status"] for line in read.load_log.to_pylist()}
    assert statuses == {
        HATE_Q2: "loaded",
        "tvp_hate_crime/tvp_hate_2013-14_Q3.csv": "superseded",
        "tvp_hate_crime/tvp_hate_2013-14_Q3_v2.csv": "loaded",
    }
    months = sorted({str(month) for month in read.accepted.column("month").to_pylist()})
    assert months == [f"2013-{month:02d}-01" for month in range(7, 13)]
    assert read.accepted.num_rows == read_source("tvp_hate_crime", alone).accepted.num_rows


def test_a_copy_of_a_superseded_delivery_does_not_say_it_is_loaded(tmp_path: Path) -> None:
    original = deliver(tmp_path, HATE_Q2)
    resent = deliver(tmp_path, HATE_Q2, "tvp_hate_2013-14_Q2 (resent).csv")
    os.utime(original, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    os.utime(resent, ns=(2_000_000_000_000_000_000, 2_000_000_000_000_000_000))
    bump_first_total(deliver(tmp_path, HATE_Q2, "tvp_hate_2013-14_Q2_v2.csv"))
    read = read_source("tvp_hate_crime", tmp_path)
    lines = {line["source_file"]: line for line in read.load_log.to_pylist()}
    assert lines[HATE_Q2]["status"] == "superseded"
    copy = lines["tvp_hate_crime/tvp_hate_2013-14_Q2 (resent).csv"]
    assert (copy["status"], copy["rows_read"]) == ("duplicate", 0)
    assert copy["message"] == (
        f"identical (same SHA-256) to {HATE_Q2}, which is superseded (see its load-log line); "
        "not read again"
    )
    assert loaded_files(read) == {"tvp_hate_crime/tvp_hate_2013-14_Q2_v2.csv"}


def drop_last_row(path: Path) -> None:
    """A correction that withdraws the file's last record (which may span lines)."""
    with path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(records[:-1])


@pytest.mark.parametrize(
    ("source_id", "original", "correction"),
    [
        (
            "stop_hate_uk",
            "stop_hate_uk/stop_hate_uk_2013-14_Q1.csv",
            "stop_hate_uk_2013-14_Q1_v2.csv",
        ),
        (
            "tvp_s27_directions",
            "tvp_s27_directions/tvp_s27_directions_2013-14_Q2.csv",
            "tvp_s27_directions_2013-14_Q2 corrected.csv",
        ),
        (
            "district_flytipping_returns",
            "district_flytipping_returns/flytipping_returns_2013-14_Q2.csv",
            "flytipping_returns_2013-14_Q2_revised.csv",
        ),
    ],
)
def test_a_correction_replaces_its_quarter_instead_of_adding_to_it(
    tmp_path: Path, source_id: str, original: str, correction: str
) -> None:
    deliver(tmp_path, original)
    alone = read_source(source_id, tmp_path)
    corrected = deliver(tmp_path, original, correction)
    drop_last_row(corrected)
    read = read_source(source_id, tmp_path)
    corrected_file = corrected.relative_to(tmp_path).as_posix()
    assert loaded_files(read) == {corrected_file}
    assert read.accepted.num_rows == alone.accepted.num_rows - 1
    assert reasons(read, original) == {"superseded"}
    assert reasons(read, corrected_file) == reasons(alone, original) - {"superseded"}
    superseded = next(row for row in read.set_aside.to_pylist() if row["source_file"] == original)
    assert superseded["reason"].endswith(
        f"is loaded from {corrected_file}, a later delivery of the same quarter"
    )


def test_the_replaced_file_is_logged_as_superseded_not_held_back(tmp_path: Path) -> None:
    deliver(tmp_path, HATE_Q2)
    bump_first_total(deliver(tmp_path, HATE_Q2, "tvp_hate_2013-14_Q2_v2.csv"))
    batch = audit(
        SPECS["tvp_hate_crime"].build_contract(), "all", read_source("tvp_hate_crime", tmp_path)
    )
    lines = {line["source_file"]: line for line in batch.read.load_log.to_pylist()}
    original = lines[HATE_Q2]
    assert (original["status"], original["rows_read"], original["rows_set_aside"]) == (
        "superseded",
        30,
        30,
    )
    assert original["message"] == (
        "2013-14 Q2 is loaded from tvp_hate_crime/tvp_hate_2013-14_Q2_v2.csv, a later delivery "
        "of the same quarter"
    )
    assert lines["tvp_hate_crime/tvp_hate_2013-14_Q2_v2.csv"]["status"] == "loaded"
    assert batch.passed
    assert batch.held_back == []


def test_a_copy_of_a_file_the_quality_gate_quarantines_says_so(tmp_path: Path) -> None:
    """Q1's export sent again as Q2 loads no Q2 row, so the quality gate quarantines it; its
    browser copy's duplicate line must not go on saying it 'is loaded'."""
    cherwell_q1 = CHERWELL_Q2.replace("_Q2", "_Q1")
    misnamed = deliver(tmp_path, cherwell_q1, Path(CHERWELL_Q2).name)
    shutil.copyfile(misnamed, misnamed.with_name(f"{misnamed.stem} (1).csv"))

    batch = audit(
        SPECS["council_asb_complaints"].build_contract(),
        "all",
        read_source("council_asb_complaints", tmp_path),
    )

    log = {line["source_file"]: line for line in batch.read.load_log.to_pylist()}
    assert log[CHERWELL_Q2]["status"] == "quarantined"
    copy = log[CHERWELL_Q2.replace(".csv", " (1).csv")]
    assert (copy["status"], copy["message"]) == (
        "duplicate",
        f"identical (same SHA-256) to {CHERWELL_Q2}, which is quarantined (see its load-log "
        "line); not read again",
    )
