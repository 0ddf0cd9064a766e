"""data.police.uk street-level crime and anti-social behaviour, exactly as published.

One CSV per force per month: ``police_uk/YYYY-MM/YYYY-MM-<force>-street.csv``. A whole-force file
covers far more than Oxfordshire, so the district of a row is the district named by its LSOA
name (``Cherwell 001A`` -> Cherwell). Rows that cannot be given a district of the configured
scope (``oscp_pipeline.scope``: Oxfordshire by default, or England and Wales) are set
aside with a reason, never dropped. A crime is counted once per Crime ID and month; anti-social
behaviour rows carry no ID and are never de-duplicated: identical ASB rows are separate incidents.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from oscp_pipeline import periods
from oscp_pipeline.reference import crime_type_map, load_reference_table
from oscp_pipeline.scope import current_scope
from oscp_pipeline.sources.base import (
    DELIVERY_ORDER_RULE,
    LOAD_LOG_SCHEMA,
    REASON_LIMIT,
    SET_ASIDE_SCHEMA,
    SHORTENED_MACRO,
    Column,
    Expectation,
    FileRead,
    FileRejected,
    RawRecords,
    SourceContract,
    SourceSpec,
    count_by_file,
    latest_deliveries,
    load_log_row,
    malformed_row,
    measure_row,
    read_delimited,
    reads_each_delivery_once,
    rejected_log_row,
    relative_source_file,
    sha256_of,
    slug,
    unknown_columns_warnings,
)

SOURCE_ID = "police_uk"
# The published name, and what a download or a resend may add: a copy number ('... (1).csv'),
# a mark after '-street' or a capitalised extension. Any mark of a later delivery before
# '-street' ('-updated-street.csv') is read by the force check below, not by the name.
FILE_NAME = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<force>[a-z0-9-]+?)-street(?P<mark>[^/]*)\.csv$",
    re.IGNORECASE,
)
# Rows read to tell which force a street file is from.
FORCE_SAMPLE_ROWS = 1000
# data.police.uk's archive puts its other products beside the street files: not read.
OTHER_PRODUCTS = re.compile(r"-(?:outcomes|stop-and-search)\b[^/]*\.csv$", re.IGNORECASE)
MONTH_FOLDER = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$")

COLUMNS = (
    Column("crime_id", "Crime ID", "64-character ID of a crime; blank for anti-social behaviour"),
    Column("month", "Month", "Month of the offence as YYYY-MM"),
    Column("reported_by", "Reported by", "Force that provided the record"),
    Column("falls_within", "Falls within", "Force whose area the location falls in"),
    Column("longitude", "Longitude", "Anonymised map point longitude; blank with No Location"),
    Column("latitude", "Latitude", "Anonymised map point latitude; blank with No Location"),
    Column("location", "Location", "Anonymised street description, e.g. 'On or near High Street'"),
    Column("lsoa_code", "LSOA code", "2011 Lower Layer Super Output Area code"),
    Column("lsoa_name", "LSOA name", "LSOA name: local authority district name plus a code"),
    Column("crime_type", "Crime type", "Published crime type (scheme changed in May 2013)"),
    Column("last_outcome_category", "Last outcome category", "Latest outcome; blank for ASB"),
    Column(
        "context",
        "Context",
        "Free-text context; not loaded, and left out of set-aside records",
        required=False,
        personal=True,
    ),
)

PUBLISHED_HEADERS = {column.name: column.header for column in COLUMNS}
# Free text the force may type about a crime: never loaded, so never kept in a set-aside record.
FREE_TEXT_COLUMNS = frozenset(column.name for column in COLUMNS if column.personal)
RECORDED_HEADERS = {
    name: header for name, header in PUBLISHED_HEADERS.items() if name not in FREE_TEXT_COLUMNS
}

ACCEPTED_SCHEMA = pa.schema(
    [
        ("month", pa.date32()),
        ("crime_id", pa.string()),
        ("crime_type", pa.string()),
        ("crime_type_published", pa.string()),
        ("lsoa_code", pa.string()),
        ("lsoa_name", pa.string()),
        ("district_code", pa.string()),
        ("location", pa.string()),
        ("last_outcome_category", pa.string()),
        ("longitude", pa.float64()),
        ("latitude", pa.float64()),
        ("reported_by", pa.string()),
        ("source_file", pa.string()),
        ("row_number", pa.int64()),
    ]
)


def build_contract() -> SourceContract:
    """The data.police.uk street file contract, with code lists taken from reference data and
    the districts from the configured scope."""
    scope = current_scope()
    return SourceContract(
        source_id=SOURCE_ID,
        title="data.police.uk street-level crime and anti-social behaviour",
        publisher="Home Office / data.police.uk (Open Government Licence v3.0)",
        file_pattern="police_uk/YYYY-MM/YYYY-MM-<force>-street.csv",
        columns=COLUMNS,
        row_rules=(
            "Month must be YYYY-MM and equal to the month in the file name (else set aside).",
            "Crime type must be a published data.police.uk category (else set aside).",
            "Rows with a blank LSOA name ('No Location') are set aside: no district.",
            f"Rows whose LSOA lies outside {scope.description} are set aside.",
            "Coordinates, when present, must be numbers inside Great Britain.",
            "A Crime ID is counted once per month; later rows with the same ID are set aside.",
            "Anti-social behaviour rows (no Crime ID) are never de-duplicated.",
            "Files are named YYYY-MM-<force>-street.csv (a copy number or a mark after "
            "'-street' is allowed); another CSV name in a month folder is rejected.",
            "Two readable files with the same month and the same force (the force most rows "
            "are reported by) are two deliveries of one file: the later is loaded and the "
            "other's rows are set aside as superseded. " + DELIVERY_ORDER_RULE,
        ),
        expectations=(
            Expectation(
                "row_count_between",
                "a file with no rows in the scope's districts is suspect",
                params={"min_value": 1},
            ),
            Expectation("not_null", "every loaded row has a month", "month"),
            Expectation("not_null", "every loaded row has a district", "district_code"),
            Expectation(
                "in_set",
                f"districts are {scope.description}",
                "district_code",
                {"value_set": sorted(scope.districts().values())},
            ),
            Expectation(
                "in_set",
                "crime types are harmonised to the May 2013 scheme",
                "crime_type",
                {"value_set": sorted(set(crime_type_map().values()))},
            ),
            Expectation("not_null", "every loaded row has an LSOA code", "lsoa_code"),
            Expectation(
                "between",
                "map points lie in Great Britain",
                "longitude",
                {"min_value": -8.0, "max_value": 2.0},
            ),
            Expectation(
                "between",
                "map points lie in Great Britain",
                "latitude",
                {"min_value": 49.0, "max_value": 61.0},
            ),
            Expectation(
                "compound_unique",
                "a crime is counted once per month",
                None,
                {"columns": ["crime_id", "month"]},
            ),
        ),
    )


def file_month(path: Path) -> dt.date:
    """The month a street file covers, from its name (``2014-01-thames-valley-street.csv``),
    or else from its ``YYYY-MM`` folder, as the published archive lays files out."""
    match = FILE_NAME.match(path.name) or MONTH_FOLDER.match(path.parent.name)
    if not match:
        raise ValueError(f"{path.name} is not named YYYY-MM-<force>-street.csv")
    month = int(match["month"])
    if not 1 <= month <= 12:
        raise ValueError(f"{path.name}: {match['year']}-{match['month']} is not a month")
    return dt.date(int(match["year"]), month, 1)


def discover_files(raw_dir: Path) -> list[Path]:
    """Every CSV file in the month folders under ``<raw>/police_uk``, in a stable order.

    A CSV file that is not named as a street file is still listed, so that the refresh logs it
    as rejected rather than passing over it; the archive's outcomes and stop-and-search files
    are other products and are left out.
    """
    folder = raw_dir / SOURCE_ID
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*/*"):
        if not path.is_file() or path.suffix.lower() != ".csv" or OTHER_PRODUCTS.search(path.name):
            continue
        try:
            file_month(path)
        except ValueError:
            continue
        found.append(path)
    return sorted(found)


def quarters_present(raw_dir: Path) -> list[dt.date]:
    """Start dates of the quarters for which at least one street file is present."""
    return sorted({periods.quarter_start(file_month(path)) for path in discover_files(raw_dir)})


def files_for_quarters(raw_dir: Path, quarter_starts: Iterable[dt.date]) -> list[Path]:
    """Street files whose month falls in one of the given quarters."""
    wanted = set(quarter_starts)
    return [p for p in discover_files(raw_dir) if periods.quarter_start(file_month(p)) in wanted]


# Rows set aside every month in large numbers (a national month has tens of thousands with no
# location; a whole-force file read for one county is mostly outside it) keep no copy of the
# row: its reason names what matters, and the row is line ``row_number`` of the file as
# delivered. So a set-aside row costs no more to keep than a loaded one.
ROUTINE_REASONS = ("no_location", "outside_area")
ROUTINE_SQL = ", ".join(f"'{code}'" for code in ROUTINE_REASONS)

REASON_SQL = """
CASE reason_code
    WHEN 'superseded' THEN format(
        '{} for {} is loaded from {}, a later delivery of the same force and month',
        trim(reported_by), strftime(file_month, '%Y-%m'), replaced_by)
    WHEN 'invalid_month' THEN format('Month ''{}'' is not a YYYY-MM month', month)
    WHEN 'month_outside_file' THEN format(
        'Month {} is outside the month the file covers ({})',
        strftime(month_date, '%Y-%m'), strftime(file_month, '%Y-%m'))
    WHEN 'unknown_crime_type' THEN format(
        'Crime type ''{}'' is not a data.police.uk category (see dim_crime_type)', crime_type)
    WHEN 'no_location' THEN
        'No Location: the LSOA name is blank, so the row cannot be assigned to a district'
    WHEN 'outside_area' THEN format(
        'LSOA ''{}'' is in {}, outside {}',
        lsoa, coalesce(nullif(lsoa_district, ''), 'an unrecognised area'), $scope)
    WHEN 'invalid_coordinates' THEN format(
        'Longitude ''{}'' / latitude ''{}'' are not numbers inside Great Britain',
        longitude, latitude)
    WHEN 'duplicate_crime_id' THEN format(
        'Duplicate of Crime ID {} for {}, already counted from {} row {}',
        id, strftime(month_date, '%Y-%m'), first_file, first_row)
