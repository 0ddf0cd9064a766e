"""Thames Valley Police hate crimes and hate incidents by monitored strand, monthly by district.

The force sends one CSV a quarter (``tvp_hate_2013-14_Q2.csv``), one row per month, district and
measure (``Hate crime`` or ``Hate incident``): ``Total`` counts the offences, and each strand
column (race, religion or belief, sexual orientation, disability, transgender identity) counts
the offences flagged with that strand. One offence can carry several strands, so the strands
add up to the total or more. Neither is ever added to the other: the total is one measure
(offences, each counted once) and each strand is a measure of its own. A district with no hate
crime in a month has no row in the extract; the warehouse shows it as 0.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pyarrow as pa

from oscp_pipeline import periods
from oscp_pipeline.reference import resolve_area
from oscp_pipeline.sources.base import (
    DELIVERY_ORDER_RULE,
    LOAD_LOG_SCHEMA,
    SET_ASIDE_SCHEMA,
    WITHHELD_ROW_RECORD,
    Column,
    Expectation,
    FileRead,
    FileRejected,
    RawRecords,
    SourceContract,
    SourceSpec,
    latest_deliveries,
    load_log_row,
    malformed_row_reason,
    measure_row,
    normalise_header,
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
from oscp_pipeline.sources.tvp_domestic_abuse import (
    accepted_areas,
    count_problem,
    distinct_rows,
    is_total_label,
    parse_count,
    quarter_of,
)

SOURCE_ID = "tvp_hate_crime"
FILE_NAME = re.compile(
    r"^tvp_hate_(?P<year>\d{4}-\d{2})_Q(?P<quarter>[1-4])(?:[_ -].*)?\.csv$", re.IGNORECASE
)
MONTH_FORMATS = ("%Y-%m",)
# Measure as the force writes it (case and spacing ignored) -> canonical measure.
MEASURE_VALUES = {
    "hate crime": "crimes",
    "hate crimes": "crimes",
    "hate incident": "incidents",
    "hate incidents": "incidents",
}
MEASURE_UNITS = {"crimes": "Hate crimes", "incidents": "Hate incidents"}

# (strand, published header, headers of earlier extracts, words used in measure names)
STRANDS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("race", "Race", ("Race or ethnicity", "Racial"), "race"),
    (
        "religion",
        "Religion or belief",
        ("Religion/faith", "Religion or faith", "Faith"),
        "religion or belief",
    ),
    ("sexual_orientation", "Sexual orientation", ("Sexuality",), "sexual orientation"),
    ("disability", "Disability", (), "disability"),
    (
        "transgender_identity",
        "Transgender identity",
        ("Transgender", "Gender identity"),
        "transgender identity",
    ),
)
STRAND_HEADERS = {strand: header for strand, header, _, _ in STRANDS}
COUNT_COLUMNS = ("total", *STRAND_HEADERS)

COLUMNS = (
    Column("month", "Month", "Month of the offences, written YYYY-MM", aliases=("Period",)),
    Column(
        "district",
        "District",
        "District as the force writes it, resolved through area_aliases.csv",
        aliases=("Local authority", "District name"),
    ),
    Column("measure", "Measure", "'Hate crime' or 'Hate incident'", aliases=("Type",)),
    Column(
        "total",
        "Total",
        "Offences in the month, each counted once whatever its strands",
        aliases=("Total offences",),
    ),
    *(
        Column(strand, header, f"Offences flagged with the {words} strand", aliases)
        for strand, header, aliases, words in STRANDS
    ),
)
HEADERS = {column.name: column.header for column in COLUMNS}

ACCEPTED_SCHEMA = pa.schema(
    [
        ("month", pa.date32()),
        ("measure", pa.string()),
        ("measure_id", pa.string()),
        ("area_code", pa.string()),
        ("strand", pa.string()),
        ("value", pa.int64()),
        ("source_file", pa.string()),
        ("row_number", pa.int64()),
    ]
)


def build_contract() -> SourceContract:
    """The hate crime extract contract: long by month, district and measure; strands wide."""
    return SourceContract(
        source_id=SOURCE_ID,
        title="Thames Valley Police hate crimes and incidents by monitored strand",
        publisher="Thames Valley Police (partnership data-sharing agreement)",
        file_pattern=f"{SOURCE_ID}/tvp_hate_YYYY-YY_QN.csv",
        columns=COLUMNS,
        row_rules=(
            f"Month is written {MONTH_FORMATS[0]} (e.g. 2013-07) and lies in the financial "
            "quarter the file name gives (else set aside).",
            "Measure is 'Hate crime' or 'Hate incident' (case and spacing ignored; plurals "
            "accepted); any other value sets the row aside naming it.",
            "District names are resolved through area_aliases.csv; an unknown name sets the "
            "row aside naming it.",
            "Total and every strand are counts: whole numbers, 0 or more.",
            "Each strand count is at most the Total: an offence is flagged with a strand once.",
            "The Total is at most the strands added up: every offence has at least one strand.",
            "One row per month, district and measure: a repeated one is not loaded at all.",
            "A totals line (District 'Total' or 'Oxfordshire') is checked against the district "
            "rows of its month and measure and not loaded; a column that disagrees sets those "
            "district rows aside.",
            "A district, month and measure with no row is 0 (the extract leaves out empty "
            "rows), unless the file had rows set aside: then it is not available.",
            "When two readable files cover the same quarter, the later delivery is loaded and "
            "the other's rows are set aside as superseded. " + DELIVERY_ORDER_RULE,
        ),
        expectations=(
            Expectation(
                "row_count_between",
                "a delivery with no loadable figures is suspect",
                params={"min_value": 1},
            ),
            Expectation("not_null", "every figure has a month", "month"),
            Expectation(
                "in_set",
                "hate crimes and hate incidents are the two measures",
                "measure",
                {"value_set": sorted(MEASURE_UNITS)},
            ),
            Expectation(
                "in_set",
                "strands are the five monitored strands (none on the total)",
                "strand",
                {"value_set": list(STRAND_HEADERS)},
            ),
            Expectation(
                "in_set",
                "figures belong to an Oxfordshire district (or Oxfordshire, district not known)",
                "area_code",
                {"value_set": sorted(accepted_areas())},
            ),
            Expectation("between", "counts are never negative", "value", {"min_value": 0}),
            Expectation(
                "compound_unique",
                "one figure per measure, district and month",
                None,
                {"columns": ["measure_id", "area_code", "month"]},
            ),
        ),
        records_per_row="several",  # a strand column per row, each a record of its own
    )


def measure_id(measure: str, strand: str | None) -> str:
    """``tvp_hate_crime.crimes_total`` or ``tvp_hate_crime.crimes_strand_race``."""
    return f"{SOURCE_ID}.{measure}_{'total' if strand is None else 'strand_' + strand}"


# The files the source reads; any other file in its folder is named in a warning.
FILE_SUFFIXES = (".csv",)


def discover_files(raw_dir: Path) -> list[Path]:
    """Every extract under ``<raw>/tvp_hate_crime``, in a stable order."""
    return source_files(raw_dir, SOURCE_ID, FILE_SUFFIXES)


class _Row:
    """One data row of an extract, parsed as far as its values allow."""

    def __init__(self, raw: dict[str, str], quarter: dt.date) -> None:
        self.number = int(raw["row_number"])
        self.raw = raw
        self.district = (raw["district"] or "").strip()
        self.is_total = is_total_label(self.district)
        self.month, month_error = parse_date(raw["month"] or "", MONTH_FORMATS)
        self.measure = MEASURE_VALUES.get(normalise_header(raw["measure"] or ""))
        self.counts = {c: v for c in COUNT_COLUMNS if (v := parse_count(raw[c] or "")) is not None}
        self.reason: tuple[str, str] | None = None
        if self.month is None:
            self.reason = ("invalid_month", f"column 'Month': {month_error}")
        elif periods.quarter_start(self.month) != quarter:
            self.reason = (
                "month_outside_file",
                f"column 'Month': {self.month:%Y-%m} is outside "
                f"{periods.fy_quarter_label(quarter)}, the quarter the file name gives",
            )
        elif self.measure is None:
            self.reason = (
                "unknown_measure",
                f"column 'Measure': '{raw['measure']}' is not 'Hate crime' or 'Hate incident'",
            )
        self.area = resolve_area(self.district) if self.district else None

    @property
    def group(self) -> tuple[dt.date | None, str | None]:
        """The month and measure a totals line adds up."""
        return self.month, self.measure

    def label(self) -> str:
        """``row 7 (Total, 2013-07, Hate crime)``: the row as a partner finds it."""
        return f"row {self.number} ({self.district}, {self.raw['month']}, {self.raw['measure']})"


def _row_rule(row: _Row) -> tuple[str, str] | None:
    """The first district and count rule a detail row breaks, as (code, reason)."""
    if row.area not in accepted_areas():
        if not row.district:
            return "unknown_district", "column 'District': the district is blank"
        if row.area is None:
            return (
                "unknown_district",
                f"column 'District': '{row.district}' is not a known Oxfordshire district (a "
                "new spelling of one is added to area_aliases.csv)",
            )
        return (
            "unknown_district",
            f"column 'District': '{row.district}' ({row.area}) is not a district; figures "
            "are loaded per district",
        )
    problems = [
        f"column '{HEADERS[c]}': {count_problem(row.raw[c] or '')}"
        for c in COUNT_COLUMNS
        if c not in row.counts
    ]
    if problems:
        return "invalid_count", "; ".join(problems)
    total = row.counts["total"]
    over = [
        f"column '{HEADERS[s]}': {row.counts[s]} offences flagged with the strand, more than "
        f"the Total of {total}"
        for s in STRAND_HEADERS
        if row.counts[s] > total
    ]
    if over:
        return "strand_exceeds_total", "; ".join(over)
    flagged = sum(row.counts[s] for s in STRAND_HEADERS)
    if total > flagged:
        return (
            "total_exceeds_strands",
            f"column 'Total': {total} offences but the strands flag only {flagged}; every "
            "offence has at least one strand",
        )
    return None


def classify_rows(rows: list[_Row]) -> None:
    """Apply the row rules, repeated rows and the totals lines to one file's rows."""
    for row in rows:
        if row.reason is None and not row.is_total:
            row.reason = _row_rule(row)
    by_key: dict[tuple[dt.date | None, str | None, str | None], list[_Row]] = {}
    for row in rows:
        if row.reason is None and not row.is_total:
            by_key.setdefault((row.month, row.measure, row.area), []).append(row)
    for repeated in by_key.values():
        if len(repeated) > 1:
            first = repeated[0]
            listed = " and ".join(str(r.number) for r in repeated)
            key = f"{first.raw['month']}, {first.area}, {first.raw['measure']}"
            for row in repeated:
                row.reason = (
                    "repeated_key",
                    f"rows {listed} give the same month, district and measure ({key}): none "
                    "of them is loaded",
                )
    for line in (row for row in rows if row.is_total):
        _check_totals_line(line, rows)


