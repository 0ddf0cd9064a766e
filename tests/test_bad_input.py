"""A corpus of broken extracts, generated here, for every source family.

Each case ends in one clear outcome: the whole file is held back with a message saying what was
expected and what was found, or the offending rows are set aside with a reason each and the rest
is loaded. Every case also checks that nothing else changed: the other file delivered alongside
loads exactly as it does on its own, and every row read is accounted for.
"""

from __future__ import annotations

import codecs
import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from conftest import SAMPLE_RAW_DIR

from oscp_pipeline.quality import AuditedBatch, audit
from oscp_pipeline.sources import SOURCES
from oscp_pipeline.sources.base import FileRead, SourceSpec, row_accounting_failures

SPECS = {spec.source_id: spec for spec in SOURCES}

# source -> (file to break, a neighbouring delivery of the same source), relative to data/raw.
CSV_FILES = {
    "police_uk": (
        "police_uk/2013-08/2013-08-thames-valley-street.csv",
        "police_uk/2013-07/2013-07-thames-valley-street.csv",
    ),
    "council_asb_complaints": (
        "council_asb_complaints/cherwell/cherwell_noise_waste_complaints_2013-14_Q3.csv",
        "council_asb_complaints/cherwell/cherwell_noise_waste_complaints_2013-14_Q2.csv",
    ),
    "district_flytipping_returns": (
        "district_flytipping_returns/flytipping_returns_2013-14_Q3.csv",
        "district_flytipping_returns/flytipping_returns_2013-14_Q2.csv",
    ),
    "tvp_hate_crime": (
        "tvp_hate_crime/tvp_hate_2013-14_Q3.csv",
        "tvp_hate_crime/tvp_hate_2013-14_Q2.csv",
    ),
    "stop_hate_uk": (
        "stop_hate_uk/stop_hate_uk_2013-14_Q4.csv",
        "stop_hate_uk/stop_hate_uk_2013-14_Q1.csv",
    ),
    "tvp_s27_directions": (
        "tvp_s27_directions/tvp_s27_directions_2013-14_Q3.csv",
        "tvp_s27_directions/tvp_s27_directions_2013-14_Q2.csv",
    ),
    "home_office_prc": (
        "home_office_prc/prc-csp-open-data-table-2011-12-to-2014-15.csv",
        "stop_hate_uk/stop_hate_uk_2013-14_Q1.csv",  # an independent source alongside
    ),
    "defra_flytipping": (  # its other release overlaps it, so an independent source alongside
        "defra_flytipping/flytipping_LA_incidents_2012-13_to_2014-15.csv",
        "stop_hate_uk/stop_hate_uk_2013-14_Q1.csv",
    ),
}


class Delivery:
    """A raw folder holding one file to break and a neighbouring file left as delivered."""

    def __init__(self, root: Path, source_id: str, broken: str, neighbour: str) -> None:
        self.raw = root / "raw"
        self.spec = SPECS[source_id]
        self.path = self.raw / broken
        self.neighbour = neighbour
        for relative in (broken, neighbour):
            (self.raw / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(SAMPLE_RAW_DIR / relative, self.raw / relative)
        alone = root / "alone"
        (alone / neighbour).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE_RAW_DIR / neighbour, alone / neighbour)
        self.neighbour_alone = read(SPECS[neighbour.split("/")[0]], alone)

    @property
    def source_file(self) -> str:
        return self.path.relative_to(self.raw).as_posix()

    def audited(self) -> AuditedBatch:
        """The read and audit a refresh runs, after checking nothing else changed."""
        batch = audit(self.spec.build_contract(), "all", self.spec.read_all(self.raw))
        assert row_accounting_failures(batch.read) == []
        assert batch.passed, batch.verdict.summary()
        neighbour_spec = SPECS[self.neighbour.split("/")[0]]
        neighbour = batch.read if neighbour_spec is self.spec else read(neighbour_spec, self.raw)
        assert rows_of(neighbour, self.neighbour) == rows_of(self.neighbour_alone, self.neighbour)
        return batch

    def line(self, batch: AuditedBatch) -> dict[str, object]:
        [line] = [
            line
            for line in batch.read.load_log.to_pylist()
            if line["source_file"] == self.source_file
        ]
        return line

    def set_aside(self, batch: AuditedBatch) -> list[tuple[int, str, str]]:
        rows = batch.read.set_aside.to_pylist()
        return [
            (row["row_number"], row["reason_code"], row["reason"])
            for row in rows
            if row["source_file"] == self.source_file
        ]


