"""The street reader's two ways of reading a file: DuckDB straight from disk for a plain file
(``plain_row_count``), the careful reader for any other. Both must give the same rows, each
numbered by its row in the file as a spreadsheet shows it, and a plain-looking file that DuckDB
reads differently or refuses must be read again carefully without moving any other file's rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import SAMPLE_RAW_DIR, STREET_HEADER, street_row, write_street_file

from oscp_pipeline.scope import SCOPE_VARIABLE
from oscp_pipeline.sources import police_uk
from oscp_pipeline.sources.base import FileRead, row_accounting_failures

HEADER = ",".join(STREET_HEADER).encode()
CRLF, LF = b"\r\n", b"\n"
FORCES = {
    "thames-valley": "Thames Valley Police",
    "hampshire": "Hampshire Constabulary",
    "kent": "Kent Police",
}


@pytest.fixture(autouse=True)
def oxfordshire_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows below are in or outside Oxfordshire, the default scope."""
    monkeypatch.delenv(SCOPE_VARIABLE, raising=False)


def _line(row: list[str]) -> bytes:
    """One row as data.police.uk writes it (quoted where needed), without its line end."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(row)
    return buffer.getvalue().removesuffix("\r\n").encode()


def _csv(lines: list[bytes], end: bytes = CRLF) -> bytes:
    """A street file: the published header, then ``lines``, each ended by ``end``."""
    return b"".join(line + end for line in [HEADER, *lines])


def _write(raw_dir: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``police_uk/<YYYY-MM>/<name>``, where the archive puts it."""
    path = raw_dir / "police_uk" / name[:7] / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _file_name(month: str, force: str) -> str:
    return f"police_uk/{month}/{month}-{force}-street.csv"


def _reported_by(force: str, row: list[str]) -> list[str]:
    """``row`` as another force publishes it, so its file is that force's month."""
    return [*row[:2], FORCES[force], FORCES[force], *row[4:]]


def _crime_id(prefix: str, number: int) -> str:
    return f"{prefix}{number:0{64 - len(prefix)}d}"


def _crimes(force: str, prefix: str, count: int) -> list[list[str]]:
    """``count`` burglaries of ``force`` with Crime IDs ``prefix`` + their position."""
    return [
        _reported_by(force, street_row(_crime_id(prefix, n), crime_type="Burglary"))
        for n in range(count)
    ]


def _read(raw_dir: Path) -> FileRead:
    return police_uk.read_street_files(police_uk.discover_files(raw_dir), raw_dir)


def _in_file_order(table: pa.Table) -> list[dict[str, object]]:
    """Rows by file and row number: the plain path keeps no row order."""
    return table.sort_by([("source_file", "ascending"), ("row_number", "ascending")]).to_pylist()


def _log_counts(read: FileRead) -> dict[str, tuple[object, ...]]:
    return {
        line["source_file"]: (
            line["rows_read"],
            line["rows_loaded"],
            line["rows_set_aside"],
            line["status"],
            line["message"],
        )
        for line in read.load_log.to_pylist()
    }


def _reasons(read: FileRead) -> dict[tuple[str, int], str]:
    return {
        (r["source_file"], r["row_number"]): r["reason_code"] for r in read.set_aside.to_pylist()
    }


def _accepted_rows(read: FileRead, source_file: str) -> dict[str, tuple[int, str]]:
    """Crime ID -> (row number, location) of a file's loaded rows."""
    return {
        row["crime_id"]: (row["row_number"], row["location"])
        for row in read.accepted.to_pylist()
        if row["source_file"] == source_file
    }


def _with_byte_order_mark(raw_dir: Path, target: Path) -> Path:
    """Copies of the street files under ``raw_dir`` (same relative names) with a UTF-8
    byte-order mark: the same rows, each file now read by the careful reader."""
    for path in police_uk.discover_files(raw_dir):
        copy = target / path.relative_to(raw_dir)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    return target


