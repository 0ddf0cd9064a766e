"""What every source reader shares: contracts, file reading, and the shape of a read.

A reader turns one delivered file into canonical rows plus the rows it could not accept, each with
a reason. Nothing a reader is given disappears: every data row of a file ends either in
``accepted`` or in ``set_aside``, and the load log counts both (rows read = loaded + set aside).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import functools
import hashlib
import io
import json
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from oscp_pipeline import periods

# Python's csv module refuses fields over 128 KB; a partner's free-text field can be longer, and
# such a row must be read (and set aside if it is malformed), not crash the reader.
csv.field_size_limit(2**31 - 1)

# Set-aside and load-log rows have one shape for every source, so the warehouse can union them.
SET_ASIDE_SCHEMA = pa.schema(
    [
        ("source_id", pa.string()),
        ("source_file", pa.string()),
        ("row_number", pa.int64()),
        ("reason_code", pa.string()),
        ("reason", pa.string()),
        ("record", pa.string()),
    ]
)

LOAD_LOG_SCHEMA = pa.schema(
    [
        ("source_id", pa.string()),
        ("source_file", pa.string()),
        ("sha256", pa.string()),
        ("encoding", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("rows_read", pa.int64()),
        ("rows_loaded", pa.int64()),
        ("rows_set_aside", pa.int64()),
        ("status", pa.string()),
        ("message", pa.string()),
    ]
)


class FileRejected(Exception):
    """A whole file cannot be read as its contract says; the message names file and problem."""

    def __init__(self, source_file: str, problem: str) -> None:
        super().__init__(f"{source_file}: {problem}")
        self.source_file = source_file
        self.problem = problem


@dataclass(frozen=True)
class Column:
    """One column of a source contract: its canonical name and the headers it may arrive under."""

    name: str
    header: str
    description: str
    aliases: tuple[str, ...] = ()
    required: bool = True
    personal: bool = False  # known personal or free-text field: recognised, never loaded

    def accepted_headers(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


@dataclass(frozen=True)
class Expectation:
    """A declarative data-quality rule on a source's accepted rows, run by Great Expectations.

    ``kind`` is one of: ``not_null``, ``in_set``, ``between``, ``compound_unique``,
    ``row_count_between``. ``params`` holds the kind's arguments (``value_set``,
    ``min_value``/``max_value``, ``columns``). ``why`` is shown to analysts and partners.
    """

    kind: str
    why: str
    column: str | None = None
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceContract:
    """Everything the pipeline requires of one partner's extract, in one declaration."""

    source_id: str
    title: str
    publisher: str
    file_pattern: str
    columns: tuple[Column, ...]
    expectations: tuple[Expectation, ...]
    row_rules: tuple[str, ...]
    # Whether a loaded row is one record ("one") or, in a wide layout such as a row per
    # district with a column per month, several ("several"). Row accounting counts a file's
    # records for "one", so a row loaded twice is caught, and its distinct row numbers otherwise.
    records_per_row: Literal["one", "several"] = "one"

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


@dataclass
class FileRead:
    """The outcome of reading one file: canonical rows, set-aside rows and the log line."""

    accepted: pa.Table
    set_aside: pa.Table
    load_log: pa.Table
    warnings: list[str] = field(default_factory=list)
    # Each file a later delivery of its period replaced -> that later delivery (as a reader's
    # ``latest_deliveries`` decided), for ``reads_each_delivery_once``.
    replaced: dict[str, str] = field(default_factory=dict)

    def with_warnings(self, warnings: list[str]) -> FileRead:
        """The same read with further warnings first (files passed over before reading)."""
        if not warnings:
            return self
        return FileRead(
            self.accepted,
            self.set_aside,
            self.load_log,
            [*warnings, *self.warnings],
            self.replaced,
        )

    def with_log_lines(self, lines: list[dict[str, object]]) -> FileRead:
        """The same read with further load-log lines (files held back before reading)."""
        if not lines:
            return self
        extra = pa.Table.from_pylist(lines, LOAD_LOG_SCHEMA)
        return FileRead(
            self.accepted, self.set_aside, pa.concat_tables([self.load_log, extra]), self.warnings
        )

    @classmethod
    def from_rows(
        cls,
        accepted_schema: pa.Schema,
        accepted: list[dict[str, object]],
        set_aside: list[dict[str, object]],
        load_log: list[dict[str, object]],
        warnings: list[str],
        replaced: dict[str, str] | None = None,
    ) -> FileRead:
        """A read collected row by row, as the tables every source shares."""
        return cls(
            pa.Table.from_pylist(accepted, accepted_schema),
            pa.Table.from_pylist(set_aside, SET_ASIDE_SCHEMA),
            pa.Table.from_pylist(load_log, LOAD_LOG_SCHEMA),
            warnings,
            replaced or {},
        )


class UnclosedQuote(NamedTuple):
    """A quote left open at the end of a record's first line, so the record runs over the lines
    after it: the position (from 1) of the column it opens, that column's contract header (""
    for a column no contract names, which is named by its position only) and the first and last
    line of the file the record runs over (``None`` when they cannot be told)."""

    column: int
    header: str = ""
    lines: tuple[int, int] | None = None


class MalformedRow(NamedTuple):
    """A row that cannot be trusted: its fields do not line up with the header, or a quote left
    open runs it over the lines after it (``unclosed_quote``). Its row number and how many
    fields it has; its text is not kept: its cells may hold personal data."""

    number: int
    fields: int
    unclosed_quote: UnclosedQuote | None = None


@dataclass
class RawRecords:
    """A delimited file read as text: one string column per contract column, plus row numbers.

    ``row_number`` counts the header as row 1, as a spreadsheet shows the file (a blank line is a
    row too). Rows with the wrong number of fields, and rows with a line break in a column that
    is loaded (a quote left open: ``split_off_untrusted_rows``), are not in ``table`` but in
    ``malformed``, so they can be set aside. ``unknown_columns`` are the positions (from 1) of
    the header cells no contract column claims. ``warnings`` say what an analyst should check
    (e.g. mixed encodings). ``header_fields`` is the number of fields of a CSV header line,
    blank cells included, the width every row must have (a worksheet has no malformed rows: 0).
    """

    table: pa.Table
    malformed: list[MalformedRow]
    header_map: dict[str, str]
    unknown_columns: list[int]
    encoding: str
    warnings: list[str] = field(default_factory=list)
    header_fields: int = 0


