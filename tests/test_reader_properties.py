"""Every reader, fed damaged copies of its own sample files, still accounts for what it was given.

Hypothesis damages a valid sample file of each registered source (bytes, cells, headers,
worksheets, JSON objects) and checks what must hold whatever a partner sends: no exception
escapes ``read_all``; a file that cannot be read is logged as rejected with a message a partner
can act on; every delivered file is in the load log; rows read = loaded + set aside; every
set-aside row says why; accepted rows have the source's schema; and no Stop Hate UK caller's
personal details reach a message, a set-aside row or a warning.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path

import pytest
from conftest import SAMPLE_RAW_DIR, read_delivered
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from oscp_pipeline.sources import SOURCES, stop_hate_uk
from oscp_pipeline.sources.base import (
    LOAD_LOG_SCHEMA,
    SET_ASIDE_SCHEMA,
    FileRead,
    SourceSpec,
    row_accounting_failures,
)

SPECS = {spec.source_id: spec for spec in SOURCES}
# Street and Home Office files run to thousands of rows; their first rows exercise every rule.
LONG_FILE_LINES = 200
KEPT_DATA_LINES = 60

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Values partners' systems and spreadsheets really produce where a figure, date or name belongs.
NASTY_TEXT = (
    "",
    "  ",
    "-1",
    "1e309",
    "NaN",
    "=cmd|' /C calc'!A0",
    "9" * 40,
    "2031-01-15",
    "15/01/2031",
    "2031-01",
    "not a date",
    "31/02/2014",
    "Total",
    "Oxfordshire",
    '"',
    "a,b",
    "line\nbreak",
    "\x00",
    "\ufeff",
    "x" * 5000,
)
NASTY_CELLS: tuple[object, ...] = (
    *NASTY_TEXT,
    -1,
    0.5,
    float("nan"),
    1e40,
    10**30,
    True,
    dt.datetime(2031, 1, 15),
    dt.date(1899, 12, 31),
)
# Python exception texts: a partner cannot act on them, so a rejection must never be only that.
BARE_PYTHON_ERROR = re.compile(
    r"^\w*(Error|Exception)\b|Traceback|object has no attribute|index out of range|"
    r"object is not (subscriptable|iterable|callable)|^\W*\w+\W*$"
)
PERSONAL_HEADERS = tuple(column.header for column in stop_hate_uk.PERSONAL_COLUMNS)
# A cut-off personal value still identifies the caller: its first characters must not leak.
PERSONAL_PREFIX = 12


def shortened(path: Path, data: bytes) -> bytes:
    """The header and first data lines of a long CSV, the file itself otherwise."""
    lines = data.splitlines(keepends=True)
    if path.suffix.lower() != ".csv" or len(lines) <= LONG_FILE_LINES:
        return data
    return b"".join(lines[: KEPT_DATA_LINES + 1])


@cache
def sample(source_id: str) -> dict[str, bytes]:
    """The largest sample file of each layout of a source, by its path under the raw folder.

    Files are grouped by folder (digits ignored, so monthly folders are one layout) and type.
    """
    layouts: dict[tuple[str, str], list[Path]] = {}
    for path in sorted(p for p in (SAMPLE_RAW_DIR / source_id).rglob("*") if p.is_file()):
        folder = re.sub(r"\d", "", path.parent.relative_to(SAMPLE_RAW_DIR).as_posix())
        layouts.setdefault((folder, path.suffix.lower()), []).append(path)
    chosen = [max(paths, key=lambda p: p.stat().st_size) for paths in layouts.values()]
    return {
        path.relative_to(SAMPLE_RAW_DIR).as_posix(): shortened(path, path.read_bytes())
        for path in chosen
    }


@cache
def personal_values() -> tuple[str, ...]:
    """The Stop Hate UK sample's personal values, and the first characters of each."""
    values: set[str] = set()
    for name, data in sample(stop_hate_uk.SOURCE_ID).items():
        text = data.decode("utf-8-sig")
        if name.endswith(".json"):
            records = json.loads(text)["records"]
        else:
            records = list(csv.DictReader(io.StringIO(text, newline="")))
        values.update(str(r[h]) for r in records for h in PERSONAL_HEADERS if r.get(h))
    return tuple(sorted(values | {value[:PERSONAL_PREFIX] for value in values}))