END
"""


@reads_each_delivery_once(SOURCE_ID, named_period=file_month)
def read_street_files(paths: list[Path], raw_dir: Path) -> FileRead:
    """Read street files together, so a Crime ID repeated across a month is counted once.

    Months are read one at a time (a Crime ID is counted once per month), so memory grows with
    a month of national files, not with the number of months read. A force's month delivered
    twice (a re-download named ``...-updated-street.csv`` or ``... (1).csv``) is one delivery:
    the later file is loaded and the earlier one's rows are set aside as superseded, so
    anti-social behaviour rows, which have no ID, are not counted twice.
    """
    by_month: dict[dt.date, list[Path]] = {}
    for path in paths:
        by_month.setdefault(file_month(path), []).append(path)
    months = sorted(by_month.items())
    file_info: dict[str, dict[str, object]] = {}
    accepted_parts = [ACCEPTED_SCHEMA.empty_table()]
    set_aside_parts = [SET_ASIDE_SCHEMA.empty_table()]
    warnings: list[str] = []
    replaced: dict[str, str] = {}
    # While DuckDB classifies a month on every core, the next month's files are hashed, checked
    # and, when not plain, parsed: work that would otherwise leave a core idle. One month ahead
    # at most, so memory still grows with a month, not with the months read.
    with ThreadPoolExecutor(max_workers=1) as lookahead:
        upcoming = [lookahead.submit(_look_at_month, *months[0], raw_dir)] if months else []
        for position in range(len(months)):
            looked = upcoming.pop().result()
            if position + 1 < len(months):
                upcoming.append(lookahead.submit(_look_at_month, *months[position + 1], raw_dir))
            accepted, set_aside = _classify_month(looked)
            file_info.update(looked.file_info)
            replaced.update(looked.replaced)
            warnings.extend(looked.warnings)
            accepted_parts.append(accepted)
            set_aside_parts.append(set_aside)
    accepted = pa.concat_tables(accepted_parts)
    set_aside = pa.concat_tables(set_aside_parts)
    load_log = _load_log(file_info, accepted, set_aside)
    return FileRead(accepted, set_aside, load_log, warnings, replaced)


# The published header, byte for byte. A file that starts with it and is otherwise plain
# (``plain_row_count``) is read by DuckDB straight from disk, the fastest way there is; any
# other file goes through ``base.read_delimited``, which copes with every oddity partners send.
PUBLISHED_HEADER_LINE = ",".join(column.header for column in COLUMNS).encode()


def plain_row_count(data: bytes) -> int | None:
    """The number of data rows of a street file as data.police.uk publishes it, or ``None``
    when the file is not plain and needs the careful reader.

    Plain means the published header exactly, UTF-8 with no byte-order mark, lines ending in LF
    or CRLF, and no space beside a quote. Each line after the header is then expected to be one
    row, numbered by its line. DuckDB's count of rows is compared with this count after
    reading, so a file with a blank line or a line break inside a quoted value (which DuckDB
    reads as fewer rows) is read again carefully, and a malformed row (which DuckDB refuses)
    likewise.
    """
    if not data.startswith((PUBLISHED_HEADER_LINE + b"\n", PUBLISHED_HEADER_LINE + b"\r\n")):
        return None
    newlines = data.count(b"\n")
    returns = data.count(b"\r")
    if returns and not returns == newlines == data.count(b"\r\n"):
        return None  # a carriage return that does not end a line
    if b"\x00" in data or b"\x01" in data:  # not text; the byte DuckDB is told stands for null
        return None
    if b'"' in data and any(spaced in data for spaced in (b' "', b'" ', b'\t"', b'"\t')):
        return None  # DuckDB drops the spaces around a quoted value; the careful reader keeps them
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return newlines - 1 + (0 if data.endswith(b"\n") else 1)


@dataclass
class _Delivery:
    """A readable street file of the month being read."""

    path: Path
    source_file: str
    plain_rows: int | None  # rows DuckDB should find; None: read by the careful reader
    force: str
    careful: RawRecords | None = None


@dataclass
class _Month:
    """A month's street files, looked at but not yet classified: each file's outcome so far
    (``file_info``), the readable ones, which later delivery replaces which, and warnings."""

    month: dt.date
    deliveries: dict[str, _Delivery]
    replaced: dict[str, str]
    file_info: dict[str, dict[str, object]]
    warnings: list[str]


def _look_at_month(month: dt.date, paths: list[Path], raw_dir: Path) -> _Month:
    """Hash and check a month's files; read those that are not plain carefully."""
    looked = _Month(month, {}, {}, {}, [])
    for path in paths:
        source_file = relative_source_file(path, raw_dir)
        info: dict[str, object] = {"sha256": sha256_of(path), "month": month, "encoding": ""}
        looked.file_info[source_file] = info
        if not FILE_NAME.match(path.name):
            info["rejected"] = (
                "the file name is not YYYY-MM-<force>-street.csv, as data.police.uk names street "
                "files; if it is one, rename it"
            )
            continue
        data = path.read_bytes()
        rows = plain_row_count(data)
        reporters = None if rows is None else _first_reporters(data)
        if rows is None or reporters is None:
            delivery = _read_carefully(path, source_file, info, looked.warnings)
        else:
            info["encoding"], info["rows_read"] = "utf-8", rows
            delivery = _Delivery(path, source_file, rows, _force_of(reporters, path))
        if delivery is not None:
            looked.deliveries[source_file] = delivery
    looked.replaced, order_warnings = latest_deliveries(
        {name: (d.path, (month, d.force)) for name, d in looked.deliveries.items()}
    )
    looked.warnings.extend(order_warnings)
    return looked