def _check_totals_line(line: _Row, rows: list[_Row]) -> None:
    """Compare a totals line with the district rows of its month and measure."""
    if line.reason is not None:
        line.reason = (
            "totals_line",
            f"{line.label()}: totals line, not checked ({line.reason[1]})",
        )
        return
    detail = [r for r in rows if not r.is_total and r.group == line.group]
    mismatches: list[str] = []
    unchecked: list[str] = []
    for column in COUNT_COLUMNS:
        found = line.counts.get(column)
        parts = [r.counts.get(column) for r in detail]
        if found is None or None in parts:
            unchecked.append(f"'{HEADERS[column]}'")
            continue
        expected = sum(p for p in parts if p is not None)
        if found != expected:
            mismatches.append(
                f"{line.label()}, column '{HEADERS[column]}': total {found} but districts sum "
                f"to {expected}"
            )
    if mismatches:
        message = "; ".join(mismatches)
        line.reason = ("totals_mismatch", message)
        for row in detail:
            if row.reason is None:
                row.reason = (
                    "totals_mismatch",
                    message + "; which district is wrong cannot be told, so no district row "
                    "of that month and measure is loaded",
                )
        return
    reason = f"{line.label()}: totals line, checked against the districts"
    if unchecked:
        reason += (
            f" except column(s) {', '.join(unchecked)}, which hold a value that is not a count"
        )
    line.reason = ("totals_line", reason + "; totals are not loaded")