def read(spec: SourceSpec, raw: Path) -> FileRead:
    assert spec.read_all is not None
    return spec.read_all(raw)


def rows_of(read_result: FileRead, source_file: str) -> list[dict[str, object]]:
    rows = [r for r in read_result.accepted.to_pylist() if r["source_file"] == source_file]
    return sorted(rows, key=lambda row: row["row_number"])


@pytest.fixture(params=sorted(CSV_FILES))
def csv_delivery(request: pytest.FixtureRequest, tmp_path: Path) -> Delivery:
    broken, neighbour = CSV_FILES[request.param]
    return Delivery(tmp_path, request.param, broken, neighbour)


def rejected_with(delivery: Delivery, expected: str) -> None:
    batch = delivery.audited()
    line = delivery.line(batch)
    assert (line["status"], line["rows_read"], line["rows_loaded"]) == ("rejected", 0, 0)
    assert expected in str(line["message"]), line["message"]
    assert delivery.set_aside(batch) == []


# --- whole-file problems, every CSV source ------------------------------------------------------


def test_an_empty_file_is_rejected(csv_delivery: Delivery) -> None:
    csv_delivery.path.write_bytes(b"")
    rejected_with(csv_delivery, "the file is empty; expected a header row")


def test_a_header_only_file_loads_nothing_and_is_held_back_where_rows_are_required(
    csv_delivery: Delivery,
) -> None:
    header = csv_delivery.path.read_text(encoding="utf-8-sig").splitlines()[0]
    csv_delivery.path.write_text(header + "\r\n", encoding="utf-8")
    rows_required = any(
        e.kind == "row_count_between" for e in csv_delivery.spec.build_contract().expectations
    )
    batch = csv_delivery.audited()
    line = csv_delivery.line(batch)
    assert (line["rows_read"], line["rows_loaded"], line["rows_set_aside"]) == (0, 0, 0)
    if rows_required:  # e.g. a police month with no rows at all: suspect, held back
        assert line["status"] == "quarantined"
        assert "row(s) loaded from each file" in str(line["message"])
        assert str(line["message"]).endswith("found 0")
    else:  # section 27: no directions at all while the power was in force is not credible
        assert csv_delivery.spec.source_id == "tvp_s27_directions"
        assert line["status"] == "rejected"
        assert str(line["message"]).startswith(
            "the file has a header but no directions for 2013-14 Q3"
        )


def test_binary_garbage_is_rejected_as_not_text(csv_delivery: Delivery) -> None:
    csv_delivery.path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 16)
    rejected_with(csv_delivery, "the file is not text (it contains NUL bytes)")


def test_a_file_separated_by_semicolons_is_rejected_saying_so(csv_delivery: Delivery) -> None:
    text = csv_delivery.path.read_text(encoding="utf-8-sig")
    csv_delivery.path.write_text(text.replace(",", ";"), encoding="utf-8")
    rejected_with(csv_delivery, "the header is separated by semicolons, not commas")


def test_a_missing_required_column_is_rejected_naming_it(csv_delivery: Delivery) -> None:
    lines = csv_delivery.path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    position = 1  # every source requires its second column
    dropped = header[position]
    # Only rows whose fields can be split plainly (the samples quote no comma in these rows).
    kept = [line.split(",") for line in lines if line.count(",") == len(header) - 1]
    csv_delivery.path.write_text(
        "\n".join(",".join(f for i, f in enumerate(row) if i != position) for row in kept) + "\n",
        encoding="utf-8",
    )
    rejected_with(csv_delivery, "not found")
    assert dropped in str(csv_delivery.line(csv_delivery.audited())["message"])