def read_files(source_id: str, files: dict[str, bytes]) -> FileRead:
    """Read ``files`` (path under the raw folder -> content) with the source's reader."""
    with tempfile.TemporaryDirectory() as folder:
        return read_delivered(Path(folder), source_id, files)


def read_damaged(source_id: str, damaged: str, content: bytes) -> tuple[FileRead, list[str]]:
    """Read the source's sample with one file replaced by ``content``; also the files placed."""
    files = {**sample(source_id), damaged: content}
    return read_files(source_id, files), sorted(files)


def assert_read_is_accountable(spec: SourceSpec, read: FileRead, placed: list[str]) -> None:
    """The properties every read must have, whatever the files held."""
    assert read.load_log.schema.equals(LOAD_LOG_SCHEMA)
    assert read.set_aside.schema.equals(SET_ASIDE_SCHEMA)
    assert read.accepted.schema.equals(spec.accepted_schema)
    log = read.load_log.to_pylist()
    logged = [str(line["source_file"]) for line in log]
    for name in placed:  # a workbook read sheet by sheet is logged as <workbook>#<sheet>
        assert any(f == name or f.startswith(f"{name}#") for f in logged), (name, logged)
    for line in log:
        assert line["status"] in {"loaded", "rejected", "duplicate"}, line
        if line["status"] == "rejected":
            message = str(line["message"] or "").strip()
            assert len(message) > 20, line
            assert not BARE_PYTHON_ERROR.search(message), line
    assert row_accounting_failures(read) == []
    for row in read.set_aside.to_pylist():
        assert (row["reason_code"] or "").strip() and (row["reason"] or "").strip(), row
    loaded = {line["source_file"] for line in log if line["status"] == "loaded"}
    assert set(read.accepted["source_file"].to_pylist()) <= loaded
    assert read.accepted["row_number"].null_count == 0
    if spec.source_id == stop_hate_uk.SOURCE_ID:
        assert_no_personal_values(read)


def assert_no_personal_values(read: FileRead) -> None:
    shown = [
        *(str(m) for m in read.load_log["message"].to_pylist()),
        *(str(r) for r in read.set_aside["reason"].to_pylist()),
        *(str(r) for r in read.set_aside["record"].to_pylist()),
        *read.warnings,
        *(str(v) for column in read.accepted.columns for v in column.to_pylist()),
    ]
    text = "\n".join(shown)
    leaked = [value for value in personal_values() if value in text]
    assert not leaked, leaked


# Damage to text: the bytes of a CSV or JSON file (a workbook's bytes are damaged the same way).


def change(
    function: Callable[..., object], **params: st.SearchStrategy[object]
) -> st.SearchStrategy:
    """``function`` with drawn parameters; a failing example shows it as the call it makes."""
    return st.builds(partial, st.just(function), **params)