def _classify_month(looked: _Month) -> tuple[pa.Table, pa.Table]:
    """The accepted and set-aside rows of a month; ``looked`` gains what reading again
    carefully finds."""
    deliveries = looked.deliveries
    while True:
        try:
            return _classify(looked.month, list(deliveries.values()), looked.replaced)
        except _NotPlain as not_plain:
            # DuckDB refused a plain-looking file, or read another number of rows than it has
            # lines: those files are read again, carefully.
            for source_file in not_plain.source_files:
                path, info = deliveries[source_file].path, looked.file_info[source_file]
                careful = _read_carefully(path, source_file, info, looked.warnings)
                if careful is None:
                    del deliveries[source_file]
                else:
                    deliveries[source_file] = careful
            if not set(not_plain.source_files) <= set(deliveries):
                # A file the careful reader rejects replaces nothing: its earlier delivery
                # stays loaded.
                looked.replaced, order_warnings = latest_deliveries(
                    {name: (d.path, (looked.month, d.force)) for name, d in deliveries.items()}
                )
                looked.warnings.extend(w for w in order_warnings if w not in looked.warnings)


def _read_carefully(
    path: Path, source_file: str, info: dict[str, object], warnings: list[str]
) -> _Delivery | None:
    """Read a file that is not plain with ``base.read_delimited``; ``None`` when it is rejected
    (``info`` then says why)."""
    try:
        records = read_delimited(path, COLUMNS, source_file)
    except FileRejected as rejected:
        info["rejected"] = rejected.problem
        return None
    info["encoding"] = records.encoding
    info["rows_read"] = records.table.num_rows + len(records.malformed)
    warnings.extend(unknown_columns_warnings(source_file, records.unknown_columns))
    warnings.extend(records.warnings)  # stray bytes in the text, if any
    reporters = pc.utf8_trim_whitespace(
        records.table.column("reported_by").slice(0, FORCE_SAMPLE_ROWS)
    ).to_pylist()
    return _Delivery(path, source_file, None, _force_of(reporters, path), records)