def _read_both_ways(
    raw_dir: Path, tmp_path: Path, *, delivered_plain: bool = True
) -> tuple[FileRead, FileRead]:
    """(read as delivered; read from copies the careful reader reads). ``delivered_plain``:
    every delivered file must be plain (an odd file may be, or may be left to the careful
    reader: either way its outcome must be the careful reader's)."""
    careful_dir = _with_byte_order_mark(raw_dir, tmp_path / "with_byte_order_mark")
    plain_files = police_uk.discover_files(raw_dir)
    careful_files = police_uk.discover_files(careful_dir)
    assert plain_files and len(careful_files) == len(plain_files)
    if delivered_plain:
        assert all(police_uk.plain_row_count(p.read_bytes()) is not None for p in plain_files)
    assert all(police_uk.plain_row_count(path.read_bytes()) is None for path in careful_files)
    return _read(raw_dir), _read(careful_dir)


def _assert_same_outcome(plain: FileRead, careful: FileRead) -> None:
    assert _in_file_order(plain.accepted) == _in_file_order(careful.accepted)
    assert _in_file_order(plain.set_aside) == _in_file_order(careful.set_aside)
    assert _log_counts(plain) == _log_counts(careful)
    assert row_accounting_failures(plain) == []


# --- plain_row_count ------------------------------------------------------------------------

ROWS = [street_row(), street_row("a" * 64, crime_type="Burglary"), street_row()]
ROW_LINES = [_line(row) for row in ROWS]


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        pytest.param(_csv(ROW_LINES), 3, id="CRLF"),
        pytest.param(_csv(ROW_LINES, LF), 3, id="LF"),
        pytest.param(_csv(ROW_LINES).removesuffix(CRLF), 3, id="last line without CRLF"),
        pytest.param(_csv(ROW_LINES, LF).removesuffix(LF), 3, id="last line without LF"),
        pytest.param(_csv([]), 0, id="header only, CRLF"),
        pytest.param(_csv([], LF), 0, id="header only, LF"),
        pytest.param(_csv([_line(street_row(location="On or near Café"))]), 1, id="UTF-8 text"),
    ],
)
def test_a_plain_file_counts_its_data_rows(data: bytes, rows: int) -> None:
    assert police_uk.plain_row_count(data) == rows


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(codecs.BOM_UTF8 + _csv(ROW_LINES), id="byte-order mark"),
        pytest.param(
            _csv(ROW_LINES).replace(b"Crime ID,Month", b"Month,Crime ID", 1),
            id="columns reordered",
        ),
        pytest.param(_csv(ROW_LINES).replace(b"Crime ID", b"crime id", 1), id="header case"),
        pytest.param(_csv(ROW_LINES).replace(b"LSOA name", b"LSOA Name ", 1), id="header space"),
        pytest.param(
            _csv(ROW_LINES).replace(b"High Street", b"O\x92Neills", 1),  # not UTF-8
            id="cp1252 byte",
        ),
        pytest.param(_csv([*ROW_LINES, ROW_LINES[0].replace(b",,", b",\x01,", 1)]), id="\\x01"),
        pytest.param(_csv(ROW_LINES, b"\r"), id="bare CR line ends"),
        pytest.param(_csv(ROW_LINES[:1]) + ROW_LINES[1] + b"\r" + ROW_LINES[2], id="one bare CR"),
        pytest.param(
            _csv(ROW_LINES[:1]) + ROW_LINES[1] + b"\n\r" + ROW_LINES[2], id="LF CR line end"
        ),
        pytest.param(_csv([*ROW_LINES, ROW_LINES[0].replace(b",,", b",\x00,", 1)]), id="NUL"),
        pytest.param(
            _csv([*ROW_LINES, ROW_LINES[0].replace(b"High Street", b' "High, Street"', 1)]),
            id="space before a quote",
        ),
        pytest.param(
            _csv([*ROW_LINES, ROW_LINES[0].replace(b"High Street", b'"High Street" ', 1)]),
            id="space after a quote",
        ),
        pytest.param(b"", id="empty"),
    ],
)
def test_any_other_file_is_left_to_the_careful_reader(data: bytes) -> None:
    assert police_uk.plain_row_count(data) is None


# --- both ways of reading give the same outcome ---------------------------------------------