def lines_of(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def truncate(data: bytes, at: int) -> bytes:
    return data[: at % (len(data) + 1)]


def delete_line(data: bytes, at: int) -> bytes:
    lines = lines_of(data)
    del lines[at % len(lines)]
    return b"".join(lines)


def duplicate_line(data: bytes, at: int) -> bytes:
    lines = lines_of(data)
    index = at % len(lines)
    lines.insert(index, lines[index])
    return b"".join(lines)


def join_lines(data: bytes, at: int) -> bytes:
    """Lose one line break, so two lines become one."""
    lines = lines_of(data)
    index = at % len(lines)
    lines[index] = lines[index].rstrip(b"\r\n")
    return b"".join(lines)


def insert_line(data: bytes, at: int, text: str) -> bytes:
    lines = lines_of(data)
    lines.insert(at % (len(lines) + 1), text.encode("utf-8") + b"\r\n")
    return b"".join(lines)


def insert_bytes(data: bytes, at: int, inserted: bytes) -> bytes:
    index = at % (len(data) + 1)
    return data[:index] + inserted + data[index:]


def insert_text(data: bytes, at: int, text: str) -> bytes:
    return insert_bytes(data, at, text.encode("utf-8"))


# Characters that break CSV and JSON structure, and text from anywhere in Unicode.
STRUCTURAL_TEXT = st.text(alphabet=st.sampled_from('",;\t\r\n\x00\\{}[]:\ufeff\u2013 a1'))
RANDOM_TEXT = st.one_of(
    STRUCTURAL_TEXT,
    st.text(max_size=30),
    st.sampled_from(NASTY_TEXT),
    st.integers(1, 70_000).map(lambda n: "long " * n),
)
NASTY = st.one_of(st.sampled_from(NASTY_TEXT), RANDOM_TEXT)
POSITION = st.integers(0, 1 << 20)
INDEX = st.integers(0, 1 << 16)

BYTE_DAMAGE = st.one_of(
    change(truncate, at=POSITION),
    change(delete_line, at=POSITION),
    change(duplicate_line, at=POSITION),
    change(join_lines, at=POSITION),
    change(insert_line, at=POSITION, text=RANDOM_TEXT),
    change(insert_bytes, at=POSITION, inserted=st.binary(min_size=1, max_size=40)),
    change(insert_text, at=POSITION, text=RANDOM_TEXT),
)


# Damage to content: cells of a CSV, cells and sheets of a workbook, objects of a JSON export.


def edit_csv(data: bytes, edit: Callable[[list[list[str]]], None]) -> bytes:
    """Apply ``edit`` to the file's rows and write it back in its own encoding."""
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    try:
        text, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = body.decode("cp1252"), "cp1252"
    rows = list(csv.reader(io.StringIO(text, newline=""))) or [[""]]
    edit(rows)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return (codecs.BOM_UTF8 if bom else b"") + buffer.getvalue().encode(encoding, "replace")


def replace_cell(rows: list[list[str]], row: int, column: int, value: str) -> None:
    """Replace a cell of a data row (of the header when there is none)."""
    target = rows[1 + row % (len(rows) - 1)] if len(rows) > 1 else rows[0]
    if target:
        target[column % len(target)] = value


def drop_column(rows: list[list[str]], column: int) -> None:
    index = column % max(len(rows[0]), 1)
    for row in rows:
        if index < len(row):
            del row[index]


def duplicate_column(rows: list[list[str]], column: int) -> None:
    index = column % max(len(rows[0]), 1)
    for row in rows:
        if index < len(row):
            row.insert(index, row[index])


def rename_header(rows: list[list[str]], column: int, name: str) -> None:
    if rows[0]:
        rows[0][column % len(rows[0])] = name


def edit_workbook(data: bytes, edit: Callable[[Workbook], None]) -> bytes:
    """Apply ``edit`` to the workbook; a workbook already broken by an earlier change stays so."""
    try:
        workbook = load_workbook(io.BytesIO(data))
    except Exception:  # openpyxl raises many types for a damaged workbook
        return data
    edit(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def truncate_workbook_part(data: bytes, part: int, at: int) -> bytes:
    """Cut short one XML part inside a sound zip, as a faulty export tool would write it."""
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return data
    names = source.namelist()
    damaged = names[part % len(names)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in names:
            content = source.read(name)
            target.writestr(
                name, content[: at % (len(content) + 1)] if name == damaged else content
            )
    return buffer.getvalue()


def storable(value: object) -> object:
    """``value`` without the control characters a workbook cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def set_workbook_cell(workbook: Workbook, sheet: int, row: int, column: int, value: object) -> None:
    """Set a cell anywhere in a sheet's used range, or just beyond it."""
    worksheet = workbook.worksheets[sheet % len(workbook.worksheets)]
    row, column = row % (worksheet.max_row + 2) + 1, column % (worksheet.max_column + 1) + 1
    worksheet.cell(row, column).value = storable(value)


def insert_rows_at_top(workbook: Workbook, sheet: int, rows: int) -> None:
    workbook.worksheets[sheet % len(workbook.worksheets)].insert_rows(1, rows)


def sheet_title(text: str) -> str:
    """``text`` as Excel allows a sheet to be named."""
    return ILLEGAL_CHARACTERS_RE.sub("", re.sub(r"[\\/*?:\[\]]", "", text))[:31].strip("'")


def add_sheet(workbook: Workbook, title: str, position: int, value: object) -> None:
    worksheet = workbook.create_sheet(
        sheet_title(title) or "Extra", position % (len(workbook.worksheets) + 1)
    )
    worksheet["A1"] = storable(value)


def delete_sheet(workbook: Workbook, sheet: int) -> None:
    if len(workbook.worksheets) == 1:
        workbook.create_sheet("Sheet1")
    workbook.remove(workbook.worksheets[sheet % len(workbook.worksheets)])


def rename_sheet(workbook: Workbook, sheet: int, title: str) -> None:
    title = sheet_title(title)
    if title.strip() and title.casefold() not in {n.casefold() for n in workbook.sheetnames}:
        workbook.worksheets[sheet % len(workbook.worksheets)].title = title


def edit_json(data: bytes, edit: Callable[[object], object]) -> bytes:
    return json.dumps(edit(json.loads(data.decode("utf-8-sig"))), ensure_ascii=False).encode()


def records_of(document: object) -> list[object]:
    records = document.get("records") if isinstance(document, dict) else document
    return records if isinstance(records, list) else []


def record_at(document: object, at: int) -> dict[str, object] | None:
    """One of the document's non-empty report objects, if it has any."""
    records = [r for r in records_of(document) if isinstance(r, dict) and r]
    return records[at % len(records)] if records else None


def replace_record(document: object, at: int, value: object) -> object:
    records = records_of(document)
    if records:
        records[at % len(records)] = value
    return document


def set_value(document: object, at: int, key: int, value: object) -> object:
    record = record_at(document, at)
    if record is not None:
        record[list(record)[key % len(record)]] = value
    return document


def delete_key(document: object, at: int, key: int) -> object:
    record = record_at(document, at)
    if record is not None:
        del record[list(record)[key % len(record)]]
    return document


def rename_key(document: object, at: int, key: int, name: str) -> object:
    """Rename a key of a report object in place; a key it collides with is dropped."""
    record = record_at(document, at)
    if record is not None:
        old = list(record)[key % len(record)]
        renamed = {(name if k == old else k): v for k, v in record.items() if k == old or k != name}
        record.clear()
        record.update(renamed)
    return document


RESHAPED = {
    "bare list": lambda records: records,
    "records not a list": lambda records: {"records": {"0": records[:1]}},
    "records under another key": lambda records: {"reports": records},
    "a single object": lambda records: records[0] if records else {},
    "a number": lambda records: 42,
    "null": lambda records: None,
}


def reshape_document(document: object, shape: str) -> object:
    return RESHAPED[shape](records_of(document))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | RANDOM_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
CELL_VALUES = st.sampled_from(NASTY_CELLS) | NASTY


def content_damage(name: str) -> st.SearchStrategy:
    """A nasty value in one cell, field or JSON value of the file."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        edit = change(set_workbook_cell, sheet=INDEX, row=INDEX, column=INDEX, value=CELL_VALUES)
        return change(edit_workbook, edit=edit)
    if suffix == ".json":
        return change(
            edit_json, edit=change(set_value, at=INDEX, key=INDEX, value=JSON_VALUES | NASTY)
        )
    return change(edit_csv, edit=change(replace_cell, row=INDEX, column=INDEX, value=NASTY))


def structure_damage(name: str) -> st.SearchStrategy:
    """A change to the file's shape: its header, its worksheets or its JSON objects."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        titles = st.text(max_size=12) | st.sampled_from(("Crimes", "incidents", "LA_incidents"))
        edits = st.one_of(
            change(insert_rows_at_top, sheet=INDEX, rows=st.integers(1, 60)),
            change(add_sheet, title=titles, position=INDEX, value=st.sampled_from(NASTY_CELLS)),
            change(delete_sheet, sheet=INDEX),
            change(rename_sheet, sheet=INDEX, title=titles),
        )
        return change(edit_workbook, edit=edits) | change(
            truncate_workbook_part, part=INDEX, at=POSITION
        )
    if suffix == ".json":
        edits = st.one_of(
            change(replace_record, at=INDEX, value=JSON_VALUES),
            change(delete_key, at=INDEX, key=INDEX),
            change(rename_key, at=INDEX, key=INDEX, name=st.text()),
            change(set_value, at=INDEX, key=INDEX, value=JSON_VALUES),
            change(reshape_document, shape=st.sampled_from(sorted(RESHAPED))),
        )
        return change(edit_json, edit=edits)
    edits = st.one_of(
        change(drop_column, column=INDEX),
        change(duplicate_column, column=INDEX),
        change(rename_header, column=INDEX, name=NASTY),
    )
    return change(edit_csv, edit=edits)


def damaged_file(
    source_id: str, damage: Callable[[str], st.SearchStrategy]
) -> st.SearchStrategy[tuple[str, bytes]]:
    """One sample file of the source, and its content after one to three changes."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, bytes]:
        name = draw(st.sampled_from(sorted(sample(source_id))))
        content = sample(source_id)[name]
        for edit in draw(st.lists(damage(name), min_size=1, max_size=3)):
            content = edit(content)
        return name, content

    return build()


def check(source_id: str, damaged: tuple[str, bytes]) -> None:
    read, placed = read_damaged(source_id, *damaged)
    assert_read_is_accountable(SPECS[source_id], read, placed)


SOURCE_IDS = sorted(SPECS)


@pytest.mark.parametrize("source_id", SOURCE_IDS)
def test_the_unchanged_sample_loads_and_is_accountable(source_id: str) -> None:
    read = read_files(source_id, sample(source_id))
    assert_read_is_accountable(SPECS[source_id], read, sorted(sample(source_id)))
    assert "rejected" not in read.load_log["status"].to_pylist()
    assert read.accepted.num_rows > 0


@pytest.mark.parametrize("source_id", SOURCE_IDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_damaged_bytes_never_escape_the_reader(source_id: str, data: st.DataObject) -> None:
    check(source_id, data.draw(damaged_file(source_id, lambda _: BYTE_DAMAGE)))


@pytest.mark.parametrize("source_id", SOURCE_IDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_nasty_values_in_cells_are_set_aside_or_loaded(source_id: str, data: st.DataObject) -> None:
    check(source_id, data.draw(damaged_file(source_id, content_damage)))


@pytest.mark.parametrize("source_id", SOURCE_IDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_changed_headers_sheets_and_objects_are_reported(
    source_id: str, data: st.DataObject
) -> None:
    check(source_id, data.draw(damaged_file(source_id, structure_damage)))


# Damaged files that once made a reader fail, kept as plain examples with their exact outcome.

RETURNS_FILE = "district_flytipping_returns/flytipping_returns_2013-14_Q2.csv"
WEST_OXFORDSHIRE_FILE = "council_asb_complaints/west_oxfordshire/wodc_noise_waste_2013-14_Q2.csv"
DIRECTIONS_FILE = "tvp_s27_directions/tvp_s27_directions_2013-14_Q2.csv"
DOMESTIC_ABUSE_FILE = "tvp_domestic_abuse/tvp_domestic_abuse_2014-15_Q4.xlsx"


def sample_file(name: str) -> bytes:
    return (SAMPLE_RAW_DIR / name).read_bytes()


def only_line(read: FileRead) -> dict[str, object]:
    [line] = read.load_log.to_pylist()
    return line


def test_a_file_with_old_mac_line_endings_loads_like_the_original() -> None:
    original = sample_file(RETURNS_FILE)
    before = read_files("district_flytipping_returns", {RETURNS_FILE: original})
    mac = original.replace(b"\r\n", b"\r")
    after = read_files("district_flytipping_returns", {RETURNS_FILE: mac})
    assert only_line(after)["status"] == "loaded"
    assert after.accepted.equals(before.accepted)


def test_a_lone_carriage_return_before_the_header_rejects_the_file_naming_the_columns() -> None:
    damaged = b"\r1\r\n" + sample_file(RETURNS_FILE)
    line = only_line(read_files("district_flytipping_returns", {RETURNS_FILE: damaged}))
    assert line["status"] == "rejected"
    assert line["message"] == (
        "required column(s) 'Council', 'Financial Year', 'Quarter', 'Land Type', 'Incidents' "
        "not found; the first row has 0 cell(s), of which 0 are known headers (none)"
    )


def test_a_utf8_mark_before_windows_1252_text_is_read_as_windows_1252() -> None:
    original = sample_file(WEST_OXFORDSHIRE_FILE)  # Windows-1252 en dashes in its categories
    before = read_files("council_asb_complaints", {WEST_OXFORDSHIRE_FILE: original})
    marked = codecs.BOM_UTF8 + original
    after = read_files("council_asb_complaints", {WEST_OXFORDSHIRE_FILE: marked})
    line = only_line(after)
    assert (line["status"], line["encoding"]) == ("loaded", "cp1252")
    assert after.accepted.equals(before.accepted)


def test_a_header_longer_than_the_csv_module_allows_is_read() -> None:
    original = sample_file(DIRECTIONS_FILE)
    before = read_files("tvp_s27_directions", {DIRECTIONS_FILE: original})
    long_header = "Notes " * 40_000
    widened = original.replace(b"\r\n", b",\r\n").replace(
        b"Gender,", b"Gender," + long_header.encode(), 1
    )
    after = read_files("tvp_s27_directions", {DIRECTIONS_FILE: widened})
    assert only_line(after)["status"] == "loaded"
    assert after.accepted.equals(before.accepted)
    assert after.warnings == [f"{DIRECTIONS_FILE}: ignored 1 unknown column(s): column 5"]


def test_a_workbook_with_a_damaged_sheet_is_rejected_naming_the_sheet() -> None:
    damaged = truncate_workbook_part(sample_file(DOMESTIC_ABUSE_FILE), part=3, at=1000)
    assert zipfile.ZipFile(io.BytesIO(damaged)).namelist()[3] == "xl/worksheets/sheet1.xml"
    line = only_line(read_files("tvp_domestic_abuse", {DOMESTIC_ABUSE_FILE: damaged}))
    assert line["status"] == "rejected"
    assert str(line["message"]).startswith("sheet 'Crimes' is not a readable worksheet: ")


def test_a_count_too_large_to_store_is_set_aside() -> None:
    original = sample_file(RETURNS_FILE)
    first_row = original.split(b"\r\n")[1]
    huge = "9" * 40
    damaged = original.replace(first_row, first_row.rsplit(b",", 1)[0] + b"," + huge.encode())
    read = read_files("district_flytipping_returns", {RETURNS_FILE: damaged})
    [aside] = read.set_aside.to_pylist()
    assert (aside["row_number"], aside["reason_code"], aside["reason"]) == (
        2,
        "invalid_count",
        f"column 'Incidents': '{huge}' is too large to be a count of incidents",
    )
    assert only_line(read)["rows_loaded"] == only_line(read)["rows_read"] - 1


@pytest.mark.parametrize("huge", ["9" * 40, "-" + "9" * 40])
def test_an_offence_count_too_large_to_store_is_set_aside(huge: str) -> None:
    [(name, original)] = sample("home_office_prc").items()
    first_row = original.split(b"\r\n")[1]
    damaged = original.replace(first_row, first_row.rsplit(b",", 1)[0] + b"," + huge.encode())
    read = read_files("home_office_prc", {name: damaged})
    [aside] = read.set_aside.to_pylist()
    assert (aside["row_number"], aside["reason_code"], aside["reason"]) == (
        2,
        "invalid_count",
        f"column 'Number of Offences': '{huge}' is too large to be a count of offences",
    )


def test_a_lost_line_break_after_the_header_does_not_show_a_callers_details() -> None:
    name = "stop_hate_uk/stop_hate_uk_2014-15_Q4.csv"
    joined = join_lines(sample_file(name), at=0)
    read = read_files("stop_hate_uk", {name: joined})
    unknown = ", ".join(f"column {number}" for number in (11, 12, 13, 14, 15, 16, 17, 21))
    assert read.warnings == [f"{name}: ignored 8 unknown column(s): {unknown}"]
    assert_no_personal_values(read)