def _record(raw: dict[str, str]) -> str:
    """The row as delivered, keyed by the contract's headers."""
    return json.dumps(
        {header: raw.get(name) or "" for name, header in HEADERS.items()}, ensure_ascii=False
    )


def _accepted(row: _Row, source_file: str) -> list[dict[str, object]]:
    """The total and each strand of an accepted row, as separate figures."""
    assert row.measure is not None and row.month is not None
    return [
        {
            "month": row.month,
            "measure": row.measure,
            "measure_id": measure_id(row.measure, strand),
            "area_code": row.area,
            "strand": strand,
            "value": row.counts["total" if strand is None else strand],
            "source_file": source_file,
            "row_number": row.number,
        }
        for strand in (None, *STRAND_HEADERS)
    ]


def _malformed(records: RawRecords, source_file: str) -> list[tuple[int, str, str, str]]:
    """Rows whose number of fields differs from the header's, or that a quote left open runs
    over the lines after them: (row, code, reason, record)."""
    return [
        (
            row.number,
            "malformed_row",
            malformed_row_reason(source_file, row, records.header_fields),
            WITHHELD_ROW_RECORD,
        )
        for row in records.malformed
    ]


def named_quarter(path: Path) -> dt.date:
    """The quarter a delivery's name gives (``quarter_of``), for telling a resent copy from a
    delivery of another quarter."""
    return quarter_of(path, FILE_NAME, "")


