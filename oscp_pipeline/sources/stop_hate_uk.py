"""Stop Hate UK third-party hate reporting: one record per report, exported quarterly.

Stop Hate UK runs the Oxfordshire third-party reporting line from October 2012 and sends a
quarterly export of the reports it received, as CSV or as JSON (a list of report objects, or an
object holding them in ``records``): ``stop_hate_uk_2013-14_Q2.csv`` covers July to September
2013. A report names one or more hate motivations, the district where it happened, or
``Oxfordshire`` when the caller did not say (counted as district not known). An export with no
reports (a header only, or an empty list) looks exactly like a failed export, so it is held back
and its quarter shows as not available, never as 0 reports.

The export also carries the caller's name, phone number, e-mail address and a free-text
narrative. The partnership has no lawful need for them: the contract marks them personal and
they are dropped as the file is read. For CSV only the other columns are parsed; for JSON those
keys are discarded as each object is parsed. They never reach a table, a set-aside record, a
log line or a message, and a malformed CSV row is set aside without its text (as is a row
whose quote, left open in a loaded column, took in the caller's details).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from oscp_pipeline import periods
from oscp_pipeline.reference import districts, load_reference_table, resolve_area
from oscp_pipeline.sources.base import (
    DELIVERY_ORDER_RULE,
    WITHHELD_ROW_RECORD,
    Column,
    Expectation,
    FileRead,
    FileRejected,
    MalformedRow,
    SourceContract,
    SourceSpec,
    decode_delivery,
    latest_deliveries,
    listed_value,
    load_log_row,
    malformed_row_reason,
    match_header,
    measure_row,
    normalise_header,
    not_listed,
    outside_quarter,
    parse_date,
    parsed_malformed_row,
    quarter_period,
    quoted_code,
    read_csv_header,
    reads_each_delivery_once,
    recorded_code,
    rejected_log_row,
    relative_source_file,
    set_aside_row,
    sha256_of,
    source_files,
    split_off_untrusted_rows,
    superseded_reason,
    unknown_columns_warnings,
    unread_files_warnings,
)

SOURCE_ID = "stop_hate_uk"
# The quarter, then optionally a mark of a later delivery ('_v2', ' corrected').
FILE_NAME = re.compile(
    r"^stop_hate_uk_(?P<year>\d{4}-\d{2})_(?P<quarter>Q[1-4])(?:[_ -][^.]*)?\.(?:csv|json)$",
    re.IGNORECASE,
)
UNALLOCATED = "OSCP-UNALLOCATED"
REFERENCE_PATTERN = re.compile(r"^SHUK-\d{4}-\d{6}$")

# Date formats the data-sharing agreement declares for each export format.
DATE_FORMATS: dict[str, tuple[str, ...]] = {".csv": ("%d/%m/%Y",), ".json": ("%Y-%m-%d",)}

LOADED_COLUMNS = (
    Column("reference", "Reference", "Stop Hate UK case reference, SHUK-YYYY-NNNNNN"),
    Column(
        "date_received",
        "Date Received",
        "Date the report reached Stop Hate UK: DD/MM/YYYY in CSV, YYYY-MM-DD in JSON",
    ),
    Column("report_type", "Report Type", "'Contact' (advice or support) or 'Incident report'"),
    Column(
        "hate_motivation",
        "Hate Motivation",
        "One or more of Race, Religion/faith, Sexual orientation, Disability, "
        "Transgender identity, Other, separated by ';'",
    ),
    Column(
        "incident_type",
        "Incident Type",
        "Verbal abuse, Harassment, Physical assault, Damage to property, Online or Other",
    ),
    Column("method_of_contact", "Method of Contact", "Phone, Web form, Email, Text or App"),
    Column("area", "Area", "District name, or 'Oxfordshire' when the district is not known"),
)

# Recognised so that they raise no unknown-column warning, and dropped as the file is read.
PERSONAL_COLUMNS = (
    Column("caller_name", "Caller Name", "Caller's name", required=False, personal=True),
    Column("caller_phone", "Caller Phone", "Caller's phone number", required=False, personal=True),
    Column(
        "caller_email", "Caller Email", "Caller's e-mail address", required=False, personal=True
    ),
    Column(
        "narrative", "Narrative", "Free-text account of the incident", required=False, personal=True
    ),
)

COLUMNS = (*LOADED_COLUMNS, *PERSONAL_COLUMNS)
LOADED_NAMES = frozenset(column.name for column in COLUMNS if not column.personal)
PERSONAL_KEYS = frozenset(
    normalise_header(header)
    for column in COLUMNS
    if column.personal
    for header in column.accepted_headers()
)
PUBLISHED_HEADERS = {column.name: column.header for column in LOADED_COLUMNS}

REPORT_TYPES = ("Contact", "Incident report")
INCIDENT_TYPES = (
    "Verbal abuse",
    "Harassment",
    "Physical assault",
    "Damage to property",
    "Online",
    "Other",
)
CONTACT_METHODS = ("Phone", "Web form", "Email", "Text", "App")
# Published motivation -> canonical hate crime strand, in the order strands are listed.
MOTIVATIONS: dict[str, str] = {
    "Race": "Race",
    "Religion/faith": "Religion",
    "Sexual orientation": "Sexual orientation",
    "Disability": "Disability",
    "Transgender identity": "Transgender identity",
    "Other": "Other",
}
STRANDS = tuple(dict.fromkeys(MOTIVATIONS.values()))

ACCEPTED_SCHEMA = pa.schema(
    [
        ("reference", pa.string()),
        ("date_received", pa.date32()),
        ("month", pa.date32()),
        ("report_type", pa.string()),
        ("incident_type", pa.string()),
        ("method_of_contact", pa.string()),
        ("area_code", pa.string()),
        ("motivations", pa.string()),
        ("motivation_count", pa.int32()),
        ("source_file", pa.string()),
        ("row_number", pa.int64()),
    ]
)


def build_contract() -> SourceContract:
    """The Stop Hate UK quarterly export contract."""
    return SourceContract(
        source_id=SOURCE_ID,
        title="Stop Hate UK third-party hate reports",
        publisher="Stop Hate UK (data-sharing agreement with the partnership)",
        file_pattern="stop_hate_uk/stop_hate_uk_YYYY-YY_QN.csv (or .json)",
        columns=COLUMNS,
        row_rules=(
            "Caller Name, Caller Phone, Caller Email and Narrative are personal data: they are "
            "dropped as the file is read and never loaded, logged or kept in set-aside rows.",
            "The file name gives the financial quarter the export covers. When two readable "
            "exports cover the same quarter, the later delivery is loaded and the other's rows "
            "are set aside as superseded. " + DELIVERY_ORDER_RULE,
            "An export with no reports (a header only, or an empty list) is held back and the "
            "quarter shows as not available, never 0: it cannot be told from a failed export.",
            "A JSON export is a list of report objects keyed by the column headers, or an "
            "object holding that list under 'records'.",
            "Date Received is DD/MM/YYYY in CSV and YYYY-MM-DD in JSON, within that quarter.",
            "Reference is SHUK-YYYY-NNNNNN; a repeated Reference is set aside, the first kept.",
            "Report Type, Incident Type and Method of Contact come from fixed lists.",
            "Hate Motivation holds one or more listed motivations separated by ';'.",
            "Area is an Oxfordshire district, or 'Oxfordshire' when the district is not known.",
            "A value of these columns that does not look like a code or a list entry (free text "
            "such as a name or an address) is described by its length, never quoted, in the "
            "reason and the record of its set-aside row.",
            "A malformed CSV row is set aside without its text, and so is a row with a line "
            "break in a loaded column (any but the caller's details and Narrative): a quote left "
            "open there takes in the caller's details and the lines after it.",
        ),
        expectations=(
            Expectation(
                "row_count_between",
                "an export with no loadable reports is suspect, so its quarter shows as not "
                "available, not 0",
                params={"min_value": 1},
            ),
            Expectation("not_null", "every report has a reference", "reference"),
            Expectation("not_null", "every report has a date received", "date_received"),
            Expectation(
                "in_set",
                "reports are placed in a district or in Oxfordshire, district not known",
                "area_code",
                {"value_set": [*sorted(districts().values()), UNALLOCATED]},
            ),
            Expectation(
                "in_set",
                "report types are Contact or Incident report",
                "report_type",
                {"value_set": list(REPORT_TYPES)},
            ),
            Expectation(
                "in_set",
                "incident types come from the export's list",
                "incident_type",
                {"value_set": list(INCIDENT_TYPES)},
            ),
            Expectation(
                "in_set",
                "contact methods come from the export's list",
                "method_of_contact",
                {"value_set": list(CONTACT_METHODS)},
            ),
            Expectation(
                "between",
                "every report names at least one motivation",
                "motivation_count",
                {"min_value": 1, "max_value": len(STRANDS)},
            ),
            Expectation(
                "compound_unique",
                "a report is counted once",
                None,
                {"columns": ["reference", "date_received"]},
            ),
        ),
    )


def file_quarter(path: Path) -> dt.date | None:
    """First day of the financial quarter an export covers, from its name; None if unnamed.

    A name whose quarter is no financial quarter ('2014-16') is rejected saying why.
    """
    match = FILE_NAME.match(path.name)
    if not match:
        return None
    try:
        return periods.quarter_start_of_label(f"{match['year']} {match['quarter'].upper()}")
    except ValueError as error:
        raise FileRejected(path.name, f"the file name gives no valid quarter: {error}") from error


# The files the source reads; any other file in its folder is named in a warning.
FILE_SUFFIXES = tuple(DATE_FORMATS)


def discover_files(raw_dir: Path) -> list[Path]:
    """Every CSV or JSON export under ``<raw>/stop_hate_uk``, in a stable order."""
    return source_files(raw_dir, SOURCE_ID, FILE_SUFFIXES)


@dataclass
class _Delivery:
    """One export read down to its non-personal fields, as text keyed by column name."""

    rows: list[tuple[int, dict[str, str]]]
    malformed: list[tuple[int, str]]
    encoding: str
    unknown_columns: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _read_csv(path: Path, source_file: str) -> _Delivery:
    """Parse only the non-personal columns; a malformed row keeps its number, never its text."""
    decoded = decode_delivery(path.read_bytes(), source_file)
    utf8 = decoded.utf8
    if not utf8.strip():
        raise FileRejected(source_file, "the file is empty; expected a header row")
    header, header_map, unknown = read_csv_header(utf8, COLUMNS, source_file)
    names = [f"_c{index}" for index in range(len(header))]
    loaded = {
        name: header_map[title]
        for name, title in zip(names, header, strict=True)
        if header_map.get(title) in LOADED_NAMES
    }
    parsed_malformed: list[MalformedRow] = []

    def set_aside_malformed(row: pa_csv.InvalidRow) -> str:
        parsed_malformed.append(parsed_malformed_row(row))
        return "skip"

    try:
        table = pa_csv.read_csv(
            io.BytesIO(utf8),
            read_options=pa_csv.ReadOptions(
                column_names=names,
                # the header record, though a quoted cell may hold a line break (read_delimited)
                skip_rows_after_names=1,
                use_threads=False,
                # every row must fit in one block: a long narrative must not reject the file
                block_size=max(1 << 20, min(len(utf8) + 1, 1 << 30)),
            ),
            parse_options=pa_csv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=set_aside_malformed
            ),
            convert_options=pa_csv.ConvertOptions(
                include_columns=list(loaded),
                column_types=dict.fromkeys(loaded, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        # The parser's message can quote the offending text, which may be personal data.
        raise FileRejected(source_file, "not readable as CSV (parser detail withheld)") from error
    # Rows are numbered as read_delimited numbers them: header = row 1, a blank line is a row.
    # A line break in a loaded value (the Narrative may hold one) is a quote left open that took
    # in the row's personal fields: the row is set aside as malformed, without its text.
    table, numbers, untrusted = split_off_untrusted_rows(
        utf8,
        table,
        parsed_malformed,
        header,
        header_map,
        {index: name for index, name in enumerate(names) if name in loaded},
    )
    malformed = [
        (row.number, malformed_row_reason(source_file, row, len(names))) for row in untrusted
    ]
    columns = {loaded[name]: table.column(name).to_pylist() for name in loaded}
    rows = [
        (number, {name: values[index] for name, values in columns.items()})
        for index, number in enumerate(numbers.tolist())
    ]
    return _Delivery(rows, malformed, decoded.encoding, unknown, list(decoded.warnings))


def _without_personal_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """JSON object hook: personal fields are discarded as each object is parsed."""
    return {key: value for key, value in pairs if normalise_header(key) not in PERSONAL_KEYS}


def _json_text(value: object) -> str:
    """A JSON value as the text a CSV cell would hold; a list (of motivations) joined by ';'.

    A nested object is never echoed: it would fail the column's rule showing only a marker.
    """
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(_json_text(item) for item in value)
    if isinstance(value, dict):
        return "(a JSON object)"
    return str(value)


def _read_json(path: Path, source_file: str) -> _Delivery:
    """Parse a JSON export, keeping only the non-personal fields of each report object."""
    decoded = decode_delivery(path.read_bytes(), source_file)
    encoding, warnings = decoded.encoding, list(decoded.warnings)  # stray bytes, if any
    try:
        document = json.loads(
            decoded.utf8.decode("utf-8"), object_pairs_hook=_without_personal_keys
        )
    except json.JSONDecodeError as error:  # the message gives a position, never content
        raise FileRejected(source_file, f"not readable as JSON: {error}") from error
    except RecursionError as error:
        raise FileRejected(
            source_file, "not readable as JSON: nested too deeply; expected a list of reports"
        ) from error
    records = document.get("records") if isinstance(document, dict) else document
    if not isinstance(records, list):
        raise FileRejected(
            source_file, "expected a list of report objects or an object with a 'records' list"
        )
    objects = [(n, r) for n, r in enumerate(records, start=1) if isinstance(r, dict)]
    malformed = [
        (n, "record is not a JSON object")
        for n, r in enumerate(records, start=1)
        if not isinstance(r, dict)
    ]
    if not objects:
        return _Delivery([], malformed, encoding, [], warnings)
    keys = list(dict.fromkeys(key for _, record in objects for key in record))
    header_map, unknown = match_header(keys, COLUMNS, source_file)
    rows = []
    for number, record in objects:
        values = dict.fromkeys(LOADED_NAMES, "")
        for key, value in record.items():
            if header_map.get(key) in LOADED_NAMES:
                values[header_map[key]] = _json_text(value)
        rows.append((number, values))
    return _Delivery(rows, malformed, encoding, unknown, warnings)


def _classify(
    values: dict[str, str], date_formats: tuple[str, ...], quarter: dt.date
) -> tuple[str, str] | dict[str, object]:
    """Either (reason code, reason) to set the row aside, or the report's canonical values."""
    text = {name: (values.get(name) or "").strip() for name in LOADED_NAMES}
    reference = text["reference"]
    if not REFERENCE_PATTERN.match(reference):
        return "invalid_reference", (
            f"column 'Reference': {quoted_code(reference, words=1)} is not a reference of the "
            "form SHUK-YYYY-NNNNNN"
        )
    received, problem = parse_date(text["date_received"], date_formats)
    if received is None:
        return "invalid_date", f"column 'Date Received': {problem}"
    outside = outside_quarter("Date Received", received, quarter)
    if outside is not None:
        return "date_outside_period", outside
    report_type = listed_value(text["report_type"], REPORT_TYPES)
    if report_type is None:
        return "unknown_report_type", not_listed("Report Type", text["report_type"], REPORT_TYPES)
    published = [part.strip() for part in text["hate_motivation"].split(";") if part.strip()]
    if not published:
        return "missing_motivation", "column 'Hate Motivation' is blank; expected at least one"
    motivations = [listed_value(part, tuple(MOTIVATIONS)) for part in published]
    if None in motivations:
        unknown = published[motivations.index(None)]
        return "unknown_motivation", not_listed("Hate Motivation", unknown, tuple(MOTIVATIONS))
    strands = {MOTIVATIONS[m] for m in motivations if m is not None}
    incident_type = listed_value(text["incident_type"], INCIDENT_TYPES)
    if incident_type is None:
        return "unknown_incident_type", not_listed(
            "Incident Type", text["incident_type"], INCIDENT_TYPES
        )
    method = listed_value(text["method_of_contact"], CONTACT_METHODS)
    if method is None:
        return "unknown_contact_method", not_listed(
            "Method of Contact", text["method_of_contact"], CONTACT_METHODS
        )
    area_code = _area_code(text["area"])
    if area_code is None:
        return "unknown_area", (
            f"column 'Area': {quoted_code(text['area'])} is not an Oxfordshire district or "
            "'Oxfordshire' (district not known); a new spelling is added to area_aliases.csv"
        )
    return {
        "reference": reference,
        "date_received": received,
        "month": received.replace(day=1),
        "report_type": report_type,
        "incident_type": incident_type,
        "method_of_contact": method,
        "area_code": area_code,
        "motivations": ";".join(s for s in STRANDS if s in strands),
        "motivation_count": len(strands),
    }