class _NotPlain(Exception):
    """Files that looked plain but DuckDB could not read as their lines say."""

    def __init__(self, source_files: list[str]) -> None:
        super().__init__(", ".join(source_files))
        self.source_files = source_files


def _first_reporters(data: bytes) -> list[str] | None:
    """``Reported by`` of a plain file's first rows; ``None`` when they are not CSV that the
    csv module can read (the careful reader then reads the file)."""
    lines = itertools.islice(io.BytesIO(data), 1, FORCE_SAMPLE_ROWS + 1)
    try:
        return [
            row[2].strip()
            for row in csv.reader(line.decode("utf-8") for line in lines)
            if len(row) > 2
        ]
    except csv.Error:
        return None


def _force_of(reporters: list[str], path: Path) -> str:
    """The force whose month a file delivers: the force most of its first rows are reported by
    (a file is one force's), or the force in its name when it has no rows."""
    counts = Counter(reporters)
    if counts:
        most, _ = counts.most_common(1)[0]
        if most:
            return most
    match = FILE_NAME.match(path.name)
    return match["force"].casefold() if match else path.name


# How DuckDB reads a plain file: exactly as published, every column as text, an empty field
# as an empty string (as the careful reader gives it), and a malformed row refused. A plain
# file never holds the byte that stands for null here (chr(1)).
PLAIN_CSV_OPTIONS = (
    "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
    "strict_mode = true, filename = true, nullstr = chr(1), columns = {"
    + ", ".join(f"'{name}': 'VARCHAR'" for name in PUBLISHED_HEADERS)
    + "}"
)