def read_extract(
    path: Path, source_file: str, records: RawRecords, quarter: dt.date, replaced_by: str | None
) -> FileRead:
    """One extract's figures, set-aside rows and load-log line."""
    rows = [_Row(raw, quarter) for raw in records.table.to_pylist()]
    problems = _malformed(records, source_file)
    if replaced_by is not None:
        superseded = superseded_reason(quarter, replaced_by)
        problems = [(number, "superseded", superseded, record) for number, _, _, record in problems]
        for row in rows:
            row.reason = ("superseded", superseded)
    else:
        classify_rows(rows)
    problems += [(row.number, *row.reason, _record(row.raw)) for row in rows if row.reason]
    accepted = [
        figure for row in rows if row.reason is None for figure in _accepted(row, source_file)
    ]
    set_aside = [
        set_aside_row(SOURCE_ID, source_file, number, code, reason, record)
        for number, code, reason, record in sorted(problems)
    ]
    counts = (
        len(rows) + len(records.malformed),
        distinct_rows(accepted),
        len(set_aside),
    )
    line = load_log_row(
        SOURCE_ID, source_file, sha256_of(path), records.encoding, quarter_period(quarter), counts
    )
    return FileRead(
        pa.Table.from_pylist(accepted, ACCEPTED_SCHEMA),
        pa.Table.from_pylist(set_aside, SET_ASIDE_SCHEMA),
        pa.Table.from_pylist([line], LOAD_LOG_SCHEMA),
    )


