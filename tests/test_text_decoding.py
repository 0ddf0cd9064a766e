"""Reading delivered text exactly: mixed encodings, very long fields, row numbers after blank
lines, and reasons that quote very long values."""

from __future__ import annotations

import codecs
import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_RAW_DIR

from oscp_pipeline.sources import council_asb_complaints as complaints
from oscp_pipeline.sources.base import (
    Column,
    FileRead,
    FileRejected,
    RawRecords,
    decode_delivery,
    load_log_row,
    not_listed,
    parse_date,
    read_delimited,
    rejected_log_row,
    row_accounting_failures,
    set_aside_row,
)

COLUMNS = [Column("reference", "Reference", ""), Column("category", "Category", "")]
# The same file with a free-text column that is not loaded, where a line break may be typed.
NOTES_COLUMNS = [
    Column("reference", "Reference", ""),
    Column("notes", "Category", "", personal=True),
]
HEADER = b"Reference,Category\r\n"
WEST_FILE = "council_asb_complaints/west_oxfordshire/wodc_noise_waste_2013-14_Q3.csv"
CHERWELL_FILE = "council_asb_complaints/cherwell/cherwell_complaints_2013-14_Q2.csv"
CHERWELL_HEADER = b"Reference,Date Received,Service,Complaint Category,Ward\r\n"


def read_bytes(tmp_path: Path, data: bytes, columns: list[Column] = COLUMNS) -> RawRecords:
    path = tmp_path / "file.csv"
    path.write_bytes(data)
    return read_delimited(path, columns, "file.csv")


def rows(records: RawRecords, second: str = "category") -> list[tuple[str, str, int]]:
    return [(row["reference"], row[second], row["row_number"]) for row in records.table.to_pylist()]


def malformed(records: RawRecords) -> list[tuple[int, int]]:
    """Each malformed row's number and number of fields."""
    return [(row.number, row.fields) for row in records.malformed]


def read_raw(tmp_path: Path, files: dict[str, bytes]) -> FileRead:
    raw = tmp_path / "raw"
    shutil.rmtree(raw, ignore_errors=True)
    for relative, data in files.items():
        (raw / relative).parent.mkdir(parents=True, exist_ok=True)
        (raw / relative).write_bytes(data)
    read = complaints.read_all(raw)
    assert row_accounting_failures(read) == []
    return read


# Encodings


def test_a_stray_windows_1252_byte_in_a_utf8_file_is_read_alone(tmp_path: Path) -> None:
    data = HEADER + "A1,Noise \u2013 music\r\n".encode() + b"A2,Neighbour\x92s dog\r\n"
    records = read_bytes(tmp_path, data)
    assert records.encoding == "utf-8+cp1252"
    assert rows(records) == [("A1", "Noise \u2013 music", 2), ("A2", "Neighbour\u2019s dog", 3)]
    assert records.warnings == [
        "file.csv: 1 byte(s) are not UTF-8 in an otherwise UTF-8 file and were each read as a "
        "Windows-1252 character: 0x92 ('\u2019') at byte offset 52 (line 3)"
    ]


def test_stray_bytes_after_a_utf8_mark_are_placed_in_the_file_as_delivered(
    tmp_path: Path,
) -> None:
    lines = [f"A{n},Noise \u2013 music {n}".encode() + b"\x92\r\n" for n in range(12)]
    data = codecs.BOM_UTF8 + HEADER + b"".join(lines)
    records = read_bytes(tmp_path, data)
    assert records.encoding == "utf-8+cp1252"
    assert rows(records)[11] == ("A11", "Noise \u2013 music 11\u2019", 13)
    # The mark (3 bytes) and the header (20) come first; rows 0 to 9 are 23 bytes each.
    listed = ", ".join(
        f"0x92 ('\u2019') at byte offset {43 + 23 * n} (line {n + 2})" for n in range(10)
    )
    assert records.warnings == [
        "file.csv: 12 byte(s) are not UTF-8 in an otherwise UTF-8 file and were each read as a "
        f"Windows-1252 character: {listed} and 2 more"
    ]


def test_a_file_with_no_utf8_character_is_still_read_as_windows_1252(tmp_path: Path) -> None:
    data = HEADER + "A1,Noise \u2013 music\r\nA2,Café\u2019s £5\r\n".encode("cp1252")
    for marked in (data, codecs.BOM_UTF8 + data):
        records = read_bytes(tmp_path, marked)
        assert (records.encoding, records.warnings) == ("cp1252", [])
        assert rows(records) == [("A1", "Noise \u2013 music", 2), ("A2", "Café\u2019s £5", 3)]


