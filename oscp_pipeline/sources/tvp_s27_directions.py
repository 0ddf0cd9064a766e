"""Thames Valley Police directions to leave under section 27 of the Violent Crime Reduction Act
2006: one row per direction, delivered quarterly.

A constable could direct a person aged 10 or over to leave a locality for up to 48 hours to
reduce the risk of alcohol-related crime or disorder; in Oxfordshire mostly in Oxford's night-time
economy. The Anti-social Behaviour, Crime and Policing Act 2014 repealed the power on 20 October
2014 (replaced by the dispersal power), so a direction dated after that day cannot exist and is
set aside, and the months after it are "not applicable" in ``observations``, never zero. The
force still sends a file for each quarter: after the repeal it may hold only a header, which is
a valid delivery with no directions. Before the repeal the power was used every quarter, so a
file with only a header is a failed extract: it is rejected and the quarter shows as not
available, never as 0 directions.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pyarrow as pa

from oscp_pipeline import periods
from oscp_pipeline.reference import districts, load_reference_table, resolve_area
from oscp_pipeline.sources.base import (
    DELIVERY_ORDER_RULE,
    Column,
    Expectation,
    FileRead,
    FileRejected,
    RawRecords,
    SourceContract,
    SourceSpec,
    latest_deliveries,
    listed_value,
    load_log_row,
    malformed_row,
    measure_row,
    not_listed,
    outside_quarter,
    parse_date,
    quarter_period,
    read_delimited,
    reads_each_delivery_once,
    rejected_log_row,
    relative_source_file,
    set_aside_row,
    sha256_of,
    source_files,
    superseded_reason,
    unknown_columns_warnings,
    unread_files_warnings,
)

SOURCE_ID = "tvp_s27_directions"
MEASURE_ID = f"{SOURCE_ID}.directions"
# The quarter, then optionally a mark of a later delivery ('_v2', ' corrected').
FILE_NAME = re.compile(
    r"^tvp_s27_directions_(?P<year>\d{4}-\d{2})_(?P<quarter>Q[1-4])(?:[_ -][^.]*)?\.csv$",
    re.IGNORECASE,
)
DATE_FORMATS = ("%d/%m/%Y",)
AGE_BANDS = ("Under 18", "18-24", "25-34", "35-44", "45+", "Unknown")
GENDERS = ("Male", "Female", "Unknown")

COLUMNS = (
    Column("date_issued", "Date Issued", "Date the direction was given, DD/MM/YYYY"),
    Column("district", "District", "Oxfordshire district where the direction was given"),
    Column("age_band", "Age Band", "Under 18, 18-24, 25-34, 35-44, 45+ or Unknown"),
    Column("gender", "Gender", "Male, Female or Unknown"),
)
PUBLISHED_HEADERS = {column.name: column.header for column in COLUMNS}

ACCEPTED_SCHEMA = pa.schema(
    [
        ("date_issued", pa.date32()),
        ("month", pa.date32()),
        ("area_code", pa.string()),
        ("age_band", pa.string()),
        ("gender", pa.string()),
        ("source_file", pa.string()),
        ("row_number", pa.int64()),
    ]
)


@cache
def first_day_after_repeal() -> dt.date:
    """First day without the power, from the series break recorded in the reference data."""
    breaks = load_reference_table("series_breaks").to_pylist()
    return next(row["break_date"] for row in breaks if row["measure_id"] == MEASURE_ID)


def build_contract() -> SourceContract:
    """The Thames Valley Police section 27 directions contract."""
    last_day = first_day_after_repeal() - dt.timedelta(days=1)
    return SourceContract(
        source_id=SOURCE_ID,
        title="Thames Valley Police section 27 directions to leave",
        publisher="Thames Valley Police (data-sharing agreement with the partnership)",
        file_pattern="tvp_s27_directions/tvp_s27_directions_YYYY-YY_QN.csv",
        columns=COLUMNS,
        row_rules=(
            "The file name gives the financial quarter the file covers; a file with only a "
            "header is a valid delivery with no directions for a quarter after the repeal. For "
            "a quarter when the power was in force it is rejected: the quarter shows as not "
            "available, never 0. So is a file for such a quarter whose every row is set aside "
            "for a reason other than being dated after the repeal (it is quarantined, each row "
            "kept with its reason).",
            "When two readable files cover the same quarter, the later delivery is loaded and "
            "the other's rows are set aside as superseded. " + DELIVERY_ORDER_RULE,
            "Date Issued is DD/MM/YYYY and falls within the file's quarter.",
            f"A direction dated after {last_day:%d %B %Y} is set aside: the power was repealed.",
            "District is one of the five Oxfordshire districts (spellings in area_aliases.csv).",
            "Age Band and Gender come from fixed lists.",
            "Directions carry no identifier: identical rows are separate directions.",
        ),
        expectations=(
            Expectation("not_null", "every direction has a date", "date_issued"),
            Expectation(
                "in_set",
                "directions are placed in an Oxfordshire district",
                "area_code",
                {"value_set": sorted(districts().values())},
            ),
            Expectation(
                "in_set",
                "age bands come from the agreed list",
                "age_band",
                {"value_set": list(AGE_BANDS)},
            ),
            Expectation(
                "in_set",
                "genders come from the agreed list",
                "gender",
                {"value_set": list(GENDERS)},
            ),
        ),
    )


def file_quarter(path: Path) -> dt.date | None:
    """First day of the financial quarter a file covers, from its name; None if unnamed.

    A name whose quarter is no financial quarter ('2013-15') is rejected saying why.
    """
    match = FILE_NAME.match(path.name)
    if not match:
        return None
    try:
        return periods.quarter_start_of_label(f"{match['year']} {match['quarter'].upper()}")
    except ValueError as error:
        raise FileRejected(path.name, f"the file name gives no valid quarter: {error}") from error


# The files the source reads; any other file in its folder is named in a warning.
FILE_SUFFIXES = (".csv",)


def discover_files(raw_dir: Path) -> list[Path]:
    """Every CSV under ``<raw>/tvp_s27_directions``, in a stable order."""
    return source_files(raw_dir, SOURCE_ID, FILE_SUFFIXES)


def _classify(row: dict[str, str], quarter: dt.date) -> tuple[str, str] | dict[str, object]:
    """Either (reason code, reason) to set the row aside, or the direction's canonical values."""
    text = {name: (row.get(name) or "").strip() for name in PUBLISHED_HEADERS}
    issued, problem = parse_date(text["date_issued"], DATE_FORMATS)
    if issued is None:
        return "invalid_date", f"column 'Date Issued': {problem}"
    if issued >= first_day_after_repeal():
        repealed = first_day_after_repeal() - dt.timedelta(days=1)
        return "after_repeal", (
            f"column 'Date Issued': {issued.isoformat()} is after {repealed:%d %B %Y}, when "
            "section 27 of the Violent Crime Reduction Act 2006 was repealed (Anti-social "
            "Behaviour, Crime and Policing Act 2014)"
        )
    outside = outside_quarter("Date Issued", issued, quarter)
    if outside is not None:
        return "date_outside_period", outside
    area_code = resolve_area(text["district"]) if text["district"] else None
    if area_code not in districts().values():
        return "unknown_district", (
            f"column 'District': '{text['district']}' is not one of the five Oxfordshire "
            "districts (a new spelling is added to area_aliases.csv)"
        )
    age_band = listed_value(text["age_band"], AGE_BANDS)
    if age_band is None:
        return "unknown_age_band", not_listed("Age Band", text["age_band"], AGE_BANDS)
    gender = listed_value(text["gender"], GENDERS)
    if gender is None:
        return "unknown_gender", not_listed("Gender", text["gender"], GENDERS)
    return {
        "date_issued": issued,
        "month": issued.replace(day=1),
        "area_code": area_code,
        "age_band": age_band,
        "gender": gender,
    }