def test_a_column_named_twice_is_rejected_naming_both_places(csv_delivery: Delivery) -> None:
    lines = csv_delivery.path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    # Only rows whose fields can be split plainly (the samples quote no comma in these rows).
    kept = [line.split(",") for line in lines if line.count(",") == len(header) - 1]
    csv_delivery.path.write_text(
        "\n".join(",".join([*row, row[1]]) for row in kept) + "\n", encoding="utf-8"
    )
    rejected_with(
        csv_delivery, f"the header row names a column more than once ('{header[1]}' in columns 2, "
    )
    assert "expected each column once" in str(csv_delivery.line(csv_delivery.audited())["message"])


def test_utf16_with_a_byte_order_mark_loads_like_the_original(csv_delivery: Delivery) -> None:
    before = csv_delivery.audited()
    text = csv_delivery.path.read_text(encoding="utf-8-sig")
    csv_delivery.path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    after = csv_delivery.audited()
    assert csv_delivery.line(after)["encoding"] == "utf-16"
    assert rows_of(after.read, csv_delivery.source_file) == rows_of(
        before.read, csv_delivery.source_file
    )


def test_a_truncated_last_line_is_set_aside_as_malformed(csv_delivery: Delivery) -> None:
    before = csv_delivery.audited()
    data = csv_delivery.path.read_bytes().rstrip(b"\r\n")
    last_line_start = data.rfind(b"\n") + 1
    last = data[last_line_start:]
    csv_delivery.path.write_bytes(data[: last_line_start + last.index(b",") + 1])
    after = csv_delivery.audited()
    line = csv_delivery.line(after)
    assert line["status"] == "loaded"
    last_row = int(csv_delivery.line(before)["rows_read"]) + 1
    aside = csv_delivery.set_aside(after)
    assert (last_row, "malformed_row") in [(number, code) for number, code, _ in aside]
    kept = [
        r for r in rows_of(before.read, csv_delivery.source_file) if r["row_number"] != last_row
    ]
    assert rows_of(after.read, csv_delivery.source_file) == kept


def test_a_megabyte_long_field_is_read_without_harm(csv_delivery: Delivery) -> None:
    before = csv_delivery.audited()
    lines = csv_delivery.path.read_text(encoding="utf-8-sig").splitlines()
    lines.insert(1, lines[1] + "," + "x" * 2_000_000)  # a row with one field too many
    csv_delivery.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    after = csv_delivery.audited()
    aside = csv_delivery.set_aside(after)
    assert [(number, code) for number, code, _ in aside if number == 2] == [(2, "malformed_row")]
    assert all(len(reason) < 1000 for _, _, reason in aside)
    shifted = [
        {**row, "row_number": row["row_number"] + 1}
        for row in rows_of(before.read, csv_delivery.source_file)
    ]
    assert rows_of(after.read, csv_delivery.source_file) == shifted


def test_the_same_file_delivered_twice_is_read_once(csv_delivery: Delivery) -> None:
    before = csv_delivery.audited()
    copy = csv_delivery.path.with_name("zz copy " + csv_delivery.path.name)
    if csv_delivery.spec.source_id == "police_uk":  # a re-download of the same month
        copy = csv_delivery.path.with_name(csv_delivery.path.stem + " (1).csv")
    shutil.copyfile(csv_delivery.path, copy)
    after = csv_delivery.audited()
    assert after.read.accepted.num_rows == before.read.accepted.num_rows
    [duplicate] = [line for line in after.read.load_log.to_pylist() if line["status"] != "loaded"]
    assert duplicate["source_file"] == copy.relative_to(csv_delivery.raw).as_posix()
    assert duplicate["message"] == (
        f"identical (same SHA-256) to {csv_delivery.source_file}, which is loaded; not read again"
    )