def _record(values: dict[str, str]) -> str:
    """A report's loaded columns as delivered, as JSON, for its set-aside row. Every one is a
    code or a list entry, so a value that does not look like one (free text typed into the
    column: a name, an address) is replaced by a note of its length; motivations one by one."""
    recorded = {}
    for name, header in PUBLISHED_HEADERS.items():
        value = values.get(name) or ""
        if name == "hate_motivation":
            recorded[header] = ";".join(recorded_code(part) for part in value.split(";"))
        elif name == "reference":  # one word, as its reason quotes it
            recorded[header] = recorded_code(value, words=1)
        else:
            recorded[header] = recorded_code(value)
    return json.dumps(recorded, ensure_ascii=False)


def _area_code(area: str) -> str | None:
    """District code, or ``OSCP-UNALLOCATED`` for 'Oxfordshire' (the district was not given)."""
    code = resolve_area(area) if area else None
    if code in _county_codes():
        return UNALLOCATED
    if code == UNALLOCATED or code in districts().values():
        return code
    return None


@cache
def _county_codes() -> frozenset[str]:
    areas = load_reference_table("areas").to_pylist()
    return frozenset(row["area_code"] for row in areas if row["area_type"] == "county")


@reads_each_delivery_once(SOURCE_ID, named_period=file_quarter)
def read_exports(paths: list[Path], raw_dir: Path) -> FileRead:
    """Read every export together, so a Reference repeated in a later export is counted once.

    Exports are read first; of two readable exports of one quarter (a re-export named
    ``_v2`` or ``corrected``), the later is loaded and the earlier's rows are set aside as
    superseded.
    """
    set_aside: list[dict[str, object]] = []
    accepted: list[dict[str, object]] = []
    first_seen: dict[str, tuple[str, int]] = {}
    log_lines: list[dict[str, object]] = []
    warnings: list[str] = []
    readable: dict[str, tuple[Path, dt.date]] = {}
    deliveries: dict[str, _Delivery] = {}

    def in_quarter_order(path: Path) -> tuple[dt.date, str]:
        try:
            quarter = file_quarter(path)
        except FileRejected:  # rejected below, naming the problem
            quarter = None
        return quarter or dt.date.min, path.name

    for path in sorted(paths, key=in_quarter_order):
        source_file = relative_source_file(path, raw_dir)
        try:
            quarter = file_quarter(path)
        except FileRejected as rejected:
            log_lines.append(
                rejected_log_row(SOURCE_ID, source_file, sha256_of(path), rejected.problem)
            )
            continue
        if quarter is None:
            problem = (
                "the file name does not give the quarter it covers; expected "
                "stop_hate_uk_YYYY-YY_QN.csv or .json (e.g. stop_hate_uk_2013-14_Q2.csv)"
            )
            log_lines.append(rejected_log_row(SOURCE_ID, source_file, sha256_of(path), problem))
            continue
        try:
            reader = _read_json if path.suffix.lower() == ".json" else _read_csv
            deliveries[source_file] = reader(path, source_file)
        except FileRejected as rejected:
            log_lines.append(
                rejected_log_row(
                    SOURCE_ID,
                    source_file,
                    sha256_of(path),
                    rejected.problem,
                    quarter_period(quarter),
                )
            )
            continue
        readable[source_file] = (path, quarter)
    replaced, order_warnings = latest_deliveries(readable)
    for source_file, (path, quarter) in readable.items():
        delivery = deliveries[source_file]
        warnings.extend(unknown_columns_warnings(source_file, delivery.unknown_columns))
        warnings.extend(delivery.warnings)  # stray bytes in the text, if any
        file_aside = [
            (
                number,
                set_aside_row(
                    SOURCE_ID, source_file, number, "malformed_row", reason, WITHHELD_ROW_RECORD
                ),
            )
            for number, reason in delivery.malformed
        ]
        loaded_before = len(accepted)
        for number, values in delivery.rows:
            record = _record(values)
            if source_file in replaced:
                outcome: dict[str, object] | tuple[str, str] = (
                    "superseded",
                    superseded_reason(quarter, replaced[source_file]),
                )
            else:
                outcome = _classify(values, DATE_FORMATS[path.suffix.lower()], quarter)
            if isinstance(outcome, tuple):
                file_aside.append(
                    (number, set_aside_row(SOURCE_ID, source_file, number, *outcome, record))
                )
                continue
            reference = str(outcome["reference"])
            if reference in first_seen:
                first_file, first_row = first_seen[reference]
                reason = (
                    f"column 'Reference': {reference} appears again; the report is loaded from "
                    f"{first_file} row {first_row}"
                )
                file_aside.append(
                    (
                        number,
                        set_aside_row(
                            SOURCE_ID, source_file, number, "duplicate_reference", reason, record
                        ),
                    )
                )
                continue
            first_seen[reference] = (source_file, number)
            accepted.append({**outcome, "source_file": source_file, "row_number": number})
        set_aside.extend(row for _, row in sorted(file_aside, key=lambda pair: pair[0]))
        counts = (
            len(delivery.rows) + len(delivery.malformed),
            len(accepted) - loaded_before,
            len(file_aside),
        )
        log_lines.append(
            load_log_row(
                SOURCE_ID,
                source_file,
                sha256_of(path),
                delivery.encoding,
                quarter_period(quarter),
                counts,
            )
        )
    return FileRead.from_rows(
        ACCEPTED_SCHEMA, accepted, set_aside, log_lines, warnings + order_warnings, replaced
    )