RAW_COLUMNS = ", ".join(PUBLISHED_HEADERS)

# The rows of the month: plain files straight from disk (a row's number is its line, from the
# position DuckDB reads it at), and the rows the careful reader read. Plain files are read in as
# many groups as DuckDB has threads, each group numbering its rows in file order, so that the
# groups are read in parallel; ``{group}`` is the group's number.
PLAIN_ROWS_SQL = f"""
SELECT {RAW_COLUMNS}, files.source_file, files.replaced_by,
       ordinality - files.first_ordinality + 2 AS row_number
FROM (SELECT * FROM read_csv($paths_{{group}}, {PLAIN_CSV_OPTIONS}) WITH ORDINALITY) AS plain
JOIN files ON files.path = plain.filename
"""
CAREFUL_ROWS_SQL = f"SELECT {RAW_COLUMNS}, source_file, replaced_by, row_number FROM careful_rows"

# Rules that look at one row. Materialised once: the repeated Crime IDs are then found in it,
# and the accepted and set-aside rows read from it, so no rule runs twice.
CLASSIFY_SQL = """
CREATE TEMP TABLE classified_rows AS
WITH source AS (
    SELECT
        *,
        $file_month::DATE AS file_month,
        nullif(trim(crime_id), '') AS id,
        trim(lsoa_name) AS lsoa,
        regexp_extract(trim(lsoa_name), '^(.*\\S)\\s+[0-9]{3}[A-Z]$', 1) AS lsoa_district,
        try_strptime(trim(month), '%Y-%m')::DATE AS month_date,
        trim(crime_type) AS published_type,
        try_cast(nullif(trim(longitude), '') AS DOUBLE) AS lon,
        try_cast(nullif(trim(latitude), '') AS DOUBLE) AS lat
    FROM ({raw_rows})
)
SELECT
    source.*,
    district.area_code AS district_code,
    crime_types.crime_type AS harmonised_type,
    CASE
        WHEN replaced_by IS NOT NULL THEN 'superseded'
        WHEN month_date IS NULL THEN 'invalid_month'
        WHEN month_date <> file_month THEN 'month_outside_file'
        WHEN crime_types.crime_type IS NULL THEN 'unknown_crime_type'
        WHEN lsoa = '' THEN 'no_location'
        WHEN district.area_code IS NULL THEN 'outside_area'
        WHEN (trim(longitude) <> '' AND lon IS NULL) OR (trim(latitude) <> '' AND lat IS NULL)
            OR lon NOT BETWEEN -8 AND 2 OR lat NOT BETWEEN 49 AND 61
            THEN 'invalid_coordinates'
    END AS rule_broken
FROM source
LEFT JOIN districts AS district ON district.area_name = source.lsoa_district
LEFT JOIN crime_types ON crime_types.crime_type_published = source.published_type
"""