def test_a_header_cell_with_a_line_break_loads_like_the_original(csv_delivery: Delivery) -> None:
    """Excel writes a header cell typed with Alt+Enter quoted, a line break inside: the header
    is still one row, so the same rows load with the same row numbers."""
    before = csv_delivery.audited()
    header, rest = csv_delivery.path.read_text(encoding="utf-8-sig").split("\n", 1)
    cells = header.removesuffix("\r").split(",")
    spaced = next(index for index, cell in enumerate(cells) if " " in cell)
    cells[spaced] = '"' + cells[spaced].replace(" ", "\n", 1) + '"'
    ending = "\r\n" if header.endswith("\r") else "\n"
    csv_delivery.path.write_text(",".join(cells) + ending + rest, encoding="utf-8")
    after = csv_delivery.audited()
    assert csv_delivery.line(after)["status"] == "loaded"
    source_file = csv_delivery.source_file
    assert rows_of(after.read, source_file) == rows_of(before.read, source_file)
    assert csv_delivery.set_aside(after) == csv_delivery.set_aside(before)


# A delivery of each source whose year is no financial year: the file is rejected on its own.
IMPOSSIBLE_YEARS = {
    "stop_hate_uk": ("stop_hate_uk/stop_hate_uk_2014-15_Q4.csv", "stop_hate_uk_2014-16_Q4.csv"),
    "tvp_s27_directions": (
        "tvp_s27_directions/tvp_s27_directions_2013-14_Q1.csv",
        "tvp_s27_directions_2013-15_Q1.csv",
    ),
    "tvp_hate_crime": ("tvp_hate_crime/tvp_hate_2013-14_Q2.csv", "tvp_hate_2013-15_Q2.csv"),
}


@pytest.mark.parametrize("source_id", sorted(IMPOSSIBLE_YEARS))
def test_a_name_with_an_impossible_year_rejects_that_file_alone(
    tmp_path: Path, source_id: str
) -> None:
    delivered, misnamed = IMPOSSIBLE_YEARS[source_id]
    (tmp_path / delivered).parent.mkdir(parents=True)
    shutil.copyfile(SAMPLE_RAW_DIR / delivered, tmp_path / delivered)
    alone = read(SPECS[source_id], tmp_path)
    lines = (SAMPLE_RAW_DIR / delivered).read_bytes().splitlines(keepends=True)
    (tmp_path / source_id / misnamed).write_bytes(b"".join(lines[:-1]))  # not a byte copy
    result = read(SPECS[source_id], tmp_path)
    assert result.accepted.equals(alone.accepted)
    logged = {line["source_file"]: line for line in result.load_log.to_pylist()}
    assert logged[delivered]["status"] == "loaded"
    bad = logged[f"{source_id}/{misnamed}"]
    year = misnamed.split("_")[-2]
    assert (bad["status"], bad["rows_read"], bad["message"]) == (
        "rejected",
        0,
        f"the file name gives no valid quarter: financial year '{year}': {year[5:]} does not "
        f"follow {year[:4]}",
    )
    assert row_accounting_failures(result) == []


# A delivery of each source that lists its folder's files, saved with an extension the source
# does not read, and what the source reads.
UNREAD_EXTENSIONS = {
    "tvp_domestic_abuse": (
        "tvp_domestic_abuse/tvp_domestic_abuse_2013-14_Q2.xlsx",
        "tvp_domestic_abuse_2013-14_Q2.xlsm",
        ".xlsx",
    ),
    "tvp_hate_crime": ("tvp_hate_crime/tvp_hate_2013-14_Q2.csv", "tvp_hate_2013-14_Q2.txt", ".csv"),
    "stop_hate_uk": (
        "stop_hate_uk/stop_hate_uk_2013-14_Q2.json",
        "stop_hate_uk_2013-14_Q2.JSON.txt",
        ".csv or .json",
    ),
    "tvp_s27_directions": (
        "tvp_s27_directions/tvp_s27_directions_2013-14_Q2.csv",
        "tvp_s27_directions_2013-14_Q2.tsv",
        ".csv",
    ),
    "district_flytipping_returns": (
        "district_flytipping_returns/flytipping_returns_2013-14_Q2.csv",
        "flytipping_returns_2013-14_Q2.xls",
        ".csv",
    ),
    "home_office_prc": (
        "home_office_prc/prc-csp-open-data-table-2011-12-to-2014-15.csv",
        "prc-csp-open-data-table-2011-12-to-2014-15.ods",
        ".csv",
    ),
    "defra_flytipping": (
        "defra_flytipping/flytipping_LA_incidents_2011-12_to_2013-14.xlsx",
        "flytipping_LA_incidents_2011-12_to_2013-14.xlsb",
        ".csv or .xlsx",
    ),
}


