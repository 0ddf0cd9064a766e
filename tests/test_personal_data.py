"""Personal data planted in any source's file reaches no table, reason, message or warning.

A name, phone number, date of birth or address can arrive in any extract, partner or open data:
in a row whose commas do not line up, in a file that lost its header row or the line break
after it, in a column a partner added, or in the label of a totals line. Whatever the source,
only the contract's columns of rows that parsed are kept; set-aside reasons, load-log messages
and warnings name the file, the row and counts instead of quoting what arrived.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import dagster as dg
import openpyxl
import pytest
from conftest import SAMPLE_RAW_DIR, read_delivered
from test_refresh import query, refresh
from test_stop_hate_uk import warehouse_text

from oscp_pipeline.sources import SOURCES
from oscp_pipeline.sources.base import WITHHELD_ROW_RECORD, FileRead, row_accounting_failures

SPECS = {spec.source_id: spec for spec in SOURCES}

NAME, PHONE, BIRTH_DATE, ADDRESS = "Jane Doe", "07700 900461", "14/03/1987", "22 Quillon Mews"
PLANTED = (NAME, PHONE, BIRTH_DATE, ADDRESS)
# Cells a careless export adds to a record: an unquoted comma splits the address in two.
PERSONAL_CELLS = f"{NAME},{PHONE},DOB {BIRTH_DATE},Flat 2, {ADDRESS}"
PERSONAL_CELL_COUNT = 5

# A sample delivery of every source read from CSV, relative to the raw folder.
CSV_FILES = {
    "police_uk": "police_uk/2013-08/2013-08-thames-valley-street.csv",
    "council_asb_complaints": (
        "council_asb_complaints/cherwell/cherwell_noise_waste_complaints_2013-14_Q3.csv"
    ),
    "district_flytipping_returns": "district_flytipping_returns/flytipping_returns_2013-14_Q3.csv",
    "tvp_hate_crime": "tvp_hate_crime/tvp_hate_2013-14_Q3.csv",
    "stop_hate_uk": "stop_hate_uk/stop_hate_uk_2013-14_Q4.csv",
    "tvp_s27_directions": "tvp_s27_directions/tvp_s27_directions_2013-14_Q3.csv",
    "home_office_prc": "home_office_prc/prc-csp-open-data-table-2011-12-to-2014-15.csv",
    "defra_flytipping": "defra_flytipping/flytipping_LA_incidents_2012-13_to_2014-15.csv",
}
WEST_OXFORDSHIRE_FILE = "council_asb_complaints/west_oxfordshire/wodc_noise_waste_2013-14_Q3.csv"
DOMESTIC_ABUSE_FILE = "tvp_domestic_abuse/tvp_domestic_abuse_2013-14_Q3.xlsx"


class SampleLines:
    """A sample CSV file as its lines (without line breaks) and the line break it uses."""

    def __init__(self, name: str) -> None:
        data = (SAMPLE_RAW_DIR / name).read_bytes()
        self.newline = b"\r\n" if b"\r\n" in data else b"\n"
        self.lines = data.rstrip(b"\r\n").split(self.newline)

    def joined(self, lines: list[bytes]) -> bytes:
        return self.newline.join(lines) + self.newline

    def fields(self, index: int) -> int:
        """How many fields line ``index`` has."""
        return len(next(csv.reader([self.lines[index].decode("utf-8", errors="replace")])))


def with_personal_cells(line: bytes) -> bytes:
    return line + b"," + PERSONAL_CELLS.encode()


def shown(read: FileRead) -> str:
    """Everything a read hands on: every table's values and the warnings, as text."""
    tables = (read.accepted, read.set_aside, read.load_log)
    return "\n".join([*(str(table.to_pylist()) for table in tables), *read.warnings])


def assert_nothing_planted(text: str) -> None:
    assert [value for value in PLANTED if value in text] == []


def log_line(read: FileRead, source_file: str) -> dict[str, object]:
    [line] = [line for line in read.load_log.to_pylist() if line["source_file"] == source_file]
    return line