# A Crime ID is counted once per month: the first row (by file, then row) is loaded and each
# repeat is set aside naming it. Found by grouping, not ranking, so the rows without an ID (ASB,
# a third of a national month) are never sorted; and grouped first by the IDs' 64-bit hashes,
# so only the few IDs that may repeat are compared as text.
OUTCOME_SQL = """
CREATE TEMP TABLE repeated AS
WITH repeated_hashes AS (
    SELECT hash(id) AS id_hash, month_date
    FROM classified_rows
    WHERE rule_broken IS NULL AND id IS NOT NULL
    GROUP BY ALL
    HAVING count(*) > 1
)
SELECT id, month_date, min({'file': source_file, 'row': row_number}) AS first
FROM classified_rows
SEMI JOIN repeated_hashes
    ON hash(classified_rows.id) = repeated_hashes.id_hash
    AND classified_rows.month_date = repeated_hashes.month_date
WHERE rule_broken IS NULL AND id IS NOT NULL
GROUP BY ALL
HAVING count(*) > 1;

CREATE TEMP VIEW outcome AS
SELECT
    classified_rows.*,
    repeated.first.file AS first_file,
    repeated.first.row AS first_row,
    CASE
        WHEN rule_broken IS NOT NULL THEN rule_broken
        WHEN repeated.first IS NOT NULL
            AND (source_file <> repeated.first.file OR row_number <> repeated.first.row)
            THEN 'duplicate_crime_id'
    END AS reason_code
FROM classified_rows
LEFT JOIN repeated USING (id, month_date);
"""

# Plain files of which DuckDB read another number of rows than they have lines.
MISREAD_SQL = """
SELECT files.source_file
FROM files
LEFT JOIN (SELECT source_file, count(*) AS n FROM classified_rows GROUP BY ALL) AS read
    USING (source_file)
WHERE files.plain_rows IS NOT NULL AND coalesce(read.n, 0) <> files.plain_rows
"""

# DuckDB names the file it refused in its message (``  file = /path/...``); only that file is
# then read carefully, or every plain file of the month when no file is named.
REFUSED_FILE = re.compile(r"^\s*file = (?P<path>.+?)\s*$", re.MULTILINE)

CAREFUL_SCHEMA = pa.schema(
    [
        *((name, pa.string()) for name in PUBLISHED_HEADERS),
        ("source_file", pa.string()),
        ("replaced_by", pa.string()),
        ("row_number", pa.int64()),
    ]
)
FILES_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("path", pa.string()),
        ("replaced_by", pa.string()),
        ("plain_rows", pa.int64()),
        ("first_ordinality", pa.int64()),
    ]
)