@pytest.mark.parametrize("source_id", sorted(UNREAD_EXTENSIONS))
def test_a_file_with_an_extension_the_source_does_not_read_is_named_in_a_warning(
    tmp_path: Path, source_id: str
) -> None:
    delivered, renamed, reads = UNREAD_EXTENSIONS[source_id]
    folder = tmp_path / source_id
    folder.mkdir()
    shutil.copyfile(SAMPLE_RAW_DIR / delivered, folder / renamed)
    for made_by_the_system in (".DS_Store", "Thumbs.db", "desktop.ini", "~$lock.xlsm"):
        (folder / made_by_the_system).write_bytes(b"\x00")
    (folder / "archive").mkdir()
    result = read(SPECS[source_id], tmp_path)
    assert result.load_log.num_rows == 0
    assert [warning for warning in result.warnings if "not read" in warning] == [
        f"{source_id}/archive/: not read; the source reads only files directly in {source_id}/",
        f"{source_id}/{renamed}: not read; the source reads only {reads} files",
    ]


# --- row-level problems, one source per family ------------------------------------------------


def police(tmp_path: Path) -> Delivery:
    broken, neighbour = CSV_FILES["police_uk"]
    return Delivery(tmp_path, "police_uk", broken, neighbour)


def edit_row(delivery: Delivery, row_number: int, edit: Callable[[list[str]], list[str]]) -> None:
    """Change the fields of one data row (header = row 1) of a simple CSV."""
    lines = delivery.path.read_text(encoding="utf-8-sig").splitlines()
    lines[row_number - 1] = ",".join(edit(lines[row_number - 1].split(",")))
    delivery.path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def set_fields(**changes: str) -> Callable[[list[str]], list[str]]:
    positions = {"month": 1, "location": 6, "lsoa_name": 8, "crime_type": 9}

    def edit(fields: list[str]) -> list[str]:
        for name, value in changes.items():
            fields[positions[name]] = value
        return fields

    return edit


@pytest.mark.parametrize(
    ("changes", "reason_code", "reason"),
    [
        ({"lsoa_name": "Atlantis 001A"}, "outside_area",
         "LSOA 'Atlantis 001A' is in Atlantis, outside the Oxfordshire districts"),
        ({"month": "2013-11"}, "month_outside_file",
         "Month 2013-11 is outside the month the file covers (2013-08)"),
        ({"month": "2031-08"}, "month_outside_file",
         "Month 2031-08 is outside the month the file covers (2013-08)"),
        ({"month": "August"}, "invalid_month", "Month 'August' is not a YYYY-MM month"),
        ({"crime_type": "-12"}, "unknown_crime_type",
         "Crime type '-12' is not a data.police.uk category (see dim_crime_type)"),
    ],
)  # fmt: skip
def test_a_bad_row_is_set_aside_with_its_reason_and_the_rest_loads(
    tmp_path: Path, changes: dict[str, str], reason_code: str, reason: str
) -> None:
    delivery = police(tmp_path)
    before = delivery.audited()
    target = next(
        row["row_number"]
        for row in rows_of(before.read, delivery.source_file)
        if row["lsoa_name"].startswith("Cherwell") and row["crime_id"] is None
    )
    edit_row(delivery, target, set_fields(**changes))
    after = delivery.audited()
    assert (target, reason_code, reason) in delivery.set_aside(after)
    kept = [r for r in rows_of(before.read, delivery.source_file) if r["row_number"] != target]
    assert rows_of(after.read, delivery.source_file) == kept


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x";"y")', "+1-2", "-3+4", "@SUM(A1)"])
def test_text_starting_like_a_formula_is_loaded_as_plain_text(tmp_path: Path, text: str) -> None:
    delivery = police(tmp_path)
    before = delivery.audited()
    target = rows_of(before.read, delivery.source_file)[0]["row_number"]
    edit_row(delivery, target, set_fields(location=text))
    after = delivery.audited()
    [row] = [r for r in rows_of(after.read, delivery.source_file) if r["row_number"] == target]
    assert row["location"] == text