THAMES_VALLEY_JANUARY = [
    street_row("a" * 64, crime_type="Burglary", outcome="Under investigation"),  # 2
    street_row(location="On or near Supermarket"),  # 3: anti-social behaviour
    street_row(location="On or near Supermarket"),  # 4: the same again, a separate incident
    street_row("a" * 64, crime_type="Burglary", outcome="Local resolution"),  # 5
    street_row(
        "b" * 64, crime_type="Vehicle crime", lsoa_name="", lon="", lat="", location="No Location"
    ),  # 6
    street_row("c" * 64, crime_type="Burglary", lsoa_name="Swindon 001A"),  # 7
    street_row("d" * 64, crime_type="Jaywalking"),  # 8
    street_row("e" * 64, month="January 2014", crime_type="Burglary"),  # 9
    street_row("f" * 64, month="2014-02", crime_type="Burglary"),  # 10
    street_row("1" * 64, crime_type="Burglary", lon="west"),  # 11
    street_row("2" * 64, crime_type="Burglary", lon="10.5"),  # 12
    [f"  {value} " for value in street_row("3" * 64, crime_type="Violence and sexual offences")],
    # Quoted, with a comma and quotes inside (a space beside a quote would make it not plain).
    street_row("4" * 64, crime_type="Other theft", location='On or near Café,"The Mill"'),
    street_row("5" * 64, crime_type="Robbery"),  # 15: loaded from the Hampshire file
]
HAMPSHIRE_JANUARY = [
    _reported_by("hampshire", row)
    for row in [
        street_row("5" * 64, crime_type="Robbery"),  # 2
        street_row(lsoa_name="Oxford 010B"),  # 3
        street_row("6" * 64, crime_type="Drugs", lsoa_name="West Oxfordshire 004A"),  # 4
    ]
]
THAMES_VALLEY_FEBRUARY = [
    street_row("a" * 64, month="2014-02", crime_type="Burglary"),  # 2: another month's crime
    street_row(month="2014-02", lsoa_name="Vale of White Horse 003C"),  # 3
]


