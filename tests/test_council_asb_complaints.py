"""District council noise and waste complaints: four declared layouts, one generic reader."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest
from conftest import SAMPLE_RAW_DIR
from openpyxl import Workbook
from test_refresh import query, refresh

from oscp_pipeline.sources import council_asb_complaints as complaints
from oscp_pipeline.sources.base import (
    Column,
    FileRead,
    row_accounting_failures,
    withheld_value,
)
from oscp_pipeline.sources.council_asb_layouts import (
    CHERWELL,
    LAYOUTS,
    REFERENCE_SHAPE,
    SOUTH_AND_VALE,
    CouncilLayout,
    is_case_reference,
)

FOLDER = "council_asb_complaints"
CHERWELL_HEADER = ["Reference", "Date Received", "Service", "Complaint Category", "Ward"]
CHERWELL_ROWS = [
    ["EH/13/1", "2013-07-04", "Noise", "Music", "Banbury \u2013 Ruscote"],
    ["EH/13/2", "2013-07-05", "Waste", "Side Waste", "Bicester West"],
    ["EH/13/3", "2013-08-01", "Noise", "Fireworks", "Bicester West"],
    ["EH/13/4", "31/08/2013", "Noise", "Music", "Kidlington South"],
    ["EH/13/5", "2013-06-30", "Noise", "Music", "Kidlington South"],
    ["EH/13/6", "2013-07-06", "Waste", "Music", "Banbury Grimsbury"],
    ["EH/13/7", "2013-07-07", "Pest Control", "Music", "Banbury Grimsbury"],
    ["", "2013-07-08", "Noise", "DIY", "Bicester West"],
    ["EH/13/1", "2013-07-09", "Noise", "DIY", "Bicester West"],
    ["EH/13/8", "2013-09-30", "noise", " dog  barking ", "Bicester West"],
]
CHERWELL_FILE = f"{FOLDER}/cherwell/cherwell_complaints_2013-14_Q2.csv"


def write_csv(
    raw: Path,
    relative: str,
    header: list[str],
    rows: list[list[str]],
    encoding: str = "utf-8",
    trailer: str = "",
) -> Path:
    path = raw / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes((buffer.getvalue() + trailer).encode(encoding))
    return path


def reasons(read: FileRead) -> list[tuple[int, str, str]]:
    return [
        (r["row_number"], r["reason_code"], r["reason"])
        for r in read.set_aside.to_pylist()
        if r["reason_code"] != "totals_line"
    ]


def test_the_sample_is_read_in_all_four_layouts_with_every_row_accounted_for() -> None:
    read = complaints.read_all(SAMPLE_RAW_DIR)
    assert row_accounting_failures(read) == []
    assert read.warnings == []
    log = read.load_log.to_pylist()
    assert len(log) == 64 and {line["status"] for line in log} == {"loaded"}
    encodings = {line["source_file"].split("/")[1]: line["encoding"] for line in log}
    assert encodings == {
        "cherwell": "utf-8",
        "oxford": "xlsx",
        "south_and_vale": "utf-8",
        "west_oxfordshire": "cp1252",
    }
    assert Counter(read.set_aside["reason_code"].to_pylist()) == {
        "totals_line": 16,
        "unknown_category": 4,
        "date_outside_file": 1,
        "invalid_date": 1,
        "duplicate_reference": 1,
        "unknown_district": 1,
    }
    by_code = {r["reason_code"]: r for r in read.set_aside.to_pylist()}
    assert by_code["unknown_category"]["reason"] == (
        "category 'Fireworks' in column 'Complaint Category' is not in the Cherwell layout's "
        "category map"
    )
    assert by_code["invalid_date"]["reason"] == (
        "column 'Date Received': '31/09/2012' is not a date in the declared format(s) "
        "%d/%m/%Y, %Y-%m-%d"
    )
    rows = read.accepted.to_pylist()
    assert len(rows) == 15069
    assert {r["council_layout"] for r in rows} == {layout.layout_id for layout in LAYOUTS}

    def noise_in(year: int) -> int:
        start, end = dt.date(year, 4, 1), dt.date(year + 1, 4, 1)
        return sum(r["service"] == "noise" and start <= r["month"] < end for r in rows)

    assert 1.10 <= noise_in(2013) / noise_in(2012) <= 1.20  # domestic noise rose in 2013-14


def test_each_set_aside_row_names_the_column_the_value_and_what_was_expected(
    tmp_path: Path,
) -> None:
    write_csv(tmp_path, CHERWELL_FILE, CHERWELL_HEADER, CHERWELL_ROWS, trailer="EH/13/9,2013\r\n")
    read = complaints.read_all(tmp_path)
    accepted = read.accepted.to_pylist()
    assert [
        (r["reference"], r["date_received"], r["service"], r["category"], r["row_number"])
        for r in accepted
    ] == [
        ("EH/13/1", dt.date(2013, 7, 4), "noise", "music", 2),
        ("EH/13/2", dt.date(2013, 7, 5), "waste", "side_waste", 3),
        ("EH/13/8", dt.date(2013, 9, 30), "noise", "barking_dog", 11),
    ]
    assert {(r["area_code"], r["council_layout"]) for r in accepted} == {
        ("E07000177", "cherwell_csv")
    }
    assert accepted[2]["category_published"] == "dog  barking"
    assert reasons(read) == [
        (
            4,
            "unknown_category",
            "category 'Fireworks' in column 'Complaint Category' is not in the Cherwell "
            "layout's category map",
        ),
        (
            5,
            "invalid_date",
            "column 'Date Received': '31/08/2013' is not a date in the declared format(s) %Y-%m-%d",
        ),
        (
            6,
            "date_outside_file",
            "column 'Date Received': 2013-06-30 is outside the quarter the file covers "
            "(2013-14 Q2, 2013-07-01 to 2013-09-30)",
        ),
        (
            7,
            "service_mismatch",
            "column 'Service' says 'Waste' (waste) but category 'Music' is a noise category in "
            "the Cherwell layout's map",
        ),
        (
            8,
            "unknown_service",
            "service 'Pest Control' in column 'Service' is not in the Cherwell layout's "
            "service map",
        ),
        (9, "missing_reference", "column 'Reference' is blank"),
        (
            10,
            "duplicate_reference",
            f"reference 'EH/13/1' in column 'Reference' was already loaded for Cherwell from "
            f"{CHERWELL_FILE} row 2",
        ),
        (12, "malformed_row", "row has 2 fields; the header has 5"),
    ]
    # The ward is not loaded, so the record leaves it out.
    assert json.loads(read.set_aside.to_pylist()[0]["record"]) == dict(
        zip(CHERWELL_HEADER[:-1], CHERWELL_ROWS[2][:-1], strict=True)
    )
    (line,) = read.load_log.to_pylist()
    assert (line["period_start"], line["period_end"]) == (dt.date(2013, 7, 1), dt.date(2013, 9, 30))
    assert (line["rows_read"], line["rows_loaded"], line["rows_set_aside"]) == (11, 3, 8)
    assert row_accounting_failures(read) == []


def test_header_order_case_bom_and_encoding_leave_the_accepted_rows_unchanged(
    tmp_path: Path,
) -> None:
    write_csv(tmp_path / "a", CHERWELL_FILE, CHERWELL_HEADER, CHERWELL_ROWS)
    baseline = complaints.read_all(tmp_path / "a")
    order = [4, 2, 0, 3, 1]
    shuffled = [[row[i] for i in order] for row in CHERWELL_ROWS]
    header = [f" {CHERWELL_HEADER[i].upper()}  " for i in order]
    write_csv(tmp_path / "b", CHERWELL_FILE, header, shuffled, encoding="cp1252")
    path = write_csv(tmp_path / "c", CHERWELL_FILE, header, shuffled)
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    for variant, encoding in (("b", "cp1252"), ("c", "utf-8-sig")):
        read = complaints.read_all(tmp_path / variant)
        assert read.accepted.equals(baseline.accepted)
        assert reasons(read) == reasons(baseline)
        assert read.load_log["encoding"].to_pylist() == [encoding]
    # Cherwell sends UTF-8: a Windows-1252 file is read all the same, and noted.
    assert complaints.read_all(tmp_path / "b").warnings == [
        f"{CHERWELL_FILE}: arrived as cp1252; the Cherwell layout expects utf-8 or utf-8-sig"
    ]


WEST_HEADER = ["Complaint ID", "Date Logged", "Service", "Complaint Type", "Ward"]
WEST_ROWS = [
    ["1001", "04/07/2013", "Noise", "Noise \u2013 music", "Witney Central"],
    ["1002", "05/07/2013", "Waste", "Waste \u2013 side waste", "Caf\u00e9 Quarter"],
    ["1003", "06/07/2013", "Noise", "Noise - music", "Eynsham"],
]
WEST_FILE = f"{FOLDER}/west_oxfordshire/wodc_noise_waste_2013-14_Q2.csv"


@pytest.mark.parametrize("totals", ["Total,,,,3", "3,,,,Total", "TOTAL complaints: 3"])
def test_a_totals_line_is_checked_against_the_rows_and_not_loaded(
    tmp_path: Path, totals: str
) -> None:
    write_csv(tmp_path, WEST_FILE, WEST_HEADER, WEST_ROWS, "cp1252", trailer=totals + "\r\n")
    read = complaints.read_all(tmp_path)
    assert [(r["category"], r["row_number"]) for r in read.accepted.to_pylist()] == [
        ("music", 2),
        ("side_waste", 3),
    ]
    assert read.warnings == []
    assert [
        (r["row_number"], r["reason_code"], r["reason"]) for r in read.set_aside.to_pylist()
    ] == [
        (
            4,
            "unknown_category",
            "category 'Noise - music' in column 'Complaint Type' is not in the West Oxfordshire "
            "layout's category map",
        ),
        (
            5,
            "totals_line",
            "totals line: 3 complaints, agreeing with the 3 complaint rows above it; not "
            "loaded as data",
        ),
    ]
    (line,) = read.load_log.to_pylist()
    assert (line["encoding"], line["rows_read"], line["rows_loaded"]) == ("cp1252", 4, 2)
    assert row_accounting_failures(read) == []


def test_a_totals_line_that_disagrees_or_is_missing_rejects_the_file(tmp_path: Path) -> None:
    write_csv(tmp_path, WEST_FILE, WEST_HEADER, WEST_ROWS, "cp1252", trailer="Total,,,,57\r\n")
    (line,) = complaints.read_all(tmp_path).load_log.to_pylist()
    assert line["source_file"] == WEST_FILE
    assert (line["status"], line["message"]) == (
        "rejected",
        "totals line 5 states 57 complaints but the file has 3 complaint rows",
    )
    write_csv(tmp_path, WEST_FILE, WEST_HEADER, WEST_ROWS, "cp1252")
    (line,) = complaints.read_all(tmp_path).load_log.to_pylist()
    assert line["message"] == (
        "the West Oxfordshire layout ends with a totals line like 'Total,,,,57'; the last line "
        "(row 4, 5 fields) is not one"
    )


def test_oxford_workbook_reads_date_cells_and_day_first_text_and_keeps_no_notes(
    tmp_path: Path,
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Complaints"
    sheet.append(["Oxford City Council: Environmental Health noise and waste complaints"])
    sheet.append(["Quarter 2013-14 Q2"])
    sheet.append(["Case Ref", "Date Received", "Type", "Category", "Ward", "Details"])
    sheet.append(["OXF-1", dt.datetime(2013, 7, 4), "Noise", "Loud music", "Carfax", "Flat 2"])
    sheet.append(["OXF-2", "05/07/2013", "Waste", "Bins left out", "Jericho", ""])
    sheet.append(["OXF-3", "07/05/2013", "Noise", "Party", "Carfax", ""])
    sheet.append(["OXF-4", dt.datetime(2013, 7, 8), "Noise", "Noisy neighbours", "Iffley", "No 9"])
    path = tmp_path / FOLDER / "oxford" / "oxford_complaints_2013-14_Q2.xlsx"
    path.parent.mkdir(parents=True)
    workbook.save(path)
    read = complaints.read_all(tmp_path)
    assert [
        (r["reference"], r["date_received"], r["category"], r["row_number"])
        for r in read.accepted.to_pylist()
    ] == [
        ("OXF-1", dt.date(2013, 7, 4), "music", 4),
        ("OXF-2", dt.date(2013, 7, 5), "bins_on_street", 5),
    ]
    assert reasons(read) == [
        (
            6,
            "date_outside_file",
            "column 'Date Received': 2013-05-07 is outside the quarter the file covers "
            "(2013-14 Q2, 2013-07-01 to 2013-09-30)",
        ),
        (
            7,
            "unknown_category",
            "category 'Noisy neighbours' in column 'Category' is not in the Oxford layout's "
            "category map",
        ),
    ]
    # The officers' notes are a personal free-text field and the ward is not loaded: neither
    # is kept.
    records = [json.loads(r) for r in read.set_aside["record"].to_pylist()]
    assert all(list(r) == ["Case Ref", "Date Received", "Type", "Category"] for r in records)
    assert read.load_log["encoding"].to_pylist() == ["xlsx"]


def test_a_workbook_recording_too_small_a_used_range_is_still_read_whole(
    tmp_path: Path,
) -> None:
    """Some report writers record the used range as A1:A1: every row is read regardless."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Complaints"
    sheet.append(["Case Ref", "Date Received", "Type", "Category", "Ward"])
    for day in range(1, 21):
        sheet.append([f"OXF-{day}", dt.datetime(2013, 7, day), "Noise", "Loud music"])
    sheet.append(["OXF-21", dt.datetime(2013, 7, 21), "Noise", "Noisy neighbours", "Iffley"])
    written = tmp_path / "written.xlsx"
    workbook.save(written)
    path = tmp_path / FOLDER / "oxford" / "oxford_complaints_2013-14_Q2.xlsx"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data, found = re.subn(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:A1"', data)
                assert found == 1
            target.writestr(item, data)

    read = complaints.read_all(tmp_path)

    assert read.load_log["rows_read"].to_pylist() == [21]
    assert read.accepted.num_rows == 20  # the unknown category is set aside, as ever
    assert read.accepted["row_number"].to_pylist() == list(range(2, 22))
    assert reasons(read)[0][:2] == (22, "unknown_category")


SOUTH_AND_VALE_HEADER = ["Case Ref", "District", "Date Received", "Service", "Complaint Type"]
SOUTH_AND_VALE_ROWS = [
    ["SV1", "South Oxfordshire", "04/07/2013 10:15", "Noise", "Amplified music"],
    ["SV2", "Vale", "05/07/2013 11:00", "Waste", "Bins on highway"],
    ["SV3", "Vale of White Horse", "06/07/2013", "Noise Nuisance", "Dog barking"],
    ["SV4", "Didcot", "07/07/2013 09:30", "Noise", "Dog barking"],
]
SOUTH_AND_VALE_FILE = f"{FOLDER}/south_and_vale/south_and_vale_complaints_2013-14_Q2.csv"


def test_the_joint_south_and_vale_file_gives_each_row_its_district(tmp_path: Path) -> None:
    write_csv(tmp_path, SOUTH_AND_VALE_FILE, SOUTH_AND_VALE_HEADER, SOUTH_AND_VALE_ROWS)
    read = complaints.read_all(tmp_path)
    assert [(r["reference"], r["area_code"]) for r in read.accepted.to_pylist()] == [
        ("SV1", "E07000179"),
        ("SV2", "E07000180"),
        ("SV3", "E07000180"),
    ]
    assert reasons(read) == [
        (
            5,
            "unknown_district",
            "district 'Didcot' in column 'District' is not one of the South and Vale layout's "
            "districts (South Oxfordshire, Vale of White Horse)",
        )
    ]


def test_a_new_layout_is_a_declaration_and_dates_are_never_guessed(tmp_path: Path) -> None:
    """Cherwell's next case system exports workbooks whose dates may be month-first."""
    cherwell_2015 = CouncilLayout(
        layout_id="cherwell_xlsx",
        title="Cherwell (workbook)",
        council="Cherwell",
        file_glob="*.xlsx",
        file_type="xlsx",
        sheet="Export",
        encodings=("xlsx",),
        columns=(
            Column("reference", "Case", "Case number"),
            Column("date_received", "Opened", "Date the case was opened"),
            Column("category", "Problem", "Problem code"),
        ),
        date_formats=("%d/%m/%Y", "%m/%d/%Y"),
        district="Cherwell",
        categories={"NOISE-MUSIC": ("noise", "music"), "WASTE-SIDE": ("waste", "side_waste")},
    )
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Export"
    sheet.append(["Case", "Opened", "Problem"])
    sheet.append(["C1", "13/01/2014", "NOISE-MUSIC"])
    sheet.append(["C2", "01/14/2014", "WASTE-SIDE"])
    sheet.append(["C3", "02/03/2014", "NOISE-MUSIC"])
    path = tmp_path / FOLDER / "cherwell" / "cherwell_export_2013-14_Q4.xlsx"
    path.parent.mkdir(parents=True)
    workbook.save(path)
    write_csv(tmp_path, CHERWELL_FILE, CHERWELL_HEADER, CHERWELL_ROWS[:2])
    read = complaints.read_all(tmp_path, (CHERWELL, cherwell_2015))
    assert [
        (r["council_layout"], r["reference"], r["date_received"], r["category"])
        for r in read.accepted.to_pylist()
    ] == [
        ("cherwell_csv", "EH/13/1", dt.date(2013, 7, 4), "music"),
        ("cherwell_csv", "EH/13/2", dt.date(2013, 7, 5), "side_waste"),
        ("cherwell_xlsx", "C1", dt.date(2014, 1, 13), "music"),
        ("cherwell_xlsx", "C2", dt.date(2014, 1, 14), "side_waste"),
    ]
    assert reasons(read) == [
        (
            4,
            "invalid_date",
            "column 'Opened': '02/03/2014' is ambiguous: it could be 2014-02-03 or 2014-03-02",
        )
    ]


def test_a_layout_that_cannot_be_read_fails_when_it_is_declared() -> None:
    with pytest.raises(ValueError, match=r"category 'Bangers' maps to unknown \('noise', 'fire"):
        dataclasses.replace(CHERWELL, categories={"Bangers": ("noise", "fireworks")})
    no_district = tuple(c for c in SOUTH_AND_VALE.columns if c.name != "district")
    with pytest.raises(ValueError, match="either a fixed district or a district column"):
        dataclasses.replace(SOUTH_AND_VALE, columns=no_district)
    with pytest.raises(ValueError, match="district 'Oxford' is not in Cherwell"):
        dataclasses.replace(CHERWELL, district="Oxford")


def test_files_no_layout_reads_are_reported_and_a_name_without_a_quarter_is_rejected(
    tmp_path: Path,
) -> None:
    write_csv(tmp_path, f"{FOLDER}/cherwell/cherwell_complaints.csv", CHERWELL_HEADER, [])
    write_csv(tmp_path, f"{FOLDER}/cherwell/notes.txt", ["x"], [])
    write_csv(tmp_path, f"{FOLDER}/banbury/complaints_2013-14_Q2.csv", ["x"], [])
    write_csv(tmp_path, f"{FOLDER}/complaints_2013-14_Q2.csv", ["x"], [])
    read = complaints.read_all(tmp_path)
    assert read.warnings == [
        f"{FOLDER}/complaints_2013-14_Q2.csv: not read; each council's files go in its folder "
        "(cherwell, oxford, south_and_vale, west_oxfordshire)",
        f"{FOLDER}/banbury/: no council layout reads this folder",
        f"{FOLDER}/cherwell/notes.txt: not read; the layouts of this folder read *.csv",
    ]
    (line,) = read.load_log.to_pylist()
    assert (line["status"], line["message"]) == (
        "rejected",
        "the file name does not name the quarter it covers, like '_2013-14_Q2'",
    )


def test_refresh_counts_complaints_monthly_per_district_with_zeros_for_delivered_months(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_csv(raw, CHERWELL_FILE, CHERWELL_HEADER, CHERWELL_ROWS)
    write_csv(raw, SOUTH_AND_VALE_FILE, SOUTH_AND_VALE_HEADER, SOUTH_AND_VALE_ROWS)
    write_csv(raw, WEST_FILE, WEST_HEADER, WEST_ROWS, "cp1252", trailer="Total,,,,3\r\n")
    result = refresh(raw, wh, instance)
    assert result.success
    assert query(
        wh,
        """SELECT council_layout, area_code, count(*) FROM council_asb_complaints
           GROUP BY ALL ORDER BY 1, 2""",
    ) == [
        ("cherwell_csv", "E07000177", 3),
        ("south_and_vale_csv", "E07000179", 1),
        ("south_and_vale_csv", "E07000180", 2),
        ("west_oxfordshire_csv", "E07000181", 2),
    ]
    observations = query(
        wh,
        """SELECT measure_id, area_code, period_start, value FROM observations
           WHERE source_id = 'council_asb_complaints' AND value > 0 ORDER BY 1, 2, 3""",
    )
    noise, waste = "council_asb_complaints.domestic_noise", "council_asb_complaints.domestic_waste"
    july, september = dt.date(2013, 7, 1), dt.date(2013, 9, 1)
    assert observations == [
        (noise, "E07000177", july, 1.0),
        (noise, "E07000177", september, 1.0),
        (noise, "E07000179", july, 1.0),
        (noise, "E07000180", july, 1.0),
        (noise, "E07000181", july, 1.0),
        (waste, "E07000177", july, 1.0),
        (waste, "E07000180", july, 1.0),
        (waste, "E07000181", july, 1.0),
    ]
    # Zero-filled: 2 measures x 3 months x the 4 districts delivered; none for Oxford.
    assert query(
        wh,
        """SELECT count(*), count(DISTINCT area_code), sum(value), min(period_grain)
           FROM observations WHERE source_id = 'council_asb_complaints'""",
    ) == [(24, 4, 8.0, "month")]
    assert query(
        wh,
        """SELECT reason_code, count(*) FROM set_aside
           WHERE source_id = 'council_asb_complaints' GROUP BY 1 ORDER BY 1""",
    ) == [
        ("date_outside_file", 1),
        ("duplicate_reference", 1),
        ("invalid_date", 1),
        ("missing_reference", 1),
        ("service_mismatch", 1),
        ("totals_line", 1),
        ("unknown_category", 2),
        ("unknown_district", 1),
        ("unknown_service", 1),
    ]


def test_a_district_whose_rows_the_joint_file_could_not_place_is_not_available_not_zero(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    """Every Vale row of the joint file names its district in a spelling not in the aliases:
    those rows are set aside, and Vale's months (and South's months without a complaint, which
    may be among them) are not available rather than 0. A malformed row in a one-district
    file is still that district's: its zeros stand."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_csv(
        raw,
        SOUTH_AND_VALE_FILE,
        SOUTH_AND_VALE_HEADER,
        [
            ["SV1", "South Oxfordshire", "04/07/2013 10:15", "Noise", "Amplified music"],
            ["SV2", "Vale of White Horse DC", "05/07/2013 11:00", "Waste", "Bins on highway"],
            ["SV3", "Vale of White Horse DC", "06/08/2013", "Noise Nuisance", "Dog barking"],
        ],
    )
    cherwell = write_csv(raw, CHERWELL_FILE, CHERWELL_HEADER, [CHERWELL_ROWS[0]])
    cherwell.write_bytes(cherwell.read_bytes() + b"EH/13/9,2013-08-01\r\n")  # malformed
    assert refresh(raw, wh, instance).success
    assert query(
        wh,
        """SELECT source_file, reason_code, count(*) FROM set_aside
           WHERE source_id = 'council_asb_complaints' GROUP BY ALL ORDER BY ALL""",
    ) == [
        (CHERWELL_FILE, "malformed_row", 1),
        (SOUTH_AND_VALE_FILE, "unknown_district", 2),
    ]
    observations = query(
        wh,
        """SELECT area_code, split_part(measure_id, '.', 2), month(period_start), value,
                  value_status
           FROM observations WHERE source_id = 'council_asb_complaints' ORDER BY ALL""",
    )
    available = "not_available"
    assert observations == [
        ("E07000177", "domestic_noise", 7, 1.0, "reported"),
        ("E07000177", "domestic_noise", 8, 0.0, "reported"),
        ("E07000177", "domestic_noise", 9, 0.0, "reported"),
        ("E07000177", "domestic_waste", 7, 0.0, "reported"),
        ("E07000177", "domestic_waste", 8, 0.0, "reported"),
        ("E07000177", "domestic_waste", 9, 0.0, "reported"),
        ("E07000179", "domestic_noise", 7, 1.0, "reported"),
        ("E07000179", "domestic_noise", 8, None, available),
        ("E07000179", "domestic_noise", 9, None, available),
        ("E07000179", "domestic_waste", 7, None, available),
        ("E07000179", "domestic_waste", 8, None, available),
        ("E07000179", "domestic_waste", 9, None, available),
        ("E07000180", "domestic_noise", 7, None, available),
        ("E07000180", "domestic_noise", 8, None, available),
        ("E07000180", "domestic_noise", 9, None, available),
        ("E07000180", "domestic_waste", 7, None, available),
        ("E07000180", "domestic_waste", 8, None, available),
        ("E07000180", "domestic_waste", 9, None, available),
    ]


def shown(read: FileRead) -> str:
    """Everything a read hands on: every table's values and the warnings, as text."""
    tables = (read.accepted, read.set_aside, read.load_log)
    return "\n".join([*(str(table.to_pylist()) for table in tables), *read.warnings])


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        # Every layout's references, as in the sample.
        ("EH/13/00001", True),
        ("OXF-2013-Q1-0061", True),
        ("SV1310001", True),
        ("40000", True),
        ("EH/13/1", True),
        ("CDC_2013.0001", True),
        (" EH/13/00002 ", True),  # spaces around a reference are not part of it
        ("A" * 29 + "1", True),
        # Anything else may be a name or an address typed into the column.
        ("Mrs Jane Doe", False),
        ("EH 13 00001", False),
        ("Smith", False),  # no digit
        ("A" * 30 + "1", False),  # longer than 30 characters
        ("jane.doe@example.org", False),
        ("/13/0001", False),
    ],
)
def test_a_case_reference_is_a_short_code_holding_a_digit(reference: str, expected: bool) -> None:
    assert is_case_reference(reference) is expected


def test_a_reference_that_is_not_a_case_reference_is_set_aside_without_being_quoted(
    tmp_path: Path,
) -> None:
    name_and_address = "REFMARK Mrs Jane Doe 12 Acacia Ave"
    rows = [
        ["EH/13/1", "2013-07-04", "Noise", "Music", "Bicester West"],
        [name_and_address, "2013-07-05", "Noise", "Music", "Bicester West"],
        ["REFMARK-Smith", "2013-07-06", "Noise", "Music", "Bicester West"],
        ["REFMARK" + "1" * 24, "2013-07-07", "Noise", "Music", "Bicester West"],
    ]
    write_csv(tmp_path, CHERWELL_FILE, CHERWELL_HEADER, rows)
    read = complaints.read_all(tmp_path)

    assert "REFMARK" not in shown(read)
    assert read.accepted["reference"].to_pylist() == ["EH/13/1"]
    expected = f"is not a case reference, which is {REFERENCE_SHAPE}"
    assert reasons(read) == [
        (
            3,
            "invalid_reference",
            f"column 'Reference': {withheld_value(name_and_address)} {expected}",
        ),
        (4, "invalid_reference", f"column 'Reference': {withheld_value('R' * 13)} {expected}"),
        (5, "invalid_reference", f"column 'Reference': {withheld_value('R' * 31)} {expected}"),
    ]
    assert "a 34-character value (not shown: it may be personal)" in reasons(read)[0][2]
    assert [json.loads(r)["Reference"] for r in read.set_aside["record"].to_pylist()] == [
        "(not shown: a 34-character value that may be personal)",
        "(not shown: a 13-character value that may be personal)",
        "(not shown: a 31-character value that may be personal)",
    ]
    assert [r["Date Received"] for r in map(json.loads, read.set_aside["record"].to_pylist())] == [
        "2013-07-05",
        "2013-07-06",
        "2013-07-07",
    ]
    assert row_accounting_failures(read) == []


def test_a_set_aside_record_keeps_no_ward_and_no_free_text_typed_into_a_coded_column(
    tmp_path: Path,
) -> None:
    note = "CATMARK neighbour Jane Doe at 12 Acacia Ave shouting"
    withheld_note = f"(not shown: a {len(note)}-character value that may be personal)"
    rows = [
        ["EH/13/1", "2013-07-04", "Noise", "Karaoke", "WARDMARK 12 Acacia Ave Banbury"],
        ["EH/13/2", "2013-07-05", "Noise", note, "Bicester West"],
        ["EH/13/3", "2013-07-06", "SERVICEMARK Jane 07700 900123", "Music", "Bicester West"],
        ["EH/13/4", "2013-07-07", "Noise", "Music", "WARDMARK Flat 2, 14 High St"],
    ]
    write_csv(tmp_path, CHERWELL_FILE, CHERWELL_HEADER, rows)
    read = complaints.read_all(tmp_path)

    for marker in ("WARDMARK", "CATMARK", "SERVICEMARK"):
        assert marker not in shown(read)
    assert read.accepted["reference"].to_pylist() == ["EH/13/4"]
    assert reasons(read) == [
        # A short new label is still named, so the layout's map can be extended.
        (
            2,
            "unknown_category",
            "category 'Karaoke' in column 'Complaint Category' is not in the Cherwell layout's "
            "category map",
        ),
        (
            3,
            "unknown_category",
            f"a {len(note)}-character value (not shown: it may be personal) in column "
            "'Complaint Category' is not in the Cherwell layout's category map",
        ),
        (
            4,
            "unknown_service",
            "a 29-character value (not shown: it may be personal) in column 'Service' is not in "
            "the Cherwell layout's service map",
        ),
    ]
    records = [json.loads(r) for r in read.set_aside["record"].to_pylist()]
    assert records == [
        {
            "Reference": "EH/13/1",
            "Date Received": "2013-07-04",
            "Service": "Noise",
            "Complaint Category": "Karaoke",
        },
        {
            "Reference": "EH/13/2",
            "Date Received": "2013-07-05",
            "Service": "Noise",
            "Complaint Category": withheld_note,
        },
        {
            "Reference": "EH/13/3",
            "Date Received": "2013-07-06",
            "Service": "(not shown: a 29-character value that may be personal)",
            "Complaint Category": "Music",
        },
    ]