@pytest.mark.parametrize("source_id", sorted(CSV_FILES))
def test_a_malformed_row_keeps_its_place_and_width_never_its_text(
    tmp_path: Path, source_id: str
) -> None:
    name = CSV_FILES[source_id]
    sample = SampleLines(name)
    content = sample.joined([*sample.lines, with_personal_cells(sample.lines[1])])
    read = read_delivered(tmp_path, source_id, {name: content})

    assert_nothing_planted(shown(read))
    [malformed] = [
        row for row in read.set_aside.to_pylist() if row["reason_code"] == "malformed_row"
    ]
    fields = sample.fields(1) + PERSONAL_CELL_COUNT
    assert malformed == {
        "source_id": source_id,
        "source_file": name,
        "row_number": len(sample.lines) + 1,
        "reason_code": "malformed_row",
        "reason": f"row has {fields} fields; the header has {sample.fields(0)}",
        "record": WITHHELD_ROW_RECORD,
    }
    assert json.loads(WITHHELD_ROW_RECORD) == {
        "note": "row text withheld: may contain personal data"
    }
    assert row_accounting_failures(read) == []


@pytest.mark.parametrize("source_id", sorted(CSV_FILES))
def test_a_file_without_its_header_row_is_rejected_without_quoting_its_first_record(
    tmp_path: Path, source_id: str
) -> None:
    name = CSV_FILES[source_id]
    sample = SampleLines(name)
    content = sample.joined([with_personal_cells(sample.lines[1]), *sample.lines[2:]])
    read = read_delivered(tmp_path, source_id, {name: content})

    assert_nothing_planted(shown(read))
    line = log_line(read, name)
    assert (line["status"], line["rows_read"]) == ("rejected", 0)
    cells = sample.fields(1) + PERSONAL_CELL_COUNT
    message = str(line["message"])
    assert message.startswith("required column(s) ")
    assert f"; the first row has {cells} cell(s), of which 0 are known headers (none); " in message
    assert message.endswith("cell(s) are not shown, as they may be a record's values")


def with_open_quote(line: bytes) -> bytes:
    """The line with a quote opened before its second field and never closed, and the
    personal cells after it: the quote takes them, and the lines below, into that field."""
    first, second, _ = line.split(b",", 2)
    return first + b',"' + second + b"," + PERSONAL_CELLS.encode()


def with_second_field_quoted(line: bytes) -> bytes:
    """The line with its second field quoted: its opening quote closes a quote left open."""
    first, second, rest = line.split(b",", 2)
    return first + b',"' + second + b'",' + rest


def open_quote_reason(name: str, header: str, first_line: int, last_line: int) -> str:
    return (
        f"{name} row 2: a quote opens in column 2 ('{header}') and is not closed on its line, "
        f"so the record runs from line {first_line} to line {last_line}; none of it is loaded "
        "and its text is withheld (it may hold personal data); expected a quoted value in this "
        "column to close on the line it opens: close the quote and deliver the file again"
    )


@pytest.mark.parametrize("source_id", sorted(CSV_FILES))
def test_a_quote_left_open_in_a_loaded_column_keeps_the_rows_personal_cells_out(
    tmp_path: Path, source_id: str
) -> None:
    """A quote opened in a loaded column and not closed on its line takes in the rest of the
    row (personal cells too) and the next line up to its first quote; the record still has the
    header's width. It is set aside as malformed, its text withheld, and the reason says which
    lines it runs over, since the next line is no row of its own."""
    name = CSV_FILES[source_id]
    sample = SampleLines(name)
    first, second, *others = sample.lines[1:]
    content = sample.joined(
        [sample.lines[0], with_open_quote(first), with_second_field_quoted(second), *others]
    )
    read = read_delivered(tmp_path, source_id, {name: content})

    assert_nothing_planted(shown(read))
    [malformed] = [
        row for row in read.set_aside.to_pylist() if row["reason_code"] == "malformed_row"
    ]
    header = next(csv.reader([sample.lines[0].decode()]))[1]
    assert malformed == {
        "source_id": source_id,
        "source_file": name,
        "row_number": 2,
        "reason_code": "malformed_row",
        "reason": open_quote_reason(name, header, 2, 3),
        "record": WITHHELD_ROW_RECORD,
    }
    assert log_line(read, name)["rows_read"] == len(sample.lines) - 2
    assert row_accounting_failures(read) == []