def _no_directions_while_in_force(quarter: dt.date) -> str:
    """Why a file with only a header is held back for a quarter when the power was in force."""
    last_day = first_day_after_repeal() - dt.timedelta(days=1)
    return (
        f"the file has a header but no directions for {periods.fy_quarter_label(quarter)}, "
        f"when the power was in force (until {last_day:%d %B %Y}): held back, so the quarter "
        "shows as not available rather than 0; only a quarter after the repeal is delivered "
        "with a header alone"
    )


def _nothing_loaded_while_in_force(quarter: dt.date, reasons: Counter[str]) -> str:
    """Why a file whose every row was set aside, not all for being after the repeal, is held
    back for a quarter when the power was in force: its directions are there but unreadable
    (say, dates in another format), so the quarter is not 0 directions."""
    counted = ", ".join(f"{count} {code}" for code, count in reasons.most_common())
    return (
        f"every row of the file was set aside ({counted}), so no direction is loaded for "
        f"{periods.fy_quarter_label(quarter)}, when the power was in force: held back, so the "
        "quarter shows as not available rather than 0; see set_aside for each row's reason"
    )


@reads_each_delivery_once(SOURCE_ID, named_period=file_quarter)
def read_direction_files(paths: list[Path], raw_dir: Path) -> FileRead:
    """Read every quarterly file; each row is loaded or set aside with its reason.

    Files are read first; of two readable files of one quarter, the later delivery is loaded
    and the earlier's rows are set aside as superseded, never added on top.
    """
    accepted: list[dict[str, object]] = []
    set_aside: list[dict[str, object]] = []
    log_lines: list[dict[str, object]] = []
    warnings: list[str] = []
    readable: dict[str, tuple[Path, dt.date]] = {}
    contents: dict[str, RawRecords] = {}
    for path in paths:
        source_file = relative_source_file(path, raw_dir)
        digest = sha256_of(path)
        try:
            quarter = file_quarter(path)
        except FileRejected as rejected:
            log_lines.append(rejected_log_row(SOURCE_ID, source_file, digest, rejected.problem))
            continue
        if quarter is None:
            problem = (
                "the file name does not give the quarter it covers; expected "
                "tvp_s27_directions_YYYY-YY_QN.csv (e.g. tvp_s27_directions_2013-14_Q2.csv)"
            )
            log_lines.append(rejected_log_row(SOURCE_ID, source_file, digest, problem))
            continue
        period = quarter_period(quarter)
        try:
            records = read_delimited(path, COLUMNS, source_file)
        except FileRejected as rejected:
            log_lines.append(
                rejected_log_row(SOURCE_ID, source_file, digest, rejected.problem, period)
            )
            continue
        if records.table.num_rows + len(records.malformed) == 0 and (
            quarter < first_day_after_repeal()
        ):
            problem = _no_directions_while_in_force(quarter)
            log_lines.append(rejected_log_row(SOURCE_ID, source_file, digest, problem, period))
            continue
        readable[source_file] = (path, quarter)
        contents[source_file] = records
    replaced, order_warnings = latest_deliveries(readable)
    for source_file, (path, quarter) in readable.items():
        records = contents[source_file]
        warnings.extend(unknown_columns_warnings(source_file, records.unknown_columns))
        warnings.extend(records.warnings)  # stray bytes in the text, if any
        file_aside = [
            (row.number, malformed_row(SOURCE_ID, source_file, row, records.header_fields))
            for row in records.malformed
        ]
        loaded = 0
        for row in records.table.to_pylist():
            number = int(row["row_number"])
            if source_file in replaced:
                outcome: dict[str, object] | tuple[str, str] = (
                    "superseded",
                    superseded_reason(quarter, replaced[source_file]),
                )
            else:
                outcome = _classify(row, quarter)
            if isinstance(outcome, tuple):
                record = json.dumps(
                    {header: row[name] for name, header in PUBLISHED_HEADERS.items()},
                    ensure_ascii=False,
                )
                file_aside.append(
                    (number, set_aside_row(SOURCE_ID, source_file, number, *outcome, record))
                )
                continue
            accepted.append({**outcome, "source_file": source_file, "row_number": number})
            loaded += 1
        set_aside.extend(row for _, row in sorted(file_aside, key=lambda pair: pair[0]))
        counts = (records.table.num_rows + len(records.malformed), loaded, len(file_aside))
        status, message = "loaded", ""
        reasons = Counter(str(row["reason_code"]) for _, row in file_aside)
        unreadable = set(reasons) - {"after_repeal", "superseded"}
        in_force = quarter < first_day_after_repeal()
        if unreadable and not loaded and source_file not in replaced and in_force:
            status, message = "quarantined", _nothing_loaded_while_in_force(quarter, reasons)
        log_lines.append(
            load_log_row(
                SOURCE_ID,
                source_file,
                sha256_of(path),
                records.encoding,
                quarter_period(quarter),
                counts,
                status,
                message,
            )
        )
    return FileRead.from_rows(
        ACCEPTED_SCHEMA, accepted, set_aside, log_lines, warnings + order_warnings, replaced
    )