def sha256_of(path: Path) -> str:
    """Content hash that identifies a delivery whatever its file name.

    Each file is hashed once per process while it is unchanged (same size and modification
    time): finding copies and logging each file both need it, and a national year is 1.3 GB.
    """
    status = path.stat()
    return _sha256_of(path.resolve(), status.st_size, status.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _sha256_of(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# What a file's name says it delivers (a quarter, a month, the years of a release), as a reader
# reads it from the name; None when the name gives none. ``FileRejected`` and ``ValueError``
# from it mean the name gives none too: the reader rejects that file and says why.
NamedPeriod = Callable[[Path], object]


def _named_period_of(path: Path, named_period: NamedPeriod | None) -> object:
    """The period ``path``'s name gives, by ``named_period``; None when it gives none."""
    if named_period is None:
        return None
    try:
        return named_period(path)
    except (FileRejected, ValueError):
        return None


def distinct_deliveries(
    paths: Sequence[Path], named_period: NamedPeriod | None = None
) -> tuple[list[Path], dict[Path, Path]]:
    """``paths`` without exact copies of an earlier delivery, and each copy with the delivery
    it repeats (see ``duplicate_log_lines``).

    The same bytes delivered twice under two names (a resend, a copy in the wrong folder) are
    one delivery: reading both would count every row twice. The delivery read is the earliest
    (by modification time, then by name). A copy whose name gives another period than the
    earlier file's (``named_period``) is no copy of it: it is the delivery of its own period
    (a misnamed file resent under the right name), and the reader decides what each file loads.
    A copy whose name gives no period claims none: it is a copy of the earliest file of the same
    bytes whose name gives one, if any. Files with no data rows (empty, or a header only) are
    never copies of each other: two quarters can both be empty.
    """
    # Hashing reads every byte (a national quarter is 300 MB) and hashlib releases the GIL
    # while it works, so the files are hashed on every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        digests = dict(zip(paths, pool.map(sha256_of, paths), strict=True))
    named = {path: _named_period_of(path, named_period) for path in paths}
    kept: dict[tuple[str, object], Path] = {}
    first_named: dict[str, Path] = {}  # per content, the earliest file whose name gives a period
    for path in sorted(paths, key=lambda p: (p.stat().st_mtime_ns, str(p))):
        if _has_data_rows(path):
            kept.setdefault((digests[path], named[path]), path)
            if named[path] is not None:
                first_named.setdefault(digests[path], path)
    distinct: list[Path] = []
    copies: dict[Path, Path] = {}
    for path in paths:
        original = kept.get((digests[path], named[path]), path)
        if named[path] is None:
            original = first_named.get(digests[path], original)
        if original == path:
            distinct.append(path)
        else:
            copies[path] = original
    return distinct, copies


def duplicate_log_lines(
    source_id: str, copies: dict[Path, Path], raw_dir: Path, read: FileRead
) -> list[dict[str, object]]:
    """A ``duplicate`` load-log line per copy (``distinct_deliveries``): none of its rows is
    read, and the message names the file it repeats and what became of that file in ``read``
    (loaded, superseded, rejected, quarantined), so it never says a file is loaded that is
    not."""
    lines = [
        load_log_row(
            source_id,
            relative_source_file(copy, raw_dir),
            sha256_of(copy),
            "",
            (None, None),
            (0, 0, 0),
            "duplicate",
            _duplicate_message(relative_source_file(original, raw_dir), "which is loaded"),
        )
        for copy, original in copies.items()
    ]
    return restate_duplicates([*read.load_log.to_pylist(), *lines])[len(read.load_log) :]


def _duplicate_message(original_file: str, outcome: str) -> str:
    return f"identical (same SHA-256) to {original_file}, {outcome}; not read again"


_DUPLICATE_OF = re.compile(r"^identical \(same SHA-256\) to (?P<original>.+?), which ")


def restate_duplicates(log: list[dict[str, object]]) -> list[dict[str, object]]:
    """``log`` with each ``duplicate`` line saying what became of the file it repeats, as the
    other lines of ``log`` now say: after the quality gate has quarantined that file too."""
    read = [(str(line["source_file"]), str(line["status"])) for line in log]
    restated = []
    for line in log:
        found = _DUPLICATE_OF.match(str(line["message"] or ""))
        if line["status"] == "duplicate" and found:
            original = found["original"]
            # A workbook has a line per sheet: 'file.xlsx#Sheet'.
            of = {
                status
                for name, status in read
                if status != "duplicate" and (name == original or name.startswith(f"{original}#"))
            }
            if of == {"loaded"}:
                outcome = "which is loaded"
            elif of:
                outcome = f"which is {' and '.join(sorted(of))} (see its load-log line)"
            else:
                outcome = "which has no load-log line"
            line = {**line, "message": _duplicate_message(found["original"], outcome)}
        restated.append(line)
    return restated


def _has_data_rows(path: Path) -> bool:
    """False for an empty file or a text file of one line (a header only)."""
    with path.open("rb") as handle:
        start = handle.read(1 << 16)
    text = start.strip()
    return len(start) == 1 << 16 or b"\n" in text or b"\r" in text


ReadFiles = Callable[[list[Path], Path], FileRead]


def mark_superseded(read: FileRead) -> FileRead:
    """Log each file whose every row a later delivery of its period replaced as
    ``superseded``, with the reason, rather than as a loaded file that loaded nothing: it was
    read and accounted for, it is not suspect, and it is no longer the delivery in use."""
    is_superseded = pc.equal(read.set_aside.column("reason_code"), "superseded")
    replaced = read.set_aside.filter(is_superseded).select(["source_file", "reason"])
    superseded = dict(zip(*replaced.to_pydict().values(), strict=True))
    others = read.set_aside.filter(pc.invert(is_superseded)).column("source_file")
    other = set(pc.unique(others).to_pylist())
    lines = read.load_log.to_pylist()
    marked = [
        {**line, "status": "superseded", "message": superseded[line["source_file"]]}
        if line["status"] == "loaded"
        and line["rows_loaded"] == 0
        and line["source_file"] in superseded
        and line["source_file"] not in other
        else line
        for line in lines
    ]
    if marked == lines:
        return read
    return FileRead(
        read.accepted,
        read.set_aside,
        pa.Table.from_pylist(marked, LOAD_LOG_SCHEMA),
        read.warnings,
    )


def reads_each_delivery_once(
    source_id: str, named_period: NamedPeriod | None = None
) -> Callable[[ReadFiles], ReadFiles]:
    """Decorate a reader of a list of files so exact copies are logged, not read twice, and a
    file a later delivery replaced is logged as superseded. ``named_period`` reads the period
    a file's name gives, as the reader does: only a file of the same period can be a copy."""

    def decorate(read_files: ReadFiles) -> ReadFiles:
        @functools.wraps(read_files)
        def read(paths: list[Path], raw_dir: Path) -> FileRead:
            return read_each_delivery_once(source_id, read_files, paths, raw_dir, named_period)

        return read

    return decorate


def read_each_delivery_once(
    source_id: str,
    read_files: ReadFiles,
    paths: list[Path],
    raw_dir: Path,
    named_period: NamedPeriod | None = None,
) -> FileRead:
    """Read ``paths`` with ``read_files``: exact copies of a delivery of the same period (as
    ``named_period`` reads it from the name) logged and not read twice, a re-delivery
    that loads no row held back so that the delivery it would replace stays loaded, and a file
    a later delivery replaced logged as superseded.

    A re-delivery that loads no row is set apart and the files read again without it, until no
    replacing delivery loads nothing: a second bad re-delivery would otherwise replace the good
    first one in turn. Those set apart are held back only when a delivery they would replace
    loads rows without them: a whole-force street file re-downloaded for another county loads
    nothing either way, and is not suspect for that.
    """
    distinct, copies = distinct_deliveries(paths, named_period)
    named = {relative_source_file(path, raw_dir): path for path in distinct}

    def read_without(apart: Collection[str]) -> FileRead:
        return read_files([path for name, path in named.items() if name not in apart], raw_dir)

    first = current = read_files(distinct, raw_dir)
    apart: dict[str, list[str]] = {}  # a re-delivery loading nothing: the files it replaced
    found_in: dict[str, FileRead] = {}  # the read in which it was the delivery in use
    while empty := _replacing_yet_loading_nothing(current, set(named) - set(apart)):
        apart.update(empty)
        found_in.update(dict.fromkeys(empty, current))
        current = read_without(apart)
    loaded = _rows_loaded(current)
    held = {
        later: earlier
        for later, earlier in apart.items()
        if any(loaded.get(name, 0) for name in earlier)
    }
    if not held:
        read = mark_superseded(first)
    else:
        if held != apart:
            current = read_without(held)
        read = mark_superseded(_held_back(held, found_in, current))
    return read.with_log_lines(duplicate_log_lines(source_id, copies, raw_dir, read))


def _rows_loaded(read: FileRead) -> dict[str, int]:
    """Rows loaded per file, of the files read and loaded."""
    return {
        line["source_file"]: line["rows_loaded"]
        for line in read.load_log.to_pylist()
        if line["status"] == "loaded"
    }


def _replacing_yet_loading_nothing(read: FileRead, files: set[str]) -> dict[str, list[str]]:
    """Later deliveries that replaced an earlier one of their period but load no row (every
    row set aside, or none at all): {later delivery: the files it replaced}."""
    loaded = _rows_loaded(read)
    empty: dict[str, list[str]] = {}
    for earlier, later in sorted(read.replaced.items()):
        if later in files and loaded.get(later) == 0:
            empty.setdefault(later, []).append(earlier)
    return empty


def held_back_message(rows_read: int, stays: str) -> str:
    """The load-log message of a re-delivery held back because none of its rows can be
    loaded, naming the delivery that stays loaded."""
    return (
        f"none of its {rows_read} row(s) can be loaded (see set_aside), so it does not replace "
        f"{stays}, which stays loaded"
    )


def _held_back(
    held: dict[str, list[str]], found_in: dict[str, FileRead], without: FileRead
) -> FileRead:
    """The read without the re-deliveries that load nothing (``without``), so the deliveries
    they would have replaced stay loaded, plus those re-deliveries held back: their load-log
    lines quarantined, saying why, and their rows set aside as the read in which each was the
    delivery in use found them."""
    set_aside = [without.set_aside]
    lines = []
    for later, earlier in held.items():
        read = found_in[later]
        set_aside.append(
            read.set_aside.filter(pc.equal(read.set_aside.column("source_file"), later))
        )
        stays = ", ".join(name for name in earlier if name not in held)
        lines.extend(
            {
                **line,
                "status": "quarantined",
                "message": held_back_message(line["rows_read"], stays),
            }
            for line in read.load_log.to_pylist()
            if line["source_file"] == later
        )
    return FileRead(
        without.accepted,
        pa.concat_tables(set_aside),
        pa.concat_tables([without.load_log, pa.Table.from_pylist(lines, LOAD_LOG_SCHEMA)]),
        without.warnings,
        without.replaced,
    )


def source_files(raw_dir: Path, folder: str, suffixes: Collection[str]) -> list[Path]:
    """The files in ``<raw>/<folder>`` with one of ``suffixes`` (any case), in a stable order.

    A source with no folder yet has no files: a partner that has not delivered is not an error.
    What else the folder holds is named by ``unread_files_warnings``.
    """
    directory = raw_dir / folder
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if path.suffix.lower() in suffixes)


# Files the operating system or Office leave beside a delivery, which hold no data: macOS's
# '.DS_Store' and '._' files, Windows's 'Thumbs.db' and 'desktop.ini', Office's '~$' lock files.
_SYSTEM_FILE_NAMES = frozenset({"thumbs.db", "desktop.ini"})


def is_system_file(path: Path) -> bool:
    """Whether ``path`` is a file the system or Office made, not a delivery."""
    return path.name.startswith((".", "~$")) or path.name.casefold() in _SYSTEM_FILE_NAMES


def unread_files_warnings(raw_dir: Path, folder: str, suffixes: Collection[str]) -> list[str]:
    """A warning for each file or folder in ``<raw>/<folder>`` that ``source_files`` passes
    over, naming it and what the source reads: a quarter sent as a '.xlsm' workbook or a '.txt'
    export must not disappear unseen. Files the system or Office made are not named."""
    directory = raw_dir / folder
    if not directory.is_dir():
        return []
    reads = " or ".join(sorted(suffixes))
    warnings = []
    for path in sorted(directory.iterdir()):
        if is_system_file(path):
            continue
        name = relative_source_file(path, raw_dir)
        if path.is_dir():
            warnings.append(f"{name}/: not read; the source reads only files directly in {folder}/")
        elif path.suffix.lower() not in suffixes:
            warnings.append(f"{name}: not read; the source reads only {reads} files")
    return warnings


def relative_source_file(path: Path, raw_dir: Path) -> str:
    """A delivered file's name as the warehouse shows it: its path under the raw folder.

    The path as found under ``raw_dir`` is kept when it is there; otherwise both are resolved,
    so a raw folder named by a relative path or through a link still gives the same name. A file
    outside the raw folder is known by its own name.
    """
    if path.is_relative_to(raw_dir):
        return path.relative_to(raw_dir).as_posix()
    try:
        return path.resolve().relative_to(raw_dir.resolve()).as_posix()
    except ValueError:
        return path.name


# Bytes Windows-1252 leaves undefined: no character can be read from them.
_UNDEFINED_IN_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# How many offending bytes a message lists before saying how many more there are.
_BYTES_LISTED = 10
MIXED_ENCODING = "utf-8+cp1252"


@dataclass(frozen=True)
class DecodedText:
    """A delivered text file as UTF-8 bytes without a byte-order mark, the encoding it arrived
    in (the load log's ``encoding``), and what an analyst should check about it."""

    utf8: bytes
    encoding: str
    warnings: tuple[str, ...] = ()


def decode_delivery(data: bytes, source_file: str) -> DecodedText:
    """Read a delivered file's bytes as text, whatever encoding it arrived in.

    Partners send UTF-8 (with or without a byte-order mark), Windows-1252 (Excel's "CSV" on
    Windows) or UTF-16 with a byte-order mark. A file with no UTF-8 character of two or more
    bytes is Windows-1252, which maps almost every byte. A UTF-8 file with a few bytes that are
    not UTF-8 (a Windows-1252 quote pasted into it) keeps its UTF-8 characters: each stray byte
    alone is read as Windows-1252, the encoding is ``utf-8+cp1252`` and a warning says where.
    A byte that is no character in either encoding is never guessed at: the file is rejected,
    naming the byte and its line.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode Text"; a file that is not valid UTF-16 is not text at all.
        return DecodedText(data.decode("utf-16", errors="replace").encode("utf-8"), "utf-16")
    mark = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    body = data[mark:] if mark else data
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return DecodedText(body, "utf-8-sig" if mark else "utf-8")
    if b"\x00" in body:
        raise FileRejected(
            source_file,
            "the file is not text (it contains NUL bytes); expected a text file "
            "(UTF-8, Windows-1252 or UTF-16)",
        )
    if body.decode("utf-8", errors="ignore").isascii():  # no UTF-8 character: Windows-1252
        text, encoding, strays = body.decode("cp1252", errors="replace"), "cp1252", []
        undefined = []
        if "\ufffd" in text:  # only an undefined byte reads as U+FFFD
            undefined = [match.start() for match in _UNDEFINED_IN_CP1252.finditer(body)]
    else:
        text, strays = _utf8_with_cp1252_bytes(body)
        encoding = MIXED_ENCODING
        undefined = [offset for offset in strays if _UNDEFINED_IN_CP1252.match(body, offset)]
    if undefined:
        raise FileRejected(
            source_file,
            f"{len(undefined)} byte(s) are no character in UTF-8 or Windows-1252: "
            f"{_byte_places(data, [mark + offset for offset in undefined])}; expected a text file "
            "in UTF-8, Windows-1252 or UTF-16 (re-save the file as UTF-8)",
        )
    warnings: tuple[str, ...] = ()
    if strays:
        warnings = (
            f"{source_file}: {len(strays)} byte(s) are not UTF-8 in an otherwise UTF-8 file and "
            "were each read as a Windows-1252 character: "
            f"{_byte_places(data, [mark + offset for offset in strays])}",
        )
    return DecodedText(text.encode("utf-8"), encoding, warnings)


def decode_to_utf8(data: bytes) -> tuple[bytes, str]:
    """UTF-8 bytes without a BOM and the encoding the file arrived in (``decode_delivery``).

    A file that cannot be read as text raises ``FileRejected`` naming no file: the caller, which
    knows the file, logs the problem.
    """
    decoded = decode_delivery(data, "")
    return decoded.utf8, decoded.encoding


# The offsets of stray bytes found by the decoding error handler below, per thread (readers may
# run in threads); the handler is called only for bytes that are not UTF-8.
_STRAY_BYTES = threading.local()
_STRAY_BYTE_AS_CP1252 = "oscp-stray-byte-as-cp1252"


def _read_stray_byte_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Decoding error handler: one byte that is not UTF-8, read alone as Windows-1252 (an
    undefined byte as U+FFFD, for the caller to reject) and its offset noted."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    _STRAY_BYTES.offsets.append(error.start)
    byte = error.object[error.start : error.start + 1]
    return byte.decode("cp1252", errors="replace"), error.start + 1


codecs.register_error(_STRAY_BYTE_AS_CP1252, _read_stray_byte_as_cp1252)


def _utf8_with_cp1252_bytes(body: bytes) -> tuple[str, list[int]]:
    """``body`` read as UTF-8, each byte that is not UTF-8 read alone as Windows-1252; and the
    offsets of those bytes."""
    _STRAY_BYTES.offsets = []
    text = body.decode("utf-8", errors=_STRAY_BYTE_AS_CP1252)
    strays: list[int] = _STRAY_BYTES.offsets
    return text, strays


def _byte_places(data: bytes, offsets: Sequence[int]) -> str:
    """Where bytes are, as a hex viewer and a text editor show them, the first few only:
    ``0xA3 ('£') at byte offset 1234 (line 5)``; an undefined byte has no character shown.
    ``offsets`` are in order, so lines are counted in one pass."""
    places = []
    line, counted_to = 1, 0
    for offset in offsets[:_BYTES_LISTED]:
        line += (
            data.count(b"\n", counted_to, offset)
            + data.count(b"\r", counted_to, offset)
            - data.count(b"\r\n", counted_to, offset)
        )
        counted_to = offset
        byte = data[offset : offset + 1]
        character = "" if _UNDEFINED_IN_CP1252.match(byte) else f" ({byte.decode('cp1252')!r})"
        places.append(f"0x{byte[0]:02X}{character} at byte offset {offset} (line {line})")
    more = len(offsets) - _BYTES_LISTED
    return ", ".join(places) + (f" and {more} more" if more > 0 else "")


def normalise_header(text: str) -> str:
    """Header comparison key: case, surrounding and repeated spaces do not matter."""
    return " ".join(text.replace("\ufeff", "").split()).casefold()


def match_header(
    found: Sequence[str], columns: Sequence[Column], source_file: str
) -> tuple[dict[str, str], list[int]]:
    """Map the file's headers to canonical column names, whatever their order.

    Returns (found header -> canonical name, positions from 1 of the unknown headers). A missing
    required column rejects the file with a message naming it and the known headers found.
    """
    positions: dict[str, list[int]] = {}
    for position, header in enumerate(found, start=1):
        for column in columns:
            if normalise_header(header) in map(normalise_header, column.accepted_headers()):
                positions.setdefault(column.header, []).append(position)
    repeated = {header: places for header, places in positions.items() if len(places) > 1}
    if repeated:
        which = "; ".join(
            f"{header!r} in columns {', '.join(map(str, places))}"
            for header, places in repeated.items()
        )
        raise FileRejected(
            source_file,
            f"the header row names a column more than once ({which}); expected each column "
            "once, so which one holds the values is not known",
        )
    by_key = {normalise_header(header): header for header in found}
    header_map: dict[str, str] = {}
    missing: list[str] = []
    for column in columns:
        match = next(
            (
                by_key[key]
                for key in map(normalise_header, column.accepted_headers())
                if key in by_key
            ),
            None,
        )
        if match is not None:
            header_map[match] = column.name
        elif column.required:
            missing.append(column.header)
    if missing:
        # A file without its header row would show its first record here: only the cells that
        # are known headers, or a close misspelling of a missing one, are named.
        known = [header for header in found if header in header_map]
        misspelt = {
            (cell, column.header): None
            for column in columns
            if column.header in missing
            for cell in found
            if cell not in header_map and _misspelling_of(cell, column)
        }
        parts = [
            f"required column(s) {', '.join(repr(m) for m in missing)} not found",
            f"the first row has {len(found)} cell(s), of which {len(known)} are known headers "
            f"({', '.join(repr(h) for h in known) or 'none'})",
            *(f"{cell!r} looks like {header!r}" for cell, header in misspelt),
        ]
        shown = {*known, *(cell for cell, _ in misspelt)}
        hidden = sum(1 for cell in found if cell not in shown)
        if hidden:
            parts.append(
                f"the other {hidden} cell(s) are not shown, as they may be a record's values"
            )
        raise FileRejected(source_file, "; ".join(parts))
    unknown = [
        position
        for position, header in enumerate(found, start=1)
        if header not in header_map and header.strip()
    ]
    return header_map, unknown


# How alike a header cell and a contract header must be (difflib's ratio) for the cell to be
# named as a misspelling of the header: 'Distrct' and 'District' score 0.93. Its length must be
# close too: a header that lost its line break ends with the first record's first value
# ('Transgender identity2013-10'), which is data, not a misspelling.
_MISSPELLING_RATIO = 0.8
_MISSPELLING_LENGTH = 2


def _misspelling_of(cell: str, column: Column) -> bool:
    """Whether a header cell is a close misspelling of one of ``column``'s accepted headers."""
    key = normalise_header(cell)
    return any(
        abs(len(key) - len(header)) <= _MISSPELLING_LENGTH
        and difflib.SequenceMatcher(None, key, header).ratio() >= _MISSPELLING_RATIO
        for header in map(normalise_header, column.accepted_headers())
    )


def unknown_columns_warnings(source_file: str, positions: Sequence[int]) -> list[str]:
    """The warning that a file's unknown columns were ignored, naming each by its position
    (from 1), never by its header text: when a header line loses its line break, its cells are
    the first record's values. No warning when there is none."""
    if not positions:
        return []
    listed = ", ".join(f"column {position}" for position in positions)
    return [f"{source_file}: ignored {len(positions)} unknown column(s): {listed}"]


def read_csv_header(
    utf8: bytes, columns: Sequence[Column], source_file: str
) -> tuple[list[str], dict[str, str], list[int]]:
    """The header cells of a CSV file (UTF-8 bytes), matched to the contract's columns.

    Returns (header cells, found header -> canonical name, positions of unknown headers). A
    file that is not text, or whose first row is not a header of the contract, is rejected
    saying why. The header is the file's first record, which a line break inside a quoted cell
    does not end (Excel writes a header cell typed with Alt+Enter as ``"Date<LF>Received"``);
    the data rows are parsed after that record, not after its first line.
    """
    if b"\x00" in utf8:
        raise FileRejected(
            source_file,
            "the file is not text (it contains NUL bytes); expected a CSV text file "
            "(UTF-8, Windows-1252 or UTF-16)",
        )
    # newline="": a lone CR ends the header row, as it ends every row for the CSV parser. The
    # text is decoded as the parser reads it, so only the header's bytes are decoded.
    text = io.TextIOWrapper(io.BytesIO(utf8), encoding="utf-8", newline="")
    try:
        first_line = next(csv.reader(text), [])
    except csv.Error as error:
        raise FileRejected(
            source_file, f"the first row is not a CSV header row ({error}); expected column names"
        ) from error
    try:
        header_map, unknown = match_header(first_line, columns, source_file)
    except FileRejected as rejected:
        raise FileRejected(source_file, rejected.problem + _delimiter_hint(first_line)) from None
    return first_line, header_map, unknown


def read_delimited(path: Path, columns: Sequence[Column], source_file: str) -> RawRecords:
    """Read a CSV file as text columns named by the contract, keeping every row accountable."""
    decoded = decode_delivery(path.read_bytes(), source_file)
    utf8 = decoded.utf8
    if not utf8.strip():
        raise FileRejected(source_file, "the file is empty; expected a header row and data rows")
    first_line, header_map, unknown = read_csv_header(utf8, columns, source_file)
    column_names = [f"_c{index}" for index in range(len(first_line))]
    table, parsed_malformed = _parse_csv(utf8, column_names, source_file)
    personal = {column.name for column in columns if column.personal}
    loaded = {
        position: name
        for position, (name, header) in enumerate(zip(column_names, first_line, strict=True))
        if header in header_map and header_map[header] not in personal
    }
    table, numbers, malformed = split_off_untrusted_rows(
        utf8, table, parsed_malformed, first_line, header_map, loaded
    )
    renamed = {
        name: header_map[header]
        for name, header in zip(column_names, first_line, strict=True)
        if header in header_map
    }
    arrays = [table.column(name) for name in renamed]
    canonical = pa.table(
        [*arrays, pa.array(numbers, pa.int64())],
        names=[*renamed.values(), "row_number"],
    )
    for column in columns:
        if column.name not in canonical.column_names:
            canonical = canonical.append_column(
                column.name, pa.nulls(canonical.num_rows, pa.string())
            )
    return RawRecords(
        canonical,
        malformed,
        header_map,
        unknown,
        decoded.encoding,
        list(decoded.warnings),
        header_fields=len(first_line),
    )


# pyarrow's default CSV block: every row must fit in one block, so a file with a longer row (a
# long free-text field) is read again as one block (of at most 1 GB).
_CSV_BLOCK_SIZE = 1 << 20
_LARGEST_CSV_BLOCK_SIZE = 1 << 30


def _parse_csv(
    utf8: bytes, column_names: Sequence[str], source_file: str
) -> tuple[pa.Table, list[MalformedRow]]:
    """The rows of a CSV file (UTF-8, header skipped) as text, and the malformed rows skipped,
    with pyarrow's row numbers (``parsed_malformed_row``)."""
    malformed: list[MalformedRow] = []

    def keep_malformed(row: pa_csv.InvalidRow) -> str:
        malformed.append(parsed_malformed_row(row))
        return "skip"

    def parse(block_size: int, use_threads: bool) -> pa.Table:
        malformed.clear()
        return pa_csv.read_csv(
            io.BytesIO(utf8),
            read_options=pa_csv.ReadOptions(
                column_names=column_names,
                # The header is one record, though a quoted cell may hold a line break:
                # skip_rows would skip one line, skip_rows_after_names skips a parsed record.
                skip_rows_after_names=1,
                use_threads=use_threads,
                block_size=block_size,
            ),
            parse_options=pa_csv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=keep_malformed
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(column_names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    def parse_numbered(block_size: int) -> pa.Table:
        # Parsing in parallel is faster, but then a malformed row's number is not known: a
        # file with malformed rows is parsed again in one thread to number them.
        table = parse(block_size, use_threads=True)
        return parse(block_size, use_threads=False) if malformed else table

    # The parser's message can quote the offending text, which may be personal data.
    unreadable = "not readable as CSV (parser detail withheld)"
    try:
        return parse_numbered(_CSV_BLOCK_SIZE), malformed
    except pa.ArrowInvalid as error:
        if len(utf8) < _CSV_BLOCK_SIZE:
            raise FileRejected(source_file, unreadable) from error
    try:
        return parse_numbered(min(len(utf8) + 1, _LARGEST_CSV_BLOCK_SIZE)), malformed
    except pa.ArrowInvalid as error:
        raise FileRejected(source_file, unreadable) from error


_QUOTE, _COMMA, _LF, _CR = b'"'[0], b","[0], b"\n"[0], b"\r"[0]


def data_row_numbers(utf8: bytes, count: int) -> np.ndarray:
    """The row numbers of a CSV file's ``count`` data rows, as a spreadsheet shows the file:
    header = row 1, and a blank line is a row too, though not a data row.

    pyarrow skips blank lines without counting them, so after a blank line its numbers fall
    short. Rows end where pyarrow's parser ends them (at a line break outside quoted values),
    found with array operations in linear time. If that does not give ``count`` rows, the file
    is one pyarrow reads differently, and its own numbers are kept.
    """
    counted = np.arange(2, count + 2, dtype=np.int64)
    last = len(utf8)
    while last and utf8[last - 1] in b"\r\n":  # blank lines after the last row move no row
        last -= 1
    # Most files have one line break per row (LF or CRLF throughout, no blank line, no break
    # inside a value): then pyarrow's numbers are right, found by counting bytes.
    breaks, returns = utf8.count(b"\n", 0, last), utf8.count(b"\r", 0, last)
    if breaks == count and returns in (0, breaks):
        return counted
    text = np.frombuffer(utf8, dtype=np.uint8)
    ends = _line_ends(text)
    if not _blank(text, ends)[ends < last].any():
        return counted
    opens, closes = _quoted_spans(utf8, text)
    if len(opens):
        span = np.searchsorted(opens, ends, side="right") - 1
        ends = ends[(span < 0) | (ends >= closes[np.maximum(span, 0)])]
    unended = (ends[-1] + 1 if len(ends) else 0) < len(text)  # a last line with no break
    rows = np.append(~_blank(text, ends), unended)
    numbers = np.flatnonzero(rows)[1:] + 1  # row 0 is the header, numbered 1
    return numbers if len(numbers) == count else counted


def _line_ends(text: np.ndarray) -> np.ndarray:
    """Offsets of the line breaks: each LF, and each CR not followed by an LF."""
    breaks = np.flatnonzero(text <= _CR)
    breaks = breaks[(text[breaks] == _LF) | (text[breaks] == _CR)]
    following = text[np.minimum(breaks + 1, len(text) - 1)]
    return breaks[(text[breaks] == _LF) | (following != _LF)]


def _blank(text: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether each line (ending at ``ends``) is empty: nothing, or a CR, before its break."""
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    lengths = ends - starts
    return (lengths == 0) | ((lengths == 1) & (text[starts] == _CR))


def _quoted_spans(utf8: bytes, text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of the opening and closing quotes of the quoted values (a value still open at
    the end of the file closes there).

    A quote opens a value only at the start of a field; inside one, ``""`` is a quote and a
    single quote closes it; any other quote is text. When every other quote opens a value (or
    follows its pair), the quotes simply pair off; otherwise they are followed one by one.
    """
    quotes = np.flatnonzero(text == _QUOTE)
    opens, closes = quotes[0::2], quotes[1::2]
    before = text[np.maximum(opens - 1, 0)]
    at_field_start = (opens == 0) | np.isin(before, (_COMMA, _LF, _CR, _QUOTE))
    if not at_field_start.all():
        opened: list[int] = []
        closed: list[int] = []
        inside = escaped = False
        for position in quotes.tolist():
            if escaped:
                escaped = False
            elif inside:
                escaped = utf8[position + 1 : position + 2] == b'"'
                if not escaped:
                    inside = False
                    closed.append(position)
            elif position == 0 or utf8[position - 1] in b",\r\n":
                inside = True
                opened.append(position)
        opens, closes = np.array(opened, dtype=np.int64), np.array(closed, dtype=np.int64)
    if len(closes) < len(opens):
        closes = np.append(closes, len(text))
    return opens, closes


def parsed_malformed_row(row: pa_csv.InvalidRow) -> MalformedRow:
    """A row pyarrow refused, with pyarrow's row number (header = 1, blank lines skipped) and,
    when it runs over a line break, the column its open quote is in; its text is not kept."""
    return MalformedRow(row.number, row.actual_columns, _unclosed_quote_in(row.text))


def _unclosed_quote_in(text: str | None) -> UnclosedQuote | None:
    """The quote a record's text leaves open at the end of its first line (a line break ends a
    record only outside a quoted value), or ``None`` for a record on one line."""
    if not text:
        return None
    first_break = min((at for at in (text.find("\n"), text.find("\r")) if at >= 0), default=-1)
    if first_break < 0:
        return None
    first_line = text[:first_break]
    try:
        fields = len(next(csv.reader([first_line], strict=False), []))
    except csv.Error:
        fields = first_line.count(",") + 1
    return UnclosedQuote(max(fields, 1))


def split_off_untrusted_rows(
    utf8: bytes,
    table: pa.Table,
    parsed_malformed: Sequence[MalformedRow],
    header: Sequence[str],
    header_map: dict[str, str],
    loaded: dict[int, str],
) -> tuple[pa.Table, np.ndarray, list[MalformedRow]]:
    """A parsed CSV file's rows numbered as the file is (``data_row_numbers``), with the rows
    that cannot be trusted moved to the malformed rows.

    ``table`` holds the rows pyarrow parsed (a column per header field, or per loaded field),
    ``parsed_malformed`` those it refused, with its numbers. ``loaded`` maps the position (from
    0) of each loaded header field to its column in ``table``. A quote opened in a field and not
    closed on its line takes everything up to the next quote in the file into that field: the
    rest of the row's fields, personal ones too, and the lines after it. The record may still
    have the header's width, so a line break inside a loaded value marks it: such a row is
    malformed too, and set aside without its text. A line break in a field that is not loaded
    (a narrative typed with Alt+Enter) leaves its row to load.

    Returns the rows to read, their row numbers, and the malformed rows with the file's row
    numbers (each naming the column its open quote is in, and the lines it runs over), in order.
    """
    count = table.num_rows + len(parsed_malformed)
    numbers = data_row_numbers(utf8, count)
    # pyarrow numbers the rows it refuses counting the header as row 1 and skipping blank
    # lines: position n - 2 among the data rows, which the file's own row numbers replace.
    refused = [row.number - 2 for row in parsed_malformed]
    positions = np.delete(np.arange(count, dtype=np.int64), refused)
    broken = {} if _one_line_each(utf8, count) else _line_break_rows(table, loaded)
    quoted = bool(broken) or any(row.unclosed_quote for row in parsed_malformed)
    lines = record_lines(utf8, count) if quoted else None

    def placed(column: int, position: int) -> UnclosedQuote:
        title = header[column - 1] if column <= len(header) else ""
        span = None if lines is None else (int(lines[position, 0]), int(lines[position, 1]))
        return UnclosedQuote(column, title if title in header_map else "", span)

    malformed = [
        MalformedRow(
            int(numbers[position]),
            row.fields,
            None if row.unclosed_quote is None else placed(row.unclosed_quote.column, position),
        )
        for position, row in zip(refused, parsed_malformed, strict=True)
    ]
    if broken:
        for index, column in broken.items():
            position = int(positions[index])
            malformed.append(
                MalformedRow(int(numbers[position]), len(header), placed(column + 1, position))
            )
        keep = np.ones(table.num_rows, dtype=bool)
        keep[list(broken)] = False
        table, positions = table.filter(pa.array(keep)), positions[keep]
    return table, numbers[positions], sorted(malformed, key=lambda row: row.number)


def _one_line_each(utf8: bytes, count: int) -> bool:
    """Whether the header and each of the ``count`` data rows are one line each, so no value
    holds a line break: the common case, told by counting bytes."""
    last = len(utf8)
    while last and utf8[last - 1] in b"\r\n":  # line breaks after the last row end no row
        last -= 1
    breaks, returns = utf8.count(b"\n", 0, last), utf8.count(b"\r", 0, last)
    return breaks == count and (returns == 0 or returns == utf8.count(b"\r\n", 0, last) == breaks)


def _line_break_rows(table: pa.Table, loaded: dict[int, str]) -> dict[int, int]:
    """The rows (index in ``table``) with a line break in a loaded value, each with the
    position (from 0) of the first such field."""
    found: dict[int, int] = {}
    for position in sorted(loaded, reverse=True):  # the first field is the one kept
        values = table.column(loaded[position])
        breaks = pc.or_(pc.match_substring(values, "\n"), pc.match_substring(values, "\r"))
        if pc.any(breaks).as_py():
            for index in np.flatnonzero(breaks.to_numpy()):
                found[int(index)] = position
    return found


def record_lines(utf8: bytes, count: int) -> np.ndarray | None:
    """The first and last line (from 1) of each of a CSV file's ``count`` data records, one row
    of two per record; ``None`` when the file's quotes cannot be followed as pyarrow follows
    them (its records are not ``count``).

    A record ends at a line break outside quoted values, as pyarrow ends it; a quote left open
    to the end of the file runs its record there. A blank line is no record, and the first
    record is the header. A record's last line is the last one holding its text.
    """
    text = np.frombuffer(utf8, dtype=np.uint8)
    breaks = _line_ends(text)
    ends = breaks
    opens, closes = _quoted_spans(utf8, text)
    if len(opens):
        span = np.searchsorted(opens, ends, side="right") - 1
        ends = ends[(span < 0) | (ends >= closes[np.maximum(span, 0)])]
    starts = np.concatenate([[0], ends + 1]).astype(np.int64)
    last_bytes = np.append(ends - 1, len(text) - 1)  # the last record runs to the end
    while last_bytes[-1] >= starts[-1] and text[last_bytes[-1]] in (_LF, _CR):
        last_bytes[-1] -= 1  # line breaks a quote left open took in, or the file's last
    lengths = np.append(ends, last_bytes[-1] + 1) - starts
    only_cr = (lengths == 1) & (text[np.minimum(starts, len(text) - 1)] == _CR)
    records = np.flatnonzero((lengths > 0) & ~only_cr)[1:]
    if len(records) != count:
        return None
    first = np.searchsorted(breaks, starts[records], side="left") + 1
    last = np.searchsorted(breaks, np.maximum(last_bytes[records], starts[records]), side="left")
    return np.column_stack([first, last + 1])


def _delimiter_hint(first_line: Sequence[str]) -> str:
    """A hint when the header is one cell holding another separator: ';' or tab instead of ','."""
    if len(first_line) != 1:
        return ""
    for separator, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
        if separator in first_line[0]:
            return (
                f"; the header is separated by {name}, not commas: expected comma-separated values"
            )
    return ""


# Reasons and load-log messages are read in tables and reports: one quoting a whole free-text
# value (a megabyte has been seen) is cut to these lengths. A set-aside row's ``record`` keeps
# the row's values whole.
REASON_LIMIT = 1000
MESSAGE_LIMIT = 2000
QUOTED_VALUE_LIMIT = 200


def shortened(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending with how long it was; unchanged if it fits."""
    if len(text) <= limit:
        return text
    note = f"\u2026 ({len(text):,} characters in all)"
    return text[: limit - len(note)] + note


# ``shortened`` in SQL, for readers that classify rows in DuckDB.
SHORTENED_MACRO = """
CREATE MACRO shortened(t, n) AS CASE
    WHEN length(t) <= n THEN t
    ELSE left(t, n - length('\u2026 (' || format('{:,}', length(t)) || ' characters in all)'))
        || '\u2026 (' || format('{:,}', length(t)) || ' characters in all)'
END
"""


def quoted_value(value: str) -> str:
    """A cell value quoted in a reason: whole when short, else its start and its length.

    A value over several lines is described, never quoted: a reason is one line, and a line
    break in a coded value is free text typed into the column (a note), not a code."""
    if "\n" in value or "\r" in value:
        return f"a {len(value):,}-character value over several lines (not shown)"
    if len(value) <= QUOTED_VALUE_LIMIT:
        return f"'{value}'"
    return f"'{value[:QUOTED_VALUE_LIMIT]}\u2026' ({len(value):,} characters)"


# A value of a coded column (a category, a district, a reference) is quoted in a reason, and
# kept in a set-aside record, only when it looks like a code or a category: short, a few words,
# only the characters labels use (no '@'), and nothing shaped like a phone number, a postcode, a
# house number before a street or a date beside words ('DOB 01/02/1980'). Free text typed into
# the column instead, such as a note naming a victim, is described by its length: reasons and
# records are read far more widely than the partner's file. A new short label ('Noisy
# neighbours', 'Under 18') is still quoted.
CODE_LIKE_LENGTH = 40
CODE_LIKE_WORDS = 4
_NOT_IN_A_CODE = re.compile(r"[^\w\s\-\u2013\u2019/&().,'+:]")
_PERSONAL_SHAPES = re.compile(
    r"(?<![0-9])(?:\+44|0)[ ()-]*[0-9](?:[ ()-]*[0-9]){8,}"  # a UK phone number
    r"|\b[a-z]{1,2}[0-9][a-z0-9]?\s*[0-9][a-z]{2}\b"  # a postcode
    r"|\b[0-9]+[a-z]?,?\s+[^\W\d_]+\s+[^\W\d_]+"  # a house number before a street
    r"|(?=.*[^\W\d_]).*\b[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2,4}\b",  # a date beside words
    re.IGNORECASE,
)


def looks_like_code(value: str, words: int = CODE_LIKE_WORDS) -> bool:
    """Whether ``value`` looks like a code or a category of at most ``words`` words, rather
    than free text that may be about a person."""
    text = value.strip()
    if len(text) > CODE_LIKE_LENGTH or _NOT_IN_A_CODE.search(text):
        return False
    if "\n" in text or "\r" in text:  # a code is one line; a note may be several
        return False
    found = [word for word in text.split() if any(c.isalnum() for c in word)]
    if len(found) > words:
        return False
    return not _PERSONAL_SHAPES.search(text)


def withheld_value(value: str) -> str:
    """What stands for a value that is not shown, in a reason: its length only."""
    return f"a {len(value):,}-character value (not shown: it may be personal)"


def quoted_code(value: str, noun: str = "", words: int = CODE_LIKE_WORDS) -> str:
    """A coded column's value for a reason: ``noun 'value'`` when it looks like a code or a
    category (``looks_like_code``), else its length only."""
    if looks_like_code(value, words):
        return f"{noun} '{value}'".lstrip()
    return withheld_value(value)


def withheld_record_value(value: str) -> str:
    """What stands for a value that is not shown, in a set-aside record: its length only."""
    return f"(not shown: a {len(value):,}-character value that may be personal)"


def recorded_code(value: str, words: int = CODE_LIKE_WORDS) -> str:
    """A coded column's value for a set-aside record: as delivered when it looks like a code or
    a category, else a note of its length."""
    return value if looks_like_code(value, words) else withheld_record_value(value)


def load_log_row(
    source_id: str,
    source_file: str,
    sha256: str,
    encoding: str,
    period: tuple[dt.date | None, dt.date | None],
    counts: tuple[int, int, int],
    status: str = "loaded",
    message: str = "",
) -> dict[str, object]:
    """One ``load_log`` line. ``counts`` are (read, loaded, set aside), each counted on its own
    so that the row-accounting check can catch a reader that loses rows. A message longer than
    ``MESSAGE_LIMIT`` characters is cut, saying how long it was."""
    rows_read, rows_loaded, rows_set_aside = counts
    return {
        "source_id": source_id,
        "source_file": source_file,
        "sha256": sha256,
        "encoding": encoding,
        "period_start": period[0],
        "period_end": period[1],
        "rows_read": rows_read,
        "rows_loaded": rows_loaded,
        "rows_set_aside": rows_set_aside,
        "status": status,
        "message": shortened(message, MESSAGE_LIMIT),
    }


def rejected_log_row(
    source_id: str,
    source_file: str,
    sha256: str,
    problem: str,
    period: tuple[dt.date | None, dt.date | None] = (None, None),
) -> dict[str, object]:
    """The ``load_log`` line of a file that could not be read: nothing read, loaded or set
    aside, and the problem as the message a partner is shown."""
    return load_log_row(source_id, source_file, sha256, "", period, (0, 0, 0), "rejected", problem)


def set_aside_row(
    source_id: str,
    source_file: str,
    row_number: int,
    reason_code: str,
    reason: str,
    record: str,
) -> dict[str, object]:
    """One ``set_aside`` row (``SET_ASIDE_SCHEMA``), in the shape every source shares.

    ``record`` is the row's values in the contract's columns, as JSON, so a partner can find and
    correct it (``WITHHELD_ROW_RECORD`` for a row that could not be parsed); it is kept whole. A
    reason longer than ``REASON_LIMIT`` characters (one quoting a long free-text value) is cut,
    saying how long it was.
    """
    return {
        "source_id": source_id,
        "source_file": source_file,
        "row_number": row_number,
        "reason_code": reason_code,
        "reason": shortened(reason, REASON_LIMIT),
        "record": record,
    }


# The record of a row that could not be parsed. Its text is never kept, whatever the source: a
# misplaced comma can move a personal or free-text value into any field. The row is line
# ``row_number`` of ``source_file`` as delivered.
WITHHELD_ROW_RECORD = json.dumps({"note": "row text withheld: may contain personal data"})


def malformed_reason(fields: int, header_fields: int) -> str:
    """Why a row whose fields do not line up with the header is set aside."""
    return f"row has {fields} fields; the header has {header_fields}"


def malformed_row_reason(source_file: str, row: MalformedRow, header_fields: int) -> str:
    """Why a malformed row is set aside: its number of fields and the header's, or, when a
    quote left open runs it over the lines after it, where the quote opens and which lines the
    record takes in (those lines are no rows of their own: the analyst must see them)."""
    quote = row.unclosed_quote
    if quote is None:
        return malformed_reason(row.fields, header_fields)
    column = f"column {quote.column}" + (f" ('{quote.header}')" if quote.header else "")
    if quote.lines is None:
        runs = "runs over the lines after it"
    else:
        runs = f"runs from line {quote.lines[0]} to line {quote.lines[1]}"
    width = ""
    if row.fields != header_fields:
        width = f", with {row.fields} fields where the header has {header_fields}"
    return (
        f"{source_file} row {row.number}: a quote opens in {column} and is not closed on its "
        f"line, so the record {runs}{width}; none of it is loaded and its text is withheld (it "
        "may hold personal data); expected a quoted value in this column to close on the line "
        "it opens: close the quote and deliver the file again"
    )


def malformed_row(
    source_id: str, source_file: str, row: MalformedRow, header_fields: int
) -> dict[str, object]:
    """The set-aside row of a line whose fields do not line up with the ``header_fields``
    fields of the header, or that a quote left open runs over the lines after it: its cells
    cannot be trusted, so only its place, width and where the quote opens are kept."""
    reason = malformed_row_reason(source_file, row, header_fields)
    return set_aside_row(
        source_id, source_file, row.number, "malformed_row", reason, WITHHELD_ROW_RECORD
    )


def rows_per_file(rows: Iterable[dict[str, object]]) -> dict[str, int]:
    """How many rows came from each ``source_file``, for the load log."""
    return dict(Counter(str(row["source_file"]) for row in rows))


def count_by_file(table: pa.Table) -> dict[str, int]:
    """How many rows of an Arrow table came from each ``source_file``, for the load log."""
    if table.num_rows == 0:
        return {}
    counts = pc.value_counts(table.column("source_file"))
    return dict(
        zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
    )


def quarters_period(quarters: Collection[dt.date]) -> tuple[dt.date | None, dt.date | None]:
    """First day of the earliest quarter to last day of the latest, for the load log; unknown
    when a file gives no quarter."""
    if not quarters:
        return None, None
    return min(quarters), periods.add_months(max(quarters), 3) - dt.timedelta(days=1)


def quarter_period(quarter: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    """First and last day of a quarter, for the load log; unknown when the name gives none."""
    return quarters_period([] if quarter is None else [quarter])


def outside_quarter(header: str, day: dt.date, quarter: dt.date) -> str | None:
    """Why a date in column ``header`` cannot belong to a file covering ``quarter``, naming
    the quarter's first and last days; None when the date lies in it."""
    last = periods.add_months(quarter, 3) - dt.timedelta(days=1)
    if quarter <= day <= last:
        return None
    return (
        f"column '{header}': {day.isoformat()} is outside the quarter the file covers "
        f"({periods.fy_quarter_label(quarter)}, {quarter.isoformat()} to {last.isoformat()})"
    )


def listed_value(value: str, allowed: Sequence[str]) -> str | None:
    """The listed value ``value`` names, ignoring case and spacing; None when it names none."""
    key = normalise_header(value)
    return next((option for option in allowed if normalise_header(option) == key), None)


def not_listed(header: str, value: str, allowed: Sequence[str]) -> str:
    """Why a value is not accepted: the column, the value (``quoted_code``: free text is
    described, not quoted) and every value the list allows."""
    return f"column '{header}': {quoted_code(value)} is not one of {', '.join(allowed)}"


def row_accounting_failures(
    read: FileRead, records_per_row: Literal["one", "several"] = "several"
) -> list[dict[str, object]]:
    """Files whose load-log counts disagree with the rows actually accepted and set aside.

    With ``"several"`` accepted rows are counted as distinct source rows (a wide row may become
    several long rows), so the check holds for every reader. With ``"one"`` (the contract says
    so for readers whose loaded row is one record) every row is counted, so a row accepted or
    set aside twice is caught too. An empty list means every row is accounted for.
    """

    def counted_rows(table: pa.Table, counted: str) -> dict[str, int]:
        if table.num_rows == 0:
            return {}
        # DuckDB counts a national quarter's rows in parallel, several times faster than Arrow.
        with duckdb.connect() as connection:
            connection.register("numbered", table.select(["source_file", "row_number"]))
            counts = connection.sql(
                f"SELECT source_file, {counted} FROM numbered GROUP BY ALL"
            ).fetchall()
        return {str(source_file): int(count) for source_file, count in counts}

    counted = "count(*)" if records_per_row == "one" else "count(DISTINCT row_number)"
    loaded, aside = counted_rows(read.accepted, counted), counted_rows(read.set_aside, counted)
    failures = []
    for line in read.load_log.to_pylist():
        name = line["source_file"]
        actual = (loaded.get(name, 0), aside.get(name, 0))
        logged = (line["rows_loaded"], line["rows_set_aside"])
        if line["rows_read"] != sum(logged) or actual != logged:
            failures.append(
                {
                    "source_file": name,
                    "rows_read": line["rows_read"],
                    "rows_loaded": logged[0],
                    "rows_set_aside": logged[1],
                    "rows_accepted_found": actual[0],
                    "rows_set_aside_found": actual[1],
                }
            )
    return failures


def slug(text: str) -> str:
    """``Criminal damage and arson`` -> ``criminal_damage_and_arson``."""
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


def measure_row(
    measure_id: str,
    source_id: str,
    name: str,
    unit: str,
    period_grain: str,
    crime_type: str | None = None,
) -> dict[str, str | None]:
    """One ``dim_measure`` row."""
    return {
        "measure_id": measure_id,
        "source_id": source_id,
        "measure_name": name,
        "unit": unit,
        "period_grain": period_grain,
        "crime_type": crime_type,
    }


@dataclass(frozen=True)
class SourceSpec:
    """How one source plugs into the pipeline.

    ``read_all`` reads every file of the source under a raw folder. Sources small enough to be
    re-read whole on each refresh get a generated staged asset; ``partitioned`` sources have a
    quarterly asset of their own and use ``read_all`` only to check a single delivery.
    ``record_tables`` name the warehouse tables holding its accepted rows, each with
    ``source_file`` and ``row_number``. ``reconcile_sql`` returns the rows where the
    source's observations disagree with its records (none when they agree).
    ``warning_checks`` are (name, description, query) checks on the built warehouse that warn
    in the UI without blocking the publish; the query returns the rows to look at.
    ``extra_tables`` are further published tables the source's SQL creates that are not counted
    as loaded rows (e.g. one row per value of a multi-valued field of a record).
    """

    source_id: str
    title: str
    group: str
    accepted_schema: pa.Schema
    record_tables: tuple[str, ...]
    build_contract: Callable[[], SourceContract]
    measures: Callable[[], list[dict[str, str | None]]]
    read_all: Callable[[Path], FileRead] | None = None
    partitioned: bool = False
    reconcile_sql: str = ""
    warning_checks: tuple[tuple[str, str, str], ...] = ()
    extra_tables: tuple[str, ...] = ()


def parse_date(text: str, formats: Sequence[str]) -> tuple[dt.date | None, str | None]:
    """A date in one of the formats a contract declares, or the reason it cannot be read.

    Never a guess: a value that fits none of the declared formats is an error, and so is one
    that two declared formats read as different dates (``03/04/2014`` under both day-first and
    month-first), because either reading could be wrong.
    """
    value = text.strip()
    if not value:
        return None, "date is blank"
    readings = set()
    for date_format in formats:
        try:
            readings.add(dt.datetime.strptime(value, date_format).date())
        except ValueError:
            continue
    if not readings:
        declared = ", ".join(formats)
        return None, f"{quoted_value(value)} is not a date in the declared format(s) {declared}"
    if len(readings) > 1:
        options = " or ".join(sorted(d.isoformat() for d in readings))
        return None, f"'{value}' is ambiguous: it could be {options}"
    return readings.pop(), None


def cell_text(value: object) -> str:
    """A spreadsheet cell as text: whole numbers without ``.0``, dates as ISO ``YYYY-MM-DD``."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# openpyxl's messages quote what it could not read (a cell's text, a date, a name): a partner's
# data, which a load-log message must not hold. The exception's type says what kind of damage.
_PARSER_DETAIL_WITHHELD = "the reader's message is withheld: it can quote the file's contents"
_RESAVE_WORKBOOK = "open the workbook in Excel, save it again as .xlsx and deliver it again"
_CELL_REFERENCE = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")


def unreadable_sheet_problem(sheet: str, row: int, error: Exception) -> str:
    """Why a sheet that failed part way through is rejected: the sheet, the row (and cell,
    when openpyxl's reader shows it) where reading failed and the exception's type, never its
    message, which can quote the cell's contents."""
    cell = _cell_being_read(error)
    place = f"row {row}"
    if cell is not None:
        place = f"row {cell[1]}, column {cell[0]} (cell {cell[0]}{cell[1]})"
    return (
        f"sheet {sheet!r} is not a readable worksheet: reading failed at {place} with "
        f"{type(error).__name__} ({_PARSER_DETAIL_WITHHELD}); {_RESAVE_WORKBOOK}"
    )


def _cell_being_read(error: Exception) -> tuple[str, str] | None:
    """The column letters and row of the cell openpyxl's sheet reader was reading when it
    failed, from the reference the reader read from the sheet (``coordinate`` in its
    ``parse_cell``), never the cell's value; ``None`` when it is not to be found."""
    trace = error.__traceback__
    found = None
    while trace is not None:
        frame = trace.tb_frame
        if frame.f_code.co_name == "parse_cell":
            reference = frame.f_locals.get("coordinate")
            if isinstance(reference, str) and (match := _CELL_REFERENCE.fullmatch(reference)):
                found = (match[1], match[2])
        trace = trace.tb_next
    return found


def read_xlsx_rows(path: Path, source_file: str, sheet: str | None) -> tuple[str, list[list[str]]]:
    """Every row of one sheet as text, with the sheet's real name.

    ``sheet`` is matched ignoring case and spaces; ``None`` takes the first sheet.
    """
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged workbook
        raise FileRejected(
            source_file,
            f"not readable as an XLSX workbook: opening it failed with {type(error).__name__} "
            f"({_PARSER_DETAIL_WITHHELD}); expected an .xlsx workbook: {_RESAVE_WORKBOOK}",
        ) from error
    try:
        names = workbook.sheetnames
        if sheet is None:
            name = names[0]
        else:
            name = next((n for n in names if normalise_header(n) == normalise_header(sheet)), "")
            if not name:
                raise FileRejected(
                    source_file, f"no sheet named {sheet!r}; the workbook has {names}"
                )
        worksheet = workbook[name]
        if not hasattr(worksheet, "iter_rows"):
            raise FileRejected(
                source_file,
                f"sheet {name!r} is a chart sheet, not a worksheet of rows; expected the table "
                "on a worksheet of that name",
            )
        # The used range a workbook records is not to be trusted (some report writers record
        # A1:A1 or too few rows), and in read-only mode openpyxl stops at it: every row and cell
        # in the sheet is read instead, and the rows are padded to the widest.
        worksheet.reset_dimensions()
        rows: list[list[str]] = []
        try:
            for values in worksheet.iter_rows(values_only=True):
                rows.append([cell_text(value) for value in values])
        except Exception as error:  # a sheet is parsed only as it is read: damage shows here
            # Rows are read from row 1, empty ones too, so the failing row follows those read.
            raise FileRejected(
                source_file, unreadable_sheet_problem(name, len(rows) + 1, error)
            ) from error
    finally:
        workbook.close()
    width = max((len(row) for row in rows), default=0)
    return name, [row + [""] * (width - len(row)) for row in rows]


def find_header_row(
    rows: list[list[str]],
    markers: Sequence[Sequence[str]],
    source_file: str,
    sheet: str,
    search: int = 50,
) -> int:
    """Index of the first row holding every marker header, below any title or banner rows.

    Each marker is a header and the other spellings it is accepted under (a column's
    ``accepted_headers``); a row holds it when one of them is a cell of the row.
    """
    wanted = [{normalise_header(spelling) for spelling in marker} for marker in markers]
    for index, row in enumerate(rows[:search]):
        cells = {normalise_header(cell) for cell in row}
        if all(marker & cells for marker in wanted):
            return index
    raise FileRejected(
        source_file,
        f"sheet {sheet!r}: no header row with {', '.join(repr(m[0]) for m in markers)} "
        f"in the first {search} rows",
    )


def read_xlsx_table(
    path: Path,
    columns: Sequence[Column],
    source_file: str,
    sheet: str | None = None,
    markers: Sequence[str] | None = None,
) -> RawRecords:
    """A worksheet table as text columns named by the contract, with Excel's row numbers."""
    name, rows = read_xlsx_rows(path, source_file, sheet)
    if markers is None:
        wanted = [column.accepted_headers() for column in columns if column.required]
    else:
        wanted = [(marker,) for marker in markers]
    header_index = find_header_row(rows, wanted, source_file, name)
    header = rows[header_index]
    header_map, unknown = match_header(header, columns, source_file)
    data: dict[str, list[str]] = {column: [] for column in header_map.values()}
    numbers: list[int] = []
    for number, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        if not any(row):
            continue
        numbers.append(number)
        for position, title in enumerate(header):
            if title in header_map:
                data[header_map[title]].append(row[position] if position < len(row) else "")
    table = pa.table(
        {
            **{k: pa.array(v, pa.string()) for k, v in data.items()},
            "row_number": pa.array(numbers, pa.int64()),
        }
    )
    for column in columns:
        if column.name not in table.column_names:
            table = table.append_column(column.name, pa.nulls(table.num_rows, pa.string()))
    return RawRecords(table, [], header_map, unknown, "xlsx")


# A delivery's name may say it replaces an earlier one: a version ('_v2', ' version 3', 'rev2'),
# a correction ('corrected', 'revised', 'amended', 'updated', 'resubmitted') or a browser's
# copy number ('... (1).csv').
_VERSION_MARK = re.compile(
    r"(?<![a-z0-9])(?:v|ver|version|rev|revision)[ _.-]?(?P<number>[0-9]{1,4})(?![0-9])", re.I
)
# A correction mark is a word such as 'corrected' or 'amendments', in any case, also inside a
# CamelCase name ('HateCrimeCorrected'). An analyst who renames the bad first export
# '..._incorrect', '..._uncorrected', '..._replaced' or '..._before_update' marks the file a
# correction replaced, which must not rank above that correction: a bare 'correct' or
# 'replaced' is no mark, nor is a mark negated ('not corrected', 'pre-correction', 'unamended').
CORRECTION_WORDS = (
    "corrected",
    "correction(s)",
    "revised",
    "amend(ed)",
    "amendment(s)",
    "update(d)",
    "resubmit(ted)",
    "resubmission",
    "replacement",
)
_CORRECTION_FORMS = (
    r"correct(?:ed|ions?)",
    r"revised",
    r"amend(?:ed|ments?|s)?",
    r"updat(?:e|es|ed)",
    r"resubmi(?:t|ts|tted|ssions?)",
    r"replacements?",
)
_CORRECTION_MARK = re.compile(
    r"(?P<negation>(?<![a-z])(?:not|non|pre|before)[ _.-]?|un|in)?"
    rf"(?:{'|'.join(_CORRECTION_FORMS)})(?![a-z])",
    re.I,
)
_COPY_MARK = re.compile(r"\((?P<number>[0-9]{1,3})\)\s*$")

# The rule above as the data-sharing specification states it to partners.
DELIVERY_ORDER_RULE = (
    "A later delivery is named so: a higher version ('_v2'; '_v10' is later than '_v9') or a "
    "correction mark the earlier name lacks: one of the words "
    + ", ".join(f"'{word}'" for word in CORRECTION_WORDS)
    + " ('incorrect', 'uncorrected', 'not corrected' and 'replaced' are not correction marks). A "
    "re-delivery that cannot be read is rejected, and one none of whose rows can be loaded is "
    "quarantined when the earlier delivery has rows to load; either way the earlier delivery "
    "stays loaded. When the names do not tell, "
    "the most recently modified file is loaded and a warning says so."
)


def delivery_rank(path: Path) -> tuple[int, int, int]:
    """How late a delivery is, as its name tells: (version, correction, copy number).

    A name without a mark is version 1. ``_v2`` (or ``version 2``, ``rev2``) is version 2 and
    beats a ``corrected`` version 1, which beats the original; a browser's ``(1)`` copy of a
    name beats the name itself. Numbers compare as numbers, so ``_v10`` is later than ``_v9``.
    """
    stem = path.name.rsplit(".", 1)[0]
    versions = [int(match["number"]) for match in _VERSION_MARK.finditer(stem)]
    copy = _COPY_MARK.search(stem)
    return (
        max(versions, default=1),
        1 if any(mark["negation"] is None for mark in _CORRECTION_MARK.finditer(stem)) else 0,
        int(copy["number"]) if copy else 0,
    )


def release_rank(latest: object, path: Path, source_file: str) -> tuple[object, ...]:
    """How late a release of a table covering several periods is: the latest period it covers,
    then what its name tells as for any re-delivery (``delivery_rank``: ``_v10`` after ``_v9``,
    a correction or a browser's ``(1)`` copy after the original), then the later modified."""
    return (latest, delivery_rank(path), path.stat().st_mtime_ns, source_file)


def superseded_reason(quarter: dt.date, later_file: str) -> str:
    """The reason a row of a quarter's replaced delivery is set aside, naming the later file."""
    return (
        f"{periods.fy_quarter_label(quarter)} is loaded from {later_file}, a later delivery of "
        "the same quarter"
    )


def delivery_order(
    deliveries: dict[str, tuple[Path, object]],
) -> tuple[dict[object, list[str]], list[str]]:
    """The deliveries of each period, earliest first, when a period was delivered more than
    once (see ``latest_deliveries``); returns (period -> files, warnings)."""
    by_period: dict[object, list[str]] = {}
    for source_file, (_, period) in deliveries.items():
        by_period.setdefault(period, []).append(source_file)
    ordered_periods: dict[object, list[str]] = {}
    warnings: list[str] = []
    for period, files in by_period.items():
        if len(files) < 2:
            continue

        def lateness(source_file: str) -> tuple[tuple[int, int, int], int, str]:
            path = deliveries[source_file][0]
            return delivery_rank(path), path.stat().st_mtime_ns, source_file

        ordered = sorted(files, key=lateness)
        latest = ordered[-1]
        tied = [f for f in ordered[:-1] if lateness(f)[0] == lateness(latest)[0]]
        if tied:
            warnings.append(
                f"{latest} and {', '.join(tied)} deliver the same period and their names do "
                f"not say which is the later delivery; took {latest}, the most recently "
                "modified, as the later (rename the correction with '_v2' to make the order "
                "explicit)"
            )
        ordered_periods[period] = ordered
    return ordered_periods, warnings


def latest_deliveries(
    deliveries: dict[str, tuple[Path, object]],
) -> tuple[dict[str, str], list[str]]:
    """Which delivery of each period is loaded, when a period was delivered more than once.

    ``deliveries`` maps each file (as ``source_file``) that was read to its path and the period
    it delivers (any comparable key, e.g. a quarter, or a council and a quarter). A file
    rejected before this point is not passed in, so a broken re-delivery never hides the good
    delivery it was meant to replace. The latest delivery is the one whose name ranks highest
    (``delivery_rank``); when names do not tell (two files of the same rank), the most
    recently modified file is taken, and a warning names both so an analyst can confirm it.

    Returns (replaced file -> the file loaded instead, warnings).
    """
    ordered_periods, warnings = delivery_order(deliveries)
    replaced = {
        source_file: ordered[-1]
        for ordered in ordered_periods.values()
        for source_file in ordered[:-1]
    }
    return replaced, warnings


# A financial year in a file name, '2012-13' or '2012_13', not part of a longer number.
_NAMED_FINANCIAL_YEAR = re.compile(r"(?<![0-9])(?P<start>[0-9]{4})[-_](?P<end>[0-9]{2})(?![0-9])")


@dataclass(frozen=True)
class NamedYears:
    """The financial years (by start year) a file's name says it covers.

    ``..._2012-13_to_2014-15.csv`` covers 2012-13 to 2014-15. A name giving one year
    (``..._2014-15.csv``) may be a release named for its latest year: it covers no later year,
    and ``first`` is None.
    """

    first: int | None
    last: int

    def covers(self, start_year: int) -> bool:
        return (self.first is None or self.first <= start_year) and start_year <= self.last

    def describe(self) -> str:
        """``2012-13 to 2014-15, the years the file name gives``, for a set-aside reason."""
        last = periods.financial_year_label(self.last)
        if self.first is None:
            return f"{last}, the latest year the file name gives"
        first = periods.financial_year_label(self.first)
        return f"{first} to {last}, the years the file name gives"


def financial_years_named(path: Path) -> NamedYears | None:
    """The financial years ``path``'s name says the file covers; None when it names none."""
    years = sorted(
        {
            int(match["start"])
            for match in _NAMED_FINANCIAL_YEAR.finditer(path.name)
            if (int(match["start"]) + 1) % 100 == int(match["end"])
        }
    )
    if not years:
        return None
    return NamedYears(years[0] if len(years) > 1 else None, years[-1])


def year_outside_file(
    header: str, value: str, start_year: int, named: NamedYears | None, today: dt.date
) -> tuple[str, str] | None:
    """(reason code, reason) when a row's financial year cannot belong to its file; else None.

    A year the file name does not cover is ``year_outside_file``; a year after the current
    financial year is ``future_period``, whatever the name says. One mistyped year must not make
    an old release look like the newest, nor load a figure for a year that has not begun.
    """
    if named is not None and not named.covers(start_year):
        where = "after" if named.first is None else "outside"
        return "year_outside_file", (
            f"column '{header}': '{value.strip()}' is {where} {named.describe()}"
        )
    current = periods.financial_year_start(today)
    if start_year > current:
        return "future_period", (
            f"column '{header}': '{value.strip()}' is after the current financial year "
            f"({periods.financial_year_label(current)})"
        )
    return None