# --- counts: negative and not numbers --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-5", "column 'Incidents': '-5' is not a whole number of zero or more"),
        ("lots", "column 'Incidents': 'lots' is not a whole number of zero or more"),
        ("", "column 'Incidents': '' is not a whole number of zero or more"),
    ],
)
def test_a_negative_or_non_numeric_count_is_set_aside(
    tmp_path: Path, value: str, reason: str
) -> None:
    broken, neighbour = CSV_FILES["district_flytipping_returns"]
    delivery = Delivery(tmp_path, "district_flytipping_returns", broken, neighbour)
    before = delivery.audited()
    edit_row(delivery, 2, lambda fields: [*fields[:4], value])
    after = delivery.audited()
    assert [(n, code) for n, code, _ in delivery.set_aside(after)] == [(2, "invalid_count")]
    assert reason in delivery.set_aside(after)[0][2]
    kept = [r for r in rows_of(before.read, delivery.source_file) if r["row_number"] != 2]
    assert rows_of(after.read, delivery.source_file) == kept


# --- workbooks ---------------------------------------------------------------------------------

WORKBOOK = (
    "tvp_domestic_abuse/tvp_domestic_abuse_2013-14_Q3.xlsx",
    "tvp_domestic_abuse/tvp_domestic_abuse_2013-14_Q2.xlsx",
)


def workbook_delivery(tmp_path: Path) -> Delivery:
    return Delivery(tmp_path, "tvp_domestic_abuse", *WORKBOOK)


def rows_by_sheet(batch: AuditedBatch, workbook: str) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {}
    for row in batch.read.accepted.to_pylist():
        name, _, sheet = row["source_file"].partition("#")
        if name == workbook:
            rows.setdefault(sheet, []).append((row["month"], row["measure"], row["area_code"],
                                               row["value"]))  # fmt: skip
    return {sheet: sorted(values) for sheet, values in rows.items()}


def test_an_extra_sheet_in_a_workbook_is_ignored(tmp_path: Path) -> None:
    delivery = workbook_delivery(tmp_path)
    before = rows_by_sheet(delivery.audited(), delivery.source_file)
    book = openpyxl.load_workbook(delivery.path)
    extra = book.create_sheet("Notes")
    extra["A1"] = "Figures provisional; =SUM(A1) is not a formula here"
    book.save(delivery.path)
    after = delivery.audited()
    assert rows_by_sheet(after, delivery.source_file) == before


def test_a_header_moved_down_a_workbook_still_loads_the_same_figures(tmp_path: Path) -> None:
    delivery = workbook_delivery(tmp_path)
    before = rows_by_sheet(delivery.audited(), delivery.source_file)
    book = openpyxl.load_workbook(delivery.path)
    for sheet in book.worksheets:
        sheet.insert_rows(1, amount=3)
    book.save(delivery.path)
    after = delivery.audited()
    assert rows_by_sheet(after, delivery.source_file) == before
    numbers = {row["row_number"] for row in after.read.accepted.to_pylist()}
    assert min(numbers) >= 4 + 2  # Excel's row numbers, after the three inserted rows


def test_a_workbook_of_garbage_is_rejected(tmp_path: Path) -> None:
    delivery = workbook_delivery(tmp_path)
    delivery.path.write_bytes(b"PK\x03\x04 not really a zip" * 10)
    batch = delivery.audited()
    lines = [
        line
        for line in batch.read.load_log.to_pylist()
        if str(line["source_file"]).startswith(delivery.source_file)
    ]
    assert [(line["status"], line["rows_read"]) for line in lines] == [("rejected", 0)]
    assert "not readable as an XLSX workbook" in str(lines[0]["message"]), lines[0]["message"]