def read_all(raw_dir: Path) -> FileRead:
    read = read_direction_files(discover_files(raw_dir), raw_dir)
    return read.with_warnings(unread_files_warnings(raw_dir, SOURCE_ID, FILE_SUFFIXES))


def measures() -> list[dict[str, str | None]]:
    return [
        measure_row(
            MEASURE_ID,
            SOURCE_ID,
            "Section 27 directions to leave given by Thames Valley Police (power repealed "
            "20 October 2014)",
            "directions",
            "month",
        )
    ]


RECONCILE_SQL = """
WITH from_records AS (
    SELECT month AS period_start, area_code, count(*) AS n
    FROM tvp_s27_directions GROUP BY ALL
),
from_observations AS (
    SELECT period_start, area_code, value AS n
    FROM observations WHERE source_id = 'tvp_s27_directions'
)
SELECT 'tvp_s27_directions' AS source_id, period_start, area_code, r.n AS records,
       o.n AS observations
FROM from_records AS r FULL JOIN from_observations AS o USING (period_start, area_code)
WHERE coalesce(r.n, 0) <> coalesce(o.n, 0)
"""

SPEC = SourceSpec(
    source_id=SOURCE_ID,
    title="Thames Valley Police section 27 directions to leave",
    group="tvp_s27_directions",
    accepted_schema=ACCEPTED_SCHEMA,
    record_tables=("tvp_s27_directions",),
    build_contract=build_contract,
    measures=measures,
    read_all=read_all,
    reconcile_sql=RECONCILE_SQL,
)