def read_all(raw_dir: Path) -> FileRead:
    read = read_exports(discover_files(raw_dir), raw_dir)
    return read.with_warnings(unread_files_warnings(raw_dir, SOURCE_ID, FILE_SUFFIXES))


def measures() -> list[dict[str, str | None]]:
    return [
        measure_row(
            f"{SOURCE_ID}.reports",
            SOURCE_ID,
            "Hate reports made through Stop Hate UK (contacts and incident reports)",
            "reports",
            "month",
        ),
        measure_row(
            f"{SOURCE_ID}.incident_reports",
            SOURCE_ID,
            "Hate incidents reported through Stop Hate UK (Report Type = Incident report)",
            "reports",
            "month",
        ),
    ]


RECONCILE_SQL = """
WITH from_records AS (
    SELECT 'stop_hate_uk.reports' AS measure_id, month AS period_start, area_code, count(*) AS n
    FROM stop_hate_uk_reports GROUP BY ALL
    UNION ALL
    SELECT 'stop_hate_uk.incident_reports', month, area_code, count(*)
    FROM stop_hate_uk_reports WHERE report_type = 'Incident report' GROUP BY ALL
),
from_observations AS (
    SELECT measure_id, period_start, area_code, value AS n
    FROM observations WHERE source_id = 'stop_hate_uk'
)
SELECT 'stop_hate_uk' AS source_id, period_start, area_code, r.n AS records,
       o.n AS observations
FROM from_records AS r FULL JOIN from_observations AS o
    USING (measure_id, period_start, area_code)
WHERE coalesce(r.n, 0) <> coalesce(o.n, 0)
"""

SPEC = SourceSpec(
    source_id=SOURCE_ID,
    title="Stop Hate UK third-party hate reports",
    group="stop_hate_uk",
    accepted_schema=ACCEPTED_SCHEMA,
    record_tables=("stop_hate_uk_reports",),
    extra_tables=("stop_hate_uk_report_motivations",),
    build_contract=build_contract,
    measures=measures,
    read_all=read_all,
    reconcile_sql=RECONCILE_SQL,
)