def test_utf8_and_utf16_files_read_as_before(tmp_path: Path) -> None:
    text = "Reference,Category\r\nA1,Noise \u2013 music\r\n"
    for data, encoding in (
        (text.encode(), "utf-8"),
        (codecs.BOM_UTF8 + text.encode(), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "utf-16"),
    ):
        assert decode_delivery(data, "file.csv").encoding == encoding
        records = read_bytes(tmp_path, data)
        assert (records.encoding, records.warnings) == (encoding, [])
        assert rows(records) == [("A1", "Noise \u2013 music", 2)]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (  # Windows-1252 text
            HEADER + b"A1,Caf\xe9\r\nA2,Bad\x81byte\r\n",
            "1 byte(s) are no character in UTF-8 or Windows-1252: 0x81 at byte offset 35 (line 3)",
        ),
        (  # UTF-8 text with stray bytes, one of them undefined in Windows-1252
            HEADER + "A1,Noise \u2013 music\r\n".encode() + b"A2,x\x92\x8dy\r\n",
            "1 byte(s) are no character in UTF-8 or Windows-1252: 0x8D at byte offset 45 (line 3)",
        ),
    ],
)
def test_a_byte_undefined_in_windows_1252_rejects_the_file_naming_where(
    tmp_path: Path, data: bytes, problem: str
) -> None:
    expected = (
        f"{problem}; expected a text file in UTF-8, Windows-1252 or UTF-16 "
        "(re-save the file as UTF-8)"
    )
    with pytest.raises(FileRejected) as rejected:
        read_bytes(tmp_path, data)
    assert rejected.value.problem == expected


def test_a_rejected_undefined_byte_is_logged_and_nothing_is_loaded(tmp_path: Path) -> None:
    # The header is 57 bytes, then "EH/1,2013-07-04,Noise,Music,Banbury " 36 more.
    data = CHERWELL_HEADER + b"EH/1,2013-07-04,Noise,Music,Banbury \x81 Ruscote\r\n"
    read = read_raw(tmp_path, {CHERWELL_FILE: data})
    [line] = read.load_log.to_pylist()
    assert (line["status"], line["rows_read"], line["message"]) == (
        "rejected",
        0,
        "1 byte(s) are no character in UTF-8 or Windows-1252: 0x81 at byte offset 93 (line 2); "
        "expected a text file in UTF-8, Windows-1252 or UTF-16 (re-save the file as UTF-8)",
    )
    assert read.accepted.num_rows == read.set_aside.num_rows == 0


def test_a_utf8_council_file_with_one_stray_byte_loads_every_category(tmp_path: Path) -> None:
    original = (SAMPLE_RAW_DIR / WEST_FILE).read_bytes()
    before = read_raw(tmp_path, {WEST_FILE: original})
    lines = original.decode("cp1252").encode("utf-8").split(b"\r\n")
    lines[1] += b"\x92"  # a Windows-1252 quote typed after the first row's ward
    after = read_raw(tmp_path, {WEST_FILE: b"\r\n".join(lines)})
    [line] = after.load_log.to_pylist()
    assert (line["status"], line["encoding"], line["rows_read"], line["rows_loaded"]) == (
        "loaded",
        "utf-8+cp1252",
        108,
        107,
    )
    assert after.accepted.num_rows == 107
    assert after.accepted.equals(before.accepted)
    assert after.set_aside.equals(before.set_aside)
    assert (
        f"{WEST_FILE}: arrived as utf-8+cp1252; the West Oxfordshire layout expects cp1252 or utf-8"
    ) in after.warnings


# Long fields


def test_a_five_megabyte_field_is_read(tmp_path: Path) -> None:
    long_text = "x" * 5_000_000
    data = HEADER + f'A1,"{long_text}"\r\nA2,Music\r\nA3,{long_text},extra\r\n'.encode()
    records = read_bytes(tmp_path, data)
    assert rows(records) == [("A1", long_text, 2), ("A2", "Music", 3)]
    assert malformed(records) == [(4, 3)]  # row 4 has 3 fields; its text is not kept


def test_a_category_of_megabytes_is_set_aside_with_a_short_reason(tmp_path: Path) -> None:
    long_category = "Music " * 1_000_000
    data = (
        CHERWELL_HEADER
        + (
            "EH/1,2013-07-04,Noise,Music,Bicester West\r\n"
            f"EH/2,2013-07-05,Noise,{long_category},Bicester West\r\n"
        ).encode()
    )
    read = read_raw(tmp_path, {CHERWELL_FILE: data})
    [line] = read.load_log.to_pylist()
    assert (line["status"], line["rows_loaded"], line["rows_set_aside"]) == ("loaded", 1, 1)
    [aside] = read.set_aside.to_pylist()
    assert (aside["row_number"], aside["reason_code"]) == (3, "unknown_category")
    # Far too long for a category: free text, described by its length, in reason and record.
    assert aside["reason"] == (
        "a 5,999,999-character value (not shown: it may be personal) in column 'Complaint "
        "Category' is not in the Cherwell layout's category map"
    )
    assert json.loads(str(aside["record"]))["Complaint Category"] == (
        f"(not shown: a {len(long_category):,}-character value that may be personal)"
    )