def test_a_quote_never_closed_says_it_took_in_every_line_after_it(tmp_path: Path) -> None:
    """With no quote after it, a quote left open runs its record to the end of the file: the
    reason says so, rather than only counting the record's fields."""
    name = CSV_FILES["tvp_s27_directions"]
    sample = SampleLines(name)
    content = sample.joined([sample.lines[0], with_open_quote(sample.lines[1]), *sample.lines[2:]])
    read = read_delivered(tmp_path, "tvp_s27_directions", {name: content})

    assert_nothing_planted(shown(read))
    assert [(r["row_number"], r["reason"]) for r in read.set_aside.to_pylist()] == [
        (
            2,
            open_quote_reason(name, "District", 2, len(sample.lines)).replace(
                "; none of it", ", with 2 fields where the header has 4; none of it"
            ),
        )
    ]
    line = log_line(read, name)
    assert (line["rows_read"], line["rows_loaded"], line["rows_set_aside"]) == (1, 0, 1)


DAMAGED_CELL_FILE = "council_asb_complaints/oxford/oxford_env_health_complaints_2013-14_Q2.xlsx"


def test_a_damaged_workbook_cell_is_named_by_its_place_never_its_text(tmp_path: Path) -> None:
    """openpyxl's message for a cell it cannot read quotes the cell's text: the rejection names
    the sheet, row and column and the kind of failure instead, and says what to do."""
    path = tmp_path / DAMAGED_CELL_FILE
    path.parent.mkdir(parents=True)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Complaints"
    sheet.append(["Case Ref", "Date Received", "Type", "Category", "Ward", "Details"])
    sheet.append(["EH1", "05/07/2013", "Noise", "Loud music", "Carfax", 12345])
    workbook.save(path)
    # A numeric cell holding text, as some report writers write one.
    damaged = io.BytesIO()
    with zipfile.ZipFile(path) as original, zipfile.ZipFile(damaged, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<v>12345</v>", f"<v>{NAME}, {ADDRESS}</v>".encode())
            copy.writestr(item, data)
    path.write_bytes(damaged.getvalue())
    read = read_delivered(tmp_path, "council_asb_complaints", {})

    assert_nothing_planted(shown(read))
    line = log_line(read, DAMAGED_CELL_FILE)
    assert (line["status"], line["message"]) == (
        "rejected",
        "sheet 'Complaints' is not a readable worksheet: reading failed at row 2, column F "
        "(cell F2) with ValueError (the reader's message is withheld: it can quote the file's "
        "contents); open the workbook in Excel, save it again as .xlsx and deliver it again",
    )


# Whether a header that runs into the first record still has every required column: it loses
# its last cell, which is then that header and the record's first value run together.
LOADED_WITHOUT_LAST_HEADER = {
    "police_uk": True,  # 'Context' is optional
    "council_asb_complaints": True,  # Cherwell's 'Ward' is optional
    "district_flytipping_returns": False,
    "tvp_hate_crime": False,
    "stop_hate_uk": True,  # 'Narrative' is a personal column, dropped
    "tvp_s27_directions": False,
    "home_office_prc": False,
    "defra_flytipping": True,  # the last column is not read
}


@pytest.mark.parametrize("source_id", sorted(CSV_FILES))
def test_a_header_that_lost_its_line_break_names_unknown_columns_by_position_only(
    tmp_path: Path, source_id: str
) -> None:
    name = CSV_FILES[source_id]
    sample = SampleLines(name)
    header_line = sample.lines[0] + with_personal_cells(sample.lines[1])
    read = read_delivered(
        tmp_path, source_id, {name: sample.joined([header_line, *sample.lines[2:]])}
    )

    assert_nothing_planted(shown(read))
    line = log_line(read, name)
    cells = sample.fields(0) + sample.fields(1) - 1 + PERSONAL_CELL_COUNT
    if LOADED_WITHOUT_LAST_HEADER[source_id]:
        assert line["status"] == "loaded"
        [warning] = read.warnings
        by_position = re.fullmatch(
            rf"{re.escape(name)}: ignored (\d+) unknown column\(s\): (column \d+(, )?)+", warning
        )
        assert by_position is not None, warning
        # Each planted cell is one unknown column, named by where it is in the header line.
        planted = ", ".join(f"column {cells - n}" for n in reversed(range(PERSONAL_CELL_COUNT)))
        assert warning.endswith(planted)
        # The shorter rows below no longer match the header: each is set aside, numbered.
        assert line["rows_set_aside"] == line["rows_read"] == len(sample.lines) - 2
    else:
        assert line["status"] == "rejected"
        assert f"the first row has {cells} cell(s), of which " in str(line["message"])
        assert read.warnings == []


def test_a_missing_totals_line_is_named_by_row_and_width_not_quoted(tmp_path: Path) -> None:
    sample = SampleLines(WEST_OXFORDSHIRE_FILE)
    *complaints, totals = sample.lines
    assert totals.startswith(b"Total,")
    last = with_personal_cells(b"45107,31/12/2013,Noise,Noise \x96 alarm,Witney Central")
    content = sample.joined([*complaints, last])
    read = read_delivered(tmp_path, "council_asb_complaints", {WEST_OXFORDSHIRE_FILE: content})

    assert_nothing_planted(shown(read))
    line = log_line(read, WEST_OXFORDSHIRE_FILE)
    assert (line["status"], line["message"]) == (
        "rejected",
        "the West Oxfordshire layout ends with a totals line like 'Total,,,,57'; the last line "
        f"(row {len(sample.lines)}, {5 + PERSONAL_CELL_COUNT} fields) is not one",
    )


def test_a_totals_line_keeps_only_the_count_it_states(tmp_path: Path) -> None:
    sample = SampleLines(WEST_OXFORDSHIRE_FILE)
    *complaints, totals = sample.lines
    count = totals.rsplit(b",", 1)[1].decode()
    labelled = f"Total complaints checked by {NAME}: {count}".encode()
    content = sample.joined([*complaints, labelled])
    read = read_delivered(tmp_path, "council_asb_complaints", {WEST_OXFORDSHIRE_FILE: content})

    assert_nothing_planted(shown(read))
    [aside] = [row for row in read.set_aside.to_pylist() if row["reason_code"] == "totals_line"]
    assert (aside["row_number"], aside["record"]) == (len(sample.lines), f'{{"total": {count}}}')
    assert log_line(read, WEST_OXFORDSHIRE_FILE)["status"] == "loaded"


def add_comment_column(path: Path) -> None:
    """Give the Crimes sheet a free-text column after Total, naming a victim and an officer,
    and misspell a district so that its row is set aside along with the Total row."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Crimes"]
    sheet.cell(5, 6, "Analyst comments")
    sheet.cell(7, 6, f"Includes DHR: victim {NAME} (DOB {BIRTH_DATE}), {ADDRESS}")
    sheet.cell(7, 1, "Oxfrod")
    sheet.cell(11, 6, f"Total checked by PC 1234, {PHONE}")
    workbook.save(path)


def test_an_added_domestic_abuse_column_reaches_no_record_or_warning(tmp_path: Path) -> None:
    path = tmp_path / DOMESTIC_ABUSE_FILE
    path.parent.mkdir(parents=True)
    shutil.copyfile(SAMPLE_RAW_DIR / DOMESTIC_ABUSE_FILE, path)
    add_comment_column(path)
    read = read_delivered(tmp_path, "tvp_domestic_abuse", {})

    assert_nothing_planted(shown(read))
    assert read.warnings == [f"{DOMESTIC_ABUSE_FILE}#Crimes: ignored 1 unknown column(s): column 6"]
    crimes = [r for r in read.set_aside.to_pylist() if r["source_file"].endswith("#Crimes")]
    assert [(r["row_number"], r["reason_code"]) for r in crimes] == [
        (7, "unknown_district"),
        (11, "totals_line"),
    ]
    assert json.loads(crimes[0]["record"]) == {
        "District": "Oxfrod",
        "2013-10-01": "129",
        "2013-11-01": "113",
        "2013-12-01": "116",
        "Total": "358",
    }


def test_planted_personal_data_reaches_no_warehouse_table_or_dagster_event(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    files: dict[str, bytes] = {}
    for source_id in ("tvp_s27_directions", "council_asb_complaints"):
        sample = SampleLines(CSV_FILES[source_id])
        malformed = [*sample.lines, with_personal_cells(sample.lines[1])]
        files[CSV_FILES[source_id]] = sample.joined(malformed)
    s27_q4 = CSV_FILES["tvp_s27_directions"].replace("Q3", "Q4")
    headerless = SampleLines(s27_q4)
    files[s27_q4] = headerless.joined([with_personal_cells(headerless.lines[1])])
    west = SampleLines(WEST_OXFORDSHIRE_FILE)
    files[WEST_OXFORDSHIRE_FILE] = west.joined([*west.lines[:-1], with_personal_cells(b"1")])
    for name, content in files.items():
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).write_bytes(content)
    (raw / DOMESTIC_ABUSE_FILE).parent.mkdir(parents=True)
    shutil.copyfile(SAMPLE_RAW_DIR / DOMESTIC_ABUSE_FILE, raw / DOMESTIC_ABUSE_FILE)
    add_comment_column(raw / DOMESTIC_ABUSE_FILE)

    result = refresh(raw, wh, instance)
    assert result.success

    tables = warehouse_text(wh)
    events = "\n".join(dg.serialize_value(event) for event in instance.all_logs(result.run_id))
    # The searches reach the rows: what is said about them instead is there.
    assert "row has 9 fields; the header has 4" in tables
    assert "row text withheld: may contain personal data" in tables
    assert "ignored 1 unknown column(s): column 6" in events
    assert_nothing_planted(tables)
    assert_nothing_planted(events)
    assert query(
        wh,
        "SELECT source_file, status FROM load_log WHERE source_file IN "
        f"('{s27_q4}', '{WEST_OXFORDSHIRE_FILE}') ORDER BY 1",
    ) == [(WEST_OXFORDSHIRE_FILE, "rejected"), (s27_q4, "rejected")]


# What reasons and messages say instead of quoting.


def test_a_misspelt_header_is_named_as_such_and_other_cells_are_not_shown(tmp_path: Path) -> None:
    name = CSV_FILES["tvp_s27_directions"]
    sample = SampleLines(name)
    header = b"Date Issued,Distrct,Age Band,Gender," + PERSONAL_CELLS.encode()
    read = read_delivered(tmp_path, "tvp_s27_directions", {name: sample.joined([header])})

    assert log_line(read, name)["message"] == (
        "required column(s) 'District' not found; the first row has 9 cell(s), of which 3 are "
        "known headers ('Date Issued', 'Age Band', 'Gender'); 'Distrct' looks like 'District'; "
        "the other 5 cell(s) are not shown, as they may be a record's values"
    )


def test_a_malformed_row_is_measured_against_every_header_field_blank_ones_included(
    tmp_path: Path,
) -> None:
    name = CSV_FILES["district_flytipping_returns"]
    content = (
        b"Council,Financial Year,Quarter,Land Type,Incidents,\r\n"  # Excel's trailing comma
        b"Cherwell District Council,2013-14,Q3,Highway,50,\r\n"
        b"Cherwell District Council,2013-14,Q3,Council Land,24\r\n"
    )
    read = read_delivered(tmp_path, "district_flytipping_returns", {name: content})

    assert [(r["row_number"], r["reason"]) for r in read.set_aside.to_pylist()] == [
        (3, "row has 5 fields; the header has 6")
    ]
    assert read.warnings == []  # a blank header cell is no unknown column