@reads_each_delivery_once(SOURCE_ID, named_period=named_quarter)
def read_extracts(paths: list[Path], raw_dir: Path) -> FileRead:
    """Read every extract together, so that a later delivery of a quarter replaces an earlier.

    Extracts are read first and the latest delivery of each quarter is chosen among those that
    could be read: a broken re-delivery is rejected and the earlier one stays loaded.
    """
    expected_name = "tvp_hate_YYYY-YY_QN.csv (e.g. tvp_hate_2013-14_Q2.csv)"
    rejected: list[dict[str, object]] = []
    readable: dict[str, tuple[Path, dt.date]] = {}
    records_of: dict[str, RawRecords] = {}
    warnings: list[str] = []
    for path in paths:
        source_file = relative_source_file(path, raw_dir)
        quarter: dt.date | None = None
        try:
            quarter = quarter_of(path, FILE_NAME, expected_name)
            records = read_delimited(path, COLUMNS, source_file)
        except FileRejected as error:
            rejected.append(
                rejected_log_row(
                    SOURCE_ID, source_file, sha256_of(path), error.problem, quarter_period(quarter)
                )
            )
            continue
        warnings.extend(unknown_columns_warnings(source_file, records.unknown_columns))
        warnings.extend(records.warnings)  # stray bytes in the text, if any
        readable[source_file] = (path, quarter)
        records_of[source_file] = records
    replaced, order_warnings = latest_deliveries(readable)
    reads = [
        read_extract(path, source_file, records_of[source_file], quarter, replaced.get(source_file))
        for source_file, (path, quarter) in readable.items()
    ]
    return FileRead(
        pa.concat_tables([ACCEPTED_SCHEMA.empty_table(), *(r.accepted for r in reads)]),
        pa.concat_tables([SET_ASIDE_SCHEMA.empty_table(), *(r.set_aside for r in reads)]),
        pa.concat_tables(
            [
                LOAD_LOG_SCHEMA.empty_table(),
                *(r.load_log for r in reads),
                pa.Table.from_pylist(rejected, LOAD_LOG_SCHEMA),
            ]
        ),
        warnings + order_warnings,
        replaced,
    )


def read_all(raw_dir: Path) -> FileRead:
    read = read_extracts(discover_files(raw_dir), raw_dir)
    return read.with_warnings(unread_files_warnings(raw_dir, SOURCE_ID, FILE_SUFFIXES))


STRAND_NOTE = (
    "offences flagged with the strand (an offence with two strands counts in both; strands do "
    "not add up to the total)"
)


def measures() -> list[dict[str, str | None]]:
    """Per measure, the total (offences counted once) and one measure per strand."""
    rows = []
    for measure, unit_name in MEASURE_UNITS.items():
        rows.append(
            measure_row(
                measure_id(measure, None),
                SOURCE_ID,
                f"{unit_name} (Thames Valley Police): offences, each counted once whatever "
                "its strands",
                measure,
                "month",
            )
        )
        rows.extend(
            measure_row(
                measure_id(measure, strand),
                SOURCE_ID,
                f"{unit_name}, {words} strand (Thames Valley Police): {STRAND_NOTE}",
                measure,
                "month",
            )
            for strand, _, _, words in STRANDS
        )
    return rows


RECONCILE_SQL = """
WITH from_records AS (
    SELECT month AS period_start, area_code, sum(value) AS n
    FROM tvp_hate_crime GROUP BY ALL
),
from_observations AS (
    SELECT period_start, area_code, sum(value) AS n
    FROM observations WHERE source_id = 'tvp_hate_crime' GROUP BY ALL
)
SELECT 'tvp_hate_crime' AS source_id, period_start, area_code, r.n AS records,
       o.n AS observations
FROM from_records AS r FULL JOIN from_observations AS o USING (period_start, area_code)
WHERE coalesce(r.n, 0) <> coalesce(o.n, 0)
"""

STRAND_RULES_SQL = """
SELECT source_file, row_number, reason_code, reason
FROM set_aside
WHERE source_id = 'tvp_hate_crime'
    AND reason_code IN ('strand_exceeds_total', 'total_exceeds_strands', 'totals_mismatch')
ORDER BY source_file, row_number
"""

SPEC = SourceSpec(
    source_id=SOURCE_ID,
    title="Thames Valley Police hate crimes and incidents by monitored strand",
    group="thames_valley_police",
    accepted_schema=ACCEPTED_SCHEMA,
    record_tables=(SOURCE_ID,),
    build_contract=build_contract,
    measures=measures,
    read_all=read_all,
    reconcile_sql=RECONCILE_SQL,
    warning_checks=(
        (
            "tvp_hate_crime_strands_consistent",
            "In each hate crime extract every strand count is at most the total, the total is "
            "at most the strands added up, and totals lines agree with the districts; rows "
            "that break this are listed here (they are set aside, not loaded).",
            STRAND_RULES_SQL,
        ),
    ),
)