# Row numbers


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_rows_after_blank_lines_keep_the_numbers_a_spreadsheet_shows(
    tmp_path: Path, newline: str
) -> None:
    lines = [
        "Reference,Category",  # row 1
        "A1,Music",  # row 2
        "",  # row 3
        f'A2,"Two{newline}lines"',  # row 4: one row, though two lines in a text editor
        "A3,too,many",  # row 5
        "",  # row 6
        "",  # row 7
        "A4,Music",  # row 8
        "",  # blank lines at the end
        "",
    ]
    records = read_bytes(tmp_path, newline.join(lines).encode(), NOTES_COLUMNS)
    assert rows(records, "notes") == [
        ("A1", "Music", 2),
        ("A2", f"Two{newline}lines", 4),
        ("A4", "Music", 8),
    ]
    assert malformed(records) == [(5, 3)]


def test_row_numbers_after_blank_lines_follow_quotes_as_the_parser_reads_them(
    tmp_path: Path,
) -> None:
    data = (
        b"Reference,Category\n"
        b'A1,12" pipe\n'  # a quote inside a value is text
        b"\n"
        b'A2,"said ""no""\n\nthen left"\n'  # a blank line inside a quoted value is text
        b"\n"
        b'A3,"a"b\n'  # text after a closing quote belongs to the value
        b"A4,Music"  # no line break at the end
    )
    records = read_bytes(tmp_path, data, NOTES_COLUMNS)
    assert rows(records, "notes") == [
        ("A1", '12" pipe', 2),
        ("A2", 'said "no"\n\nthen left', 4),
        ("A3", "ab", 6),
        ("A4", "Music", 7),
    ]


def test_a_set_aside_row_after_a_blank_line_names_its_own_row(tmp_path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["EH/1", "2013-07-04", "Noise", "Music", "Bicester West"])
    writer.writerow([])
    writer.writerow(["EH/2", "2013-07-05", "Noise", "Fireworks", "Bicester West"])
    writer.writerow(["EH/3", "2013-07-06", "Noise", "Music", "Bicester West", "extra"])
    writer.writerow(["EH/4", "2013-07-07", "Noise", "Music", "Bicester West"])
    read = read_raw(tmp_path, {CHERWELL_FILE: CHERWELL_HEADER + buffer.getvalue().encode()})
    assert read.accepted.select(["reference", "row_number"]).to_pylist() == [
        {"reference": "EH/1", "row_number": 2},
        {"reference": "EH/4", "row_number": 6},
    ]
    assert [(r["row_number"], r["reason_code"]) for r in read.set_aside.to_pylist()] == [
        (4, "unknown_category"),
        (5, "malformed_row"),
    ]


# Reasons and messages


def test_a_long_reason_is_cut_and_the_record_kept_whole() -> None:
    value = "y" * 1_000_000
    row = set_aside_row("s", "f.csv", 2, "code", f"value '{value}' is wrong", value)
    note = "\u2026 (1,000,017 characters in all)"  # "value '", the value, "' is wrong"
    assert row["reason"] == "value '" + "y" * (1000 - 7 - len(note)) + note
    assert len(str(row["reason"])) == 1000
    assert row["record"] == value
    assert set_aside_row("s", "f.csv", 2, "code", "short", "{}")["reason"] == "short"


def test_a_long_load_log_message_is_cut() -> None:
    problem = "the header row has: " + "'h', " * 1000
    line = rejected_log_row("s", "f.csv", "0" * 64, problem)
    assert len(str(line["message"])) == 2000
    assert str(line["message"]).endswith("\u2026 (5,020 characters in all)")
    short = load_log_row("s", "f.csv", "0" * 64, "utf-8", (None, None), (1, 1, 0), "loaded", "ok")
    assert short["message"] == "ok"


def test_reasons_never_quote_a_value_over_several_lines() -> None:
    """A line break in a value of a coded column is a note typed into it (a workbook cell, a
    JSON string): it is described, never quoted, so no reason runs over several lines."""
    for note in ("Oxford\nJane Doe 07700 900461", "Noise\r\nneighbour at no. 4", "Pests\rx"):
        date_problem = parse_date(note, ["%Y-%m-%d"])[1]
        listed_problem = not_listed("Service", note, ["Noise"])
        for reason in (date_problem, listed_problem):
            assert reason is not None
            assert "\n" not in reason and "\r" not in reason, reason
            assert f"a {len(note)}-character value" in reason, reason


def test_reasons_quote_a_long_value_by_its_start_and_length() -> None:
    value = "9" * 300
    assert parse_date(value, ["%Y-%m-%d"]) == (
        None,
        f"'{'9' * 200}\u2026' (300 characters) is not a date in the declared format(s) %Y-%m-%d",
    )
    # A listed column's value that long is no label: it is described, not quoted.
    assert not_listed("Service", value, ["Noise", "Waste"]) == (
        "column 'Service': a 300-character value (not shown: it may be personal) is not one of "
        "Noise, Waste"
    )
    assert not_listed("Service", "Pests", ["Noise"]) == (
        "column 'Service': 'Pests' is not one of Noise"
    )