def test_every_rule_gives_the_same_outcome_read_plain_or_carefully(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_street_file(raw, "2014-01", THAMES_VALLEY_JANUARY)
    _write(raw, "2014-01-hampshire-street.csv", _csv([_line(r) for r in HAMPSHIRE_JANUARY]))
    write_street_file(raw, "2014-02", THAMES_VALLEY_FEBRUARY)
    plain, careful = _read_both_ways(raw, tmp_path)
    _assert_same_outcome(plain, careful)

    thames_valley = _file_name("2014-01", "thames-valley")
    hampshire = _file_name("2014-01", "hampshire")
    february = _file_name("2014-02", "thames-valley")
    for read in (plain, careful):
        assert _reasons(read) == {
            (thames_valley, 5): "duplicate_crime_id",
            (thames_valley, 6): "no_location",
            (thames_valley, 7): "outside_area",
            (thames_valley, 8): "unknown_crime_type",
            (thames_valley, 9): "invalid_month",
            (thames_valley, 10): "month_outside_file",
            (thames_valley, 11): "invalid_coordinates",
            (thames_valley, 12): "invalid_coordinates",
            (thames_valley, 15): "duplicate_crime_id",
        }
        assert sorted((r["source_file"], r["row_number"]) for r in read.accepted.to_pylist()) == [
            *((hampshire, n) for n in (2, 3, 4)),
            *((thames_valley, n) for n in (2, 3, 4, 13, 14)),
            *((february, n) for n in (2, 3)),
        ]
        repeat = next(r["reason"] for r in read.set_aside.to_pylist() if r["row_number"] == 15)
        assert repeat == (
            f"Duplicate of Crime ID {'5' * 64} for 2014-01, already counted from {hampshire} row 2"
        )
        padded = next(r for r in read.accepted.to_pylist() if r["crime_id"] == "3" * 64)
        assert (padded["month"].isoformat(), padded["lsoa_name"], padded["location"]) == (
            "2014-01-01",
            "Cherwell 001A",
            "On or near High Street",
        )
        assert (padded["longitude"], padded["latitude"]) == (-1.3, 52.0)
    assert _log_counts(plain) == {
        hampshire: (3, 3, 0, "loaded", ""),
        thames_valley: (14, 5, 9, "loaded", ""),
        february: (2, 2, 0, "loaded", ""),
    }


def test_the_sample_gives_the_same_outcome_read_plain_or_carefully(tmp_path: Path) -> None:
    plain, careful = _read_both_ways(SAMPLE_RAW_DIR, tmp_path)
    assert plain.accepted.num_rows > 100_000
    assert plain.set_aside.num_rows > 0
    _assert_same_outcome(plain, careful)


def test_the_real_files_give_the_same_outcome_read_plain_or_carefully(
    real_dir: Path, tmp_path: Path
) -> None:
    plain, careful = _read_both_ways(real_dir, tmp_path)
    assert plain.accepted.num_rows == 9471  # as test_police_uk counts them independently
    _assert_same_outcome(plain, careful)


GOOD_LINES = [_line(row) for row in _crimes("thames-valley", "tv", 4)]
ODD_ROW = "ff" + "0" * 62 + ",2014-01,Thames Valley Police,Thames Valley Police,-1.3,52.0,{},"
ODD_ROW += "E01028479,Cherwell 001A,Burglary,,"


def _odd_line(location: str) -> bytes:
    """A row whose Location is written as given, quoted or not."""
    return ODD_ROW.format(location).encode()


def _between_good_rows(*lines: bytes) -> bytes:
    return _csv([*GOOD_LINES[:2], *lines, *GOOD_LINES[2:]])


def _second_row_ended_by(end: bytes) -> bytes:
    return _csv(GOOD_LINES).replace(GOOD_LINES[1] + CRLF, GOOD_LINES[1] + end, 1)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_between_good_rows(_odd_line('On or near 5" Pipe')), id="inner quote"),
        pytest.param(_between_good_rows(_odd_line('"On or near" Pipe')), id="after quote"),
        pytest.param(_between_good_rows(_odd_line('Pipe"')), id="quote at the end"),
        pytest.param(_between_good_rows(_odd_line('"On or near Pipe')), id="unended quote"),
        pytest.param(_between_good_rows(_odd_line('a""b')), id="doubled quote unquoted"),
        pytest.param(_between_good_rows(_odd_line('a\\"b\\')), id="backslashes"),
        pytest.param(_between_good_rows(b"   "), id="line of spaces"),
        pytest.param(_between_good_rows(b",,,,,,,,,,,"), id="commas only"),
        pytest.param(_between_good_rows(_odd_line("Pipe") + b","), id="trailing comma"),
        pytest.param(_between_good_rows(HEADER), id="header repeated"),
        pytest.param(_between_good_rows(b""), id="blank line"),
        pytest.param(_csv([b"", *GOOD_LINES]), id="blank first row"),
        pytest.param(_csv(GOOD_LINES) + CRLF + CRLF, id="blank lines at the end"),
        pytest.param(_csv(GOOD_LINES) + b"  ", id="spaces after the last line"),
        pytest.param(_between_good_rows(_odd_line("x" * 3_000_000)), id="3 MB value"),
        pytest.param(_between_good_rows(_odd_line("a\tb\x0bc\x0cd\x1ae")), id="control bytes"),
        pytest.param(
            _between_good_rows(_odd_line("a\u2028b\u0085c")), id="Unicode line separators"
        ),
        pytest.param(
            _between_good_rows(_odd_line('"a\rb"'), _odd_line('"c\nd"').replace(b"ff", b"fe", 1)),
            id="quoted CR and quoted LF",
        ),
        pytest.param(_second_row_ended_by(b"\r\r\n\n"), id="CR CR LF LF"),
        pytest.param(_between_good_rows(_odd_line(' "On or near, Pipe"')), id="space, quote"),
        pytest.param(
            _between_good_rows(_odd_line('"On or near Pipe" ').replace(b"Burglary", b"Theft", 1)),
            id="quote, space, set aside",
        ),
        pytest.param(_between_good_rows(_odd_line('"a"\t"b"')), id="tab between quotes"),
        pytest.param(_between_good_rows(_odd_line("a\x00b")), id="NUL byte"),
        pytest.param(_second_row_ended_by(b"\n\r"), id="LF CR line end"),
    ],
)
def test_odd_lines_give_the_same_outcome_read_plain_or_carefully(
    data: bytes, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    _write(raw, "2014-01-thames-valley-street.csv", data)
    plain, careful = _read_both_ways(raw, tmp_path, delivered_plain=False)
    _assert_same_outcome(plain, careful)


# --- a plain-looking file DuckDB reads differently or refuses -------------------------------

IRREGULAR = _crimes("thames-valley", "tv", 6)
QUOTED_BREAK = [
    *IRREGULAR[:2],
    [*IRREGULAR[2][:6], "On or near\r\nHigh Street", *IRREGULAR[2][7:]],
    *IRREGULAR[3:],
]
# Context is free text the force may type over several lines: never loaded, so its row loads.
CONTEXT_BREAK = [
    *IRREGULAR[:2],
    [*IRREGULAR[2][:11], "Seen from a\r\nneighbouring garden"],
    *IRREGULAR[3:],
]
HAMPSHIRE_ROWS = _crimes("hampshire", "ha", 5)
KENT_ROWS = _crimes("kent", "ke", 3)
BAD_ROW = _reported_by("thames-valley", street_row(_crime_id("bad", 0)))
TOO_MANY = [*BAD_ROW, "extra", "field"]
TOO_FEW = BAD_ROW[:5]
REGULAR_LINES = [_line(row) for row in IRREGULAR]


@pytest.mark.parametrize(
    ("rows", "lines", "numbers", "malformed"),
    [
        pytest.param(
            IRREGULAR,
            [*REGULAR_LINES[:3], b"", *REGULAR_LINES[3:]],
            [2, 3, 4, 6, 7, 8],
            [],
            id="blank line",
        ),
        pytest.param(
            IRREGULAR,
            [*REGULAR_LINES[:3], b"", b"", *REGULAR_LINES[3:]],
            [2, 3, 4, 7, 8, 9],
            [],
            id="two blank lines",
        ),
        pytest.param(
            [*QUOTED_BREAK[:2], *QUOTED_BREAK[3:]],
            [_line(row) for row in QUOTED_BREAK],
            [2, 3, 5, 6, 7],
            # A line break in a loaded value is a quote left open: the row is set aside.
            [
                (
                    4,
                    "police_uk/2014-01/2014-01-thames-valley-street.csv row 4: a quote opens in "
                    "column 7 ('Location') and is not closed on its line, so the record runs "
                    "from line 4 to line 5; none of it is loaded and its text is withheld (it "
                    "may hold personal data); expected a quoted value in this column to close "
                    "on the line it opens: close the quote and deliver the file again",
                )
            ],
            id="line break in a quoted value",
        ),
        pytest.param(
            CONTEXT_BREAK,
            [_line(row) for row in CONTEXT_BREAK],
            [2, 3, 4, 5, 6, 7],
            [],
            id="line break in the free-text context",
        ),
        pytest.param(
            IRREGULAR,
            [*REGULAR_LINES[:3], _line(TOO_MANY), *REGULAR_LINES[3:]],
            [2, 3, 4, 6, 7, 8],
            [(5, "row has 14 fields; the header has 12")],
            id="too many fields",
        ),
        pytest.param(
            IRREGULAR,
            [*REGULAR_LINES[:3], _line(TOO_FEW), *REGULAR_LINES[3:]],
            [2, 3, 4, 6, 7, 8],
            [(5, "row has 5 fields; the header has 12")],
            id="too few fields",
        ),
        pytest.param(
            IRREGULAR, [*REGULAR_LINES, b""], [2, 3, 4, 5, 6, 7], [], id="blank line at the end"
        ),
    ],
)
def test_a_file_duckdb_reads_differently_is_read_again_keeping_every_row_number(
    rows: list[list[str]],
    lines: list[bytes],
    numbers: list[int],
    malformed: list[tuple[int, str]],
    tmp_path: Path,
) -> None:
    raw = tmp_path / "raw"
    irregular = _write(raw, "2014-01-thames-valley-street.csv", _csv(lines))
    _write(raw, "2014-01-hampshire-street.csv", _csv([_line(r) for r in HAMPSHIRE_ROWS]))
    _write(raw, "2014-01-kent-street.csv", _csv([_line(r) for r in KENT_ROWS], LF))
    assert police_uk.plain_row_count(irregular.read_bytes()) is not None  # it looks plain
    read = _read(raw)

    thames_valley = _file_name("2014-01", "thames-valley")
    assert _accepted_rows(read, thames_valley) == {
        row[0]: (number, row[6]) for row, number in zip(rows, numbers, strict=True)
    }
    assert [
        (r["row_number"], r["reason_code"], r["reason"])
        for r in _in_file_order(read.set_aside)
        if r["source_file"] == thames_valley
    ] == [(number, "malformed_row", reason) for number, reason in malformed]
    for force, others in (("hampshire", HAMPSHIRE_ROWS), ("kent", KENT_ROWS)):
        assert _accepted_rows(read, _file_name("2014-01", force)) == {
            row[0]: (number, row[6]) for number, row in enumerate(others, start=2)
        }
    assert {r["source_file"] for r in read.set_aside.to_pylist()} <= {thames_valley}
    assert _log_counts(read) == {
        _file_name("2014-01", "hampshire"): (5, 5, 0, "loaded", ""),
        _file_name("2014-01", "kent"): (3, 3, 0, "loaded", ""),
        thames_valley: (len(rows) + len(malformed), len(rows), len(malformed), "loaded", ""),
    }
    assert row_accounting_failures(read) == []


# --- thousands of rows in a month -----------------------------------------------------------

# Rows per force in one month: files of different sizes, so that DuckDB reads some together.
MONTH_SIZES = {"thames-valley": 2500, "hampshire": 1500, "kent": 1000}


def _numbered_rows(force: str, count: int) -> list[list[str]]:
    """Rows whose position is in their Crime ID or Location; every third is anti-social
    behaviour and every seventh lies outside Oxfordshire."""
    rows = []
    for n in range(count):
        lsoa = "Swindon 001A" if n % 7 == 6 else "Cherwell 001A"
        if n % 3 == 2:
            row = street_row(location=f"On or near Street {n}", lsoa_name=lsoa)
        else:
            row = street_row(_crime_id(force[:2], n), crime_type="Burglary", lsoa_name=lsoa)
        rows.append(_reported_by(force, row))
    return rows


def test_thousands_of_rows_in_a_month_keep_their_row_numbers(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    expected: dict[tuple[str, int], tuple[str, str]] = {}
    for force, count in MONTH_SIZES.items():
        rows = _numbered_rows(force, count)
        end = LF if force == "kent" else CRLF
        path = _write(raw, f"2014-01-{force}-street.csv", _csv([_line(r) for r in rows], end))
        assert police_uk.plain_row_count(path.read_bytes()) == count
        for number, row in enumerate(rows, start=2):
            expected[(_file_name("2014-01", force), number)] = (row[0], row[6])
    read = _read(raw)

    accepted = {
        (r["source_file"], r["row_number"]): (r["crime_id"] or "", r["location"])
        for r in read.accepted.to_pylist()
    }
    aside = {
        (r["source_file"], r["row_number"]): r["reason_code"] for r in read.set_aside.to_pylist()
    }
    assert len(accepted) == read.accepted.num_rows
    assert accepted.keys() | aside.keys() == expected.keys()
    assert not accepted.keys() & aside.keys()
    assert accepted == {key: value for key, value in expected.items() if key not in aside}
    assert set(aside.values()) == {"outside_area"}
    assert aside.keys() == {
        (source_file, number) for source_file, number in expected if (number - 2) % 7 == 6
    }

    thames_valley = _file_name("2014-01", "thames-valley")
    kent = _file_name("2014-01", "kent")
    assert accepted[(thames_valley, 2)][0] == _crime_id("th", 0)
    assert accepted[(thames_valley, 2501)][0] == _crime_id("th", 2499)
    assert accepted[(_file_name("2014-01", "hampshire"), 1004)][0] == _crime_id("ha", 1002)
    assert accepted[(kent, 2)][0] == _crime_id("ke", 0)
    assert accepted[(kent, 1001)][0] == _crime_id("ke", 999)
    assert accepted[(kent, 4)] == ("", "On or near Street 2")
    outside = {force: sum(n % 7 == 6 for n in range(count)) for force, count in MONTH_SIZES.items()}
    assert _log_counts(read) == {
        _file_name("2014-01", force): (count, count - outside[force], outside[force], "loaded", "")
        for force, count in MONTH_SIZES.items()
    }


def test_a_file_larger_than_duckdbs_read_buffers_keeps_every_row_number(tmp_path: Path) -> None:
    """DuckDB reads a large file in parallel chunks: the numbering by position must still be
    each row's line, all the way through (a file of 100 MB, three times DuckDB's buffer)."""
    count = 470_000
    header = ",".join(STREET_HEADER).encode() + CRLF
    prefix = ",2014-01,Thames Valley Police,Thames Valley Police,-1.300000,52.000000,"
    body = "".join(
        f"{number:064x}{prefix}On or near Street {number % 997},E01028479,Cherwell 001A,"
        "Burglary,Under investigation,\r\n"
        for number in range(count)
    ).encode()
    raw = tmp_path / "raw"
    path = _write(raw, "2014-01-thames-valley-street.csv", header + body)
    assert path.stat().st_size > 96_000_000
    assert police_uk.plain_row_count(path.read_bytes()) == count

    read = _read(raw)

    assert read.set_aside.num_rows == 0
    assert read.accepted.num_rows == count
    written_position = pa.compute.cast(
        pa.compute.utf8_slice_codeunits(read.accepted.column("crime_id"), 48), pa.string()
    ).to_pylist()
    numbers = read.accepted.column("row_number").to_pylist()
    assert sorted(numbers) == list(range(2, count + 2))
    assert all(
        int(tail, 16) + 2 == number for tail, number in zip(written_position, numbers, strict=True)
    )


# --- what a set-aside record keeps ------------------------------------------------------------

CONTEXT_NOTE = "CTXNOTE victim Jane Doe, 12 Acacia Ave, 07700 900123"
# One row breaking each rule whose set-aside row keeps a record, each with a note in Context.
RULES_BROKEN_WITH_CONTEXT = [
    [*row[:-1], CONTEXT_NOTE]
    for row in (
        street_row("c" * 64, crime_type="Burglary"),
        street_row("c" * 64, crime_type="Burglary"),  # a repeated Crime ID
        street_row(crime_type="Made up type"),
        street_row(lat="99"),
        street_row(month="2014-02"),
        street_row(month="January"),
    )
]


def _shown(read: FileRead) -> str:
    tables = (read.accepted, read.set_aside, read.load_log)
    return "\n".join([*(str(table.to_pylist()) for table in tables), *read.warnings])


def test_free_text_context_stays_out_of_the_record_of_each_rule_broken(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_street_file(raw, "2014-01", RULES_BROKEN_WITH_CONTEXT)
    plain, careful = _read_both_ways(raw, tmp_path)
    _assert_same_outcome(plain, careful)

    for read in (plain, careful):
        assert "CTXNOTE" not in _shown(read)
        records = {
            r["reason_code"]: json.loads(r["record"]) for r in _in_file_order(read.set_aside)
        }
        assert sorted(records) == [
            "duplicate_crime_id",
            "invalid_coordinates",
            "invalid_month",
            "month_outside_file",
            "unknown_crime_type",
        ]
        # Every other column is kept, so a partner can still find and correct the row.
        assert all(list(record) == STREET_HEADER[:-1] for record in records.values())
        assert records["unknown_crime_type"]["Crime type"] == "Made up type"
        assert records["invalid_coordinates"]["Latitude"] == "99"


def test_free_text_context_stays_out_of_the_record_of_a_superseded_row(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_street_file(raw, "2014-01", RULES_BROKEN_WITH_CONTEXT)
    _write(raw, "2014-01-thames-valley-updated-street.csv", _csv([_line(street_row())]))
    plain, careful = _read_both_ways(raw, tmp_path)
    _assert_same_outcome(plain, careful)

    for read in (plain, careful):
        assert "CTXNOTE" not in _shown(read)
        records = [json.loads(r["record"]) for r in _in_file_order(read.set_aside)]
        assert _reasons(read) == {
            (_file_name("2014-01", "thames-valley"), number): "superseded"
            for number in range(2, 2 + len(RULES_BROKEN_WITH_CONTEXT))
        }
        assert [list(record) for record in records] == [STREET_HEADER[:-1]] * len(records)