def _classify(
    month: dt.date, deliveries: list[_Delivery], replaced: dict[str, str]
) -> tuple[pa.Table, pa.Table]:
    """Apply the row rules to a month's rows in one set-based pass; returns (accepted, set
    aside). Raises ``_NotPlain`` naming plain files DuckDB did not read as their lines say."""
    scope = current_scope()
    districts = scope.districts()
    with duckdb.connect() as connection:
        # Rows are numbered as they are read, so the order they are kept in does not matter,
        # and DuckDB may read, classify and keep them on every thread at once.
        connection.execute("SET preserve_insertion_order = false")
        threads = int(connection.execute("SELECT current_setting('threads')").fetchall()[0][0])
        groups = _balanced_groups([d for d in deliveries if d.plain_rows is not None], threads)
        connection.register("files", _files_table(groups, deliveries, replaced))
        connection.register(
            "careful_rows",
            pa.concat_tables(
                [CAREFUL_SCHEMA.empty_table()]
                + [
                    _careful_rows(d, replaced.get(d.source_file))
                    for d in deliveries
                    if d.careful is not None
                ]
            ),
        )
        connection.register(
            "districts",
            pa.table({"area_name": list(districts), "area_code": list(districts.values())}),
        )
        connection.register("crime_types", load_reference_table("crime_types"))
        connection.execute(SHORTENED_MACRO)
        plain_scans = [PLAIN_ROWS_SQL.replace("{group}", str(n)) for n in range(len(groups))]
        raw_rows = " UNION ALL ".join([*plain_scans, CAREFUL_ROWS_SQL])
        paths = {f"paths_{n}": [str(d.path) for d in group] for n, group in enumerate(groups)}
        try:
            connection.execute(
                CLASSIFY_SQL.replace("{raw_rows}", raw_rows), {"file_month": month, **paths}
            )
        except duckdb.InvalidInputException as refused:  # a row DuckDB cannot read as CSV
            if not groups:
                raise
            plain = [d for group in groups for d in group]
            named = REFUSED_FILE.search(str(refused))
            blamed = [d for d in plain if named and str(d.path) == named["path"]] or plain
            raise _NotPlain([d.source_file for d in blamed]) from refused
        misread = [row[0] for row in connection.execute(MISREAD_SQL).fetchall()]
        if misread:
            raise _NotPlain(misread)
        connection.execute(OUTCOME_SQL)
        accepted = connection.sql(ACCEPTED_SQL).to_arrow_table()
        set_aside = connection.sql(SET_ASIDE_SQL, params={"scope": scope.description})
        set_aside = set_aside.to_arrow_table()
    malformed = [
        malformed_row(SOURCE_ID, d.source_file, row, d.careful.header_fields)
        for d in deliveries
        if d.careful is not None
        for row in d.careful.malformed
    ]
    set_aside = pa.concat_tables(
        [pa.Table.from_pylist(malformed, SET_ASIDE_SCHEMA), set_aside.cast(SET_ASIDE_SCHEMA)]
    )
    return accepted.cast(ACCEPTED_SCHEMA), set_aside


def _files_table(
    groups: list[list[_Delivery]], deliveries: list[_Delivery], replaced: dict[str, str]
) -> pa.Table:
    """The month's files: where each plain file's rows start in its group's numbering, and
    which later delivery, if any, replaces each file."""
    plain = [
        {
            "source_file": d.source_file,
            "path": str(d.path),
            "replaced_by": replaced.get(d.source_file),
            "plain_rows": d.plain_rows,
            "first_ordinality": first,
        }
        for group in groups
        for d, first in zip(
            group, itertools.accumulate((d.plain_rows or 0 for d in group), initial=1), strict=False
        )
    ]
    careful = [
        {"source_file": d.source_file, "replaced_by": replaced.get(d.source_file)}
        for d in deliveries
        if d.careful is not None
    ]
    return pa.Table.from_pylist(plain + careful, FILES_SCHEMA)


SET_ASIDE_SQL = f"""
SELECT '{SOURCE_ID}' AS source_id, source_file, row_number, reason_code,
       shortened({REASON_SQL}, {REASON_LIMIT}) AS reason,
       CASE WHEN reason_code NOT IN ({ROUTINE_SQL}) THEN to_json(struct_pack(
           {", ".join(f'"{header}" := {name}' for name, header in RECORDED_HEADERS.items())}
       ))::VARCHAR END AS record
FROM outcome WHERE reason_code IS NOT NULL
"""


ACCEPTED_SQL = """
SELECT month_date AS month, id AS crime_id, harmonised_type AS crime_type,
       published_type AS crime_type_published, trim(lsoa_code) AS lsoa_code,
       lsoa AS lsoa_name, district_code, trim(location) AS location,
       nullif(trim(last_outcome_category), '') AS last_outcome_category,
       lon AS longitude, lat AS latitude, trim(reported_by) AS reported_by,
       source_file, row_number
FROM outcome WHERE reason_code IS NULL
"""


def _balanced_groups(deliveries: list[_Delivery], count: int) -> list[list[_Delivery]]:
    """Split plain files into at most ``count`` groups of about as many rows, largest first, so
    that no thread waits on another; each group keeps the files' order."""
    groups: list[list[_Delivery]] = [[] for _ in range(max(1, min(count, len(deliveries))))]
    sizes = [0] * len(groups)
    for delivery in sorted(deliveries, key=lambda d: -(d.plain_rows or 0)):
        smallest = sizes.index(min(sizes))
        groups[smallest].append(delivery)
        sizes[smallest] += delivery.plain_rows or 0
    order = {id(delivery): position for position, delivery in enumerate(deliveries)}
    return [sorted(group, key=lambda d: order[id(d)]) for group in groups if group]


def _careful_rows(delivery: _Delivery, replaced_by: str | None) -> pa.Table:
    """A carefully read file's rows, with the columns the month's query reads."""
    assert delivery.careful is not None
    table = delivery.careful.table
    rows = table.num_rows
    return pa.table(
        {
            **{name: table.column(name) for name in PUBLISHED_HEADERS},
            "source_file": pa.repeat(pa.scalar(delivery.source_file), rows),
            "replaced_by": pa.repeat(pa.scalar(replaced_by, pa.string()), rows),
            "row_number": table.column("row_number"),
        },
        CAREFUL_SCHEMA,
    )


def _load_log(
    file_info: dict[str, dict[str, object]], accepted: pa.Table, set_aside: pa.Table
) -> pa.Table:
    """One load-log line per file, counting loaded and set-aside rows independently."""
    loaded = count_by_file(accepted)
    aside = count_by_file(set_aside)
    rows = []
    for source_file, info in file_info.items():
        month = info["month"]
        assert isinstance(month, dt.date)
        period = (month, periods.add_months(month, 1) - dt.timedelta(days=1))
        if "rejected" in info:
            rows.append(
                rejected_log_row(
                    SOURCE_ID, source_file, str(info["sha256"]), str(info["rejected"]), period
                )
            )
            continue
        rows_read = int(info["rows_read"])  # type: ignore[call-overload]
        counts = (rows_read, loaded.get(source_file, 0), aside.get(source_file, 0))
        rows.append(
            load_log_row(
                SOURCE_ID, source_file, str(info["sha256"]), str(info["encoding"]), period, counts
            )
        )
    return pa.Table.from_pylist(rows, LOAD_LOG_SCHEMA)


def measures() -> list[dict[str, str | None]]:
    """Street-level counts: one per harmonised crime type, plus all crime excluding ASB."""
    rows = [
        measure_row(
            "police_uk.all_crime",
            SOURCE_ID,
            "All street-level crime (excluding anti-social behaviour)",
            "crimes",
            "month",
        )
    ]
    for crime_type in sorted(set(crime_type_map().values())):
        is_asb = crime_type == "Anti-social behaviour"
        rows.append(
            measure_row(
                f"police_uk.{slug(crime_type)}",
                SOURCE_ID,
                crime_type + (" incidents" if is_asb else " (street-level crime)"),
                "incidents" if is_asb else "crimes",
                "month",
                crime_type,
            )
        )
    return rows


RECONCILE_SQL = """
WITH from_records AS (
    SELECT month AS period_start, district_code AS area_code, count(*) AS n
    FROM police_street_crime GROUP BY ALL
),
from_observations AS (
    SELECT period_start, area_code, sum(value) AS n FROM observations
    WHERE source_id = 'police_uk' AND measure_id <> 'police_uk.all_crime'
    GROUP BY ALL
)
SELECT 'police_uk' AS source_id, period_start, area_code, r.n AS records, o.n AS observations
FROM from_records AS r FULL JOIN from_observations AS o USING (period_start, area_code)
WHERE coalesce(r.n, 0) <> coalesce(o.n, 0)
"""


def read_all(raw_dir: Path) -> FileRead:
    return read_street_files(discover_files(raw_dir), raw_dir)


SPEC = SourceSpec(
    source_id=SOURCE_ID,
    title="data.police.uk street-level crime and anti-social behaviour",
    group="police_uk",
    accepted_schema=ACCEPTED_SCHEMA,
    record_tables=("police_street_crime",),
    build_contract=build_contract,
    measures=measures,
    read_all=read_all,
    partitioned=True,
    reconcile_sql=RECONCILE_SQL,
)
