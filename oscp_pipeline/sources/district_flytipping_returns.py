"""District councils' quarterly fly-tipping returns: incidents by land type, per council.

The five districts send one CSV a quarter between them, ``Council,Financial Year,Quarter,Land
Type,Incidents``, with DEFRA's land types. They give the partnership quarterly figures months
before DEFRA's annual table; land types are named as DEFRA's measures so the two line up, and a
warning check compares each complete year with DEFRA's annual total. A land type a council does
not list for a quarter had no incidents; a council with no row at all for a delivered quarter did
not make its return, so its figures are not available rather than zero. A return holds the
quarter its file name gives: a row for another quarter is set aside, never loaded over that
quarter's own return.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from oscp_pipeline import periods
from oscp_pipeline.reference import districts, resolve_area
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
    load_log_row,
    malformed_row,
    measure_row,
    normalise_header,
    quarter_period,
    quarters_period,
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
    year_outside_file,
)

SOURCE_ID = "district_flytipping_returns"
TOTAL_MEASURE = "incidents_total"

# DEFRA's land types as the returns write them, and the DEFRA measure each one matches.
LAND_TYPES: tuple[tuple[str, str], ...] = (
    ("Highway", "highway_incidents"),
    ("Footpath / Bridleway", "footpath_bridleway_incidents"),
    ("Back Alleyway", "back_alleyway_incidents"),
    ("Railway", "railway_incidents"),
    ("Council Land", "council_land_incidents"),
    ("Agricultural", "agricultural_incidents"),
    ("Private / Residential", "private_residential_incidents"),
    ("Commercial / Industrial", "commercial_industrial_incidents"),
    ("Watercourse / Bank", "watercourse_bank_incidents"),
    ("Other (unidentified)", "other_unidentified_land_incidents"),
)
LAND_TYPE_OF = {
    normalise_header(label): name.removesuffix("_incidents") for label, name in LAND_TYPES
}


@dataclass(frozen=True)
class Tolerance:
    """How far the sum of four quarterly returns may stray from DEFRA's annual figure."""

    share: float
    incidents: int

    def describe(self) -> str:
        return (
            f"{self.share:.0%} of DEFRA's figure or {self.incidents} incidents, whichever is larger"
        )


# Returns are made before a year's late reports and reclassifications reach DEFRA.
DEFRA_ANNUAL_TOLERANCE = Tolerance(share=0.05, incidents=10)

COLUMNS = (
    Column("council", "Council", "District council, e.g. Cherwell District Council"),
    Column("financial_year", "Financial Year", "Financial year, e.g. 2013-14"),
    Column("quarter", "Quarter", "Financial quarter Q1 (April-June) to Q4"),
    Column("land_type", "Land Type", "DEFRA land type, e.g. Highway"),
    Column("incidents", "Incidents", "Number of fly-tipping incidents"),
)

ACCEPTED_SCHEMA = pa.schema(
    [
        ("financial_year", pa.string()),
        ("quarter_start", pa.date32()),
        ("area_code", pa.string()),
        ("land_type", pa.string()),
        ("incidents", pa.int64()),
        ("source_file", pa.string()),
        ("row_number", pa.int64()),
    ]
)

_QUARTER = re.compile(r"^Q?([1-4])$", re.IGNORECASE)
_COUNT = re.compile(r"^\d+$")
# The quarter a return's name gives: flytipping_returns_2013-14_Q2.csv.
_NAMED_QUARTER = re.compile(
    r"(?<![0-9])(?P<year>[0-9]{4}-[0-9]{2})[ _-]?(?P<quarter>Q[1-4])(?![0-9])", re.IGNORECASE
)


def build_contract() -> SourceContract:
    """The quarterly district fly-tipping return contract."""
    return SourceContract(
        source_id=SOURCE_ID,
        title="District councils' quarterly fly-tipping returns",
        publisher="Oxfordshire district councils (partner returns, not published)",
        file_pattern=f"{SOURCE_ID}/*.csv (one file a quarter, all five districts)",
        columns=COLUMNS,
        row_rules=(
            "Council must name one of the five Oxfordshire districts (names as in area_aliases).",
            "Financial Year is written 2013-14; Quarter is Q1 to Q4.",
            "A row's quarter is the one the file name gives (flytipping_returns_2013-14_Q2.csv):"
            " a row for another quarter, or after the current financial year, is set aside.",
            "Land Type is one of DEFRA's ten land types.",
            "Incidents is a whole number, zero or more.",
            "A council, quarter and land type appears once; a repeat is set aside.",
            "When two readable returns are named for the same quarter, the later delivery is "
            "loaded and the other's rows are set aside as superseded. " + DELIVERY_ORDER_RULE,
            "A district's four quarters of a year are compared with DEFRA's annual total "
            f"(tolerance: {DEFRA_ANNUAL_TOLERANCE.describe()}); a difference warns.",
        ),
        expectations=(
            Expectation("row_count_between", "returns hold incidents", params={"min_value": 1}),
            Expectation(
                "in_set",
                "returns come from the five Oxfordshire districts",
                "area_code",
                {"value_set": sorted(districts().values())},
            ),
            Expectation(
                "in_set",
                "land types are DEFRA's",
                "land_type",
                {"value_set": sorted(LAND_TYPE_OF.values())},
            ),
            Expectation("between", "incidents are never negative", "incidents", {"min_value": 0}),
            Expectation(
                "compound_unique",
                "one count per district, quarter and land type",
                None,
                {"columns": ["area_code", "quarter_start", "land_type"]},
            ),
        ),
    )


# The files the source reads; any other file in its folder is named in a warning.
FILE_SUFFIXES = (".csv",)


def discover_files(raw_dir: Path) -> list[Path]:
    return source_files(raw_dir, SOURCE_ID, FILE_SUFFIXES)


def file_quarter(path: Path) -> dt.date | None:
    """First day of the financial quarter a return's name gives; None when it gives none."""
    match = _NAMED_QUARTER.search(path.name)
    if match is None:
        return None
    try:
        return periods.quarter_start_of_label(f"{match['year']} {match['quarter'].upper()}")
    except ValueError:  # '2013-15': not a financial year
        return None


def _outside_file(
    quarter: dt.date, row: dict[str, str], path: Path, today: dt.date
) -> tuple[str, str] | None:
    """(reason code, reason) when a row's quarter cannot be in the return ``path``; else None.

    A return named for a quarter holds that quarter only: a row for another quarter would
    replace that quarter's own figure. Whatever the name, no quarter is after the current
    financial year.
    """
    named = file_quarter(path)
    if named is not None and quarter != named:
        return "quarter_outside_file", (
            f"columns 'Financial Year' and 'Quarter': {periods.fy_quarter_label(quarter)} is "
            f"outside {periods.fy_quarter_label(named)}, the quarter the file name gives"
        )
    start_year = periods.financial_year_start(quarter)
    return year_outside_file("Financial Year", row["financial_year"] or "", start_year, None, today)


def _quarter_start(year_text: str, quarter_text: str) -> tuple[dt.date | None, str]:
    """(first day of the quarter, error) from the row's financial year and quarter."""
    try:
        start_year = periods.financial_year_of_label(year_text)
    except ValueError as error:
        return None, f"column 'Financial Year': {error}"
    quarter = _QUARTER.match(quarter_text.strip())
    if not quarter:
        return None, f"column 'Quarter': '{quarter_text}' is not Q1, Q2, Q3 or Q4"
    label = f"{periods.financial_year_label(start_year)} Q{quarter.group(1)}"
    return periods.quarter_start_of_label(label), ""


def _classify(
    row: dict[str, str], district_codes: set[str], path: Path, today: dt.date
) -> dict[str, object] | tuple[str, str]:
    """The row's canonical values, or (reason code, reason) to set it aside."""
    quarter, error = _quarter_start(row["financial_year"] or "", row["quarter"] or "")
    if quarter is None:
        return "invalid_period", error
    outside = _outside_file(quarter, row, path, today)
    if outside is not None:
        return outside
    council = (row["council"] or "").strip()
    area_code = resolve_area(council)
    if area_code not in district_codes:
        return "outside_area", f"council '{council}' is not one of the five Oxfordshire districts"
    land_label = (row["land_type"] or "").strip()
    land_type = LAND_TYPE_OF.get(normalise_header(land_label))
    if land_type is None:
        return (
            "unknown_land_type",
            f"land type '{land_label}' in column 'Land Type' is not one of DEFRA's land types",
        )
    count = (row["incidents"] or "").replace(",", "").strip()
    if not _COUNT.match(count):
        return (
            "invalid_count",
            f"column 'Incidents': '{row['incidents']}' is not a whole number of zero or more",
        )
    if int(count) >= 2**63:  # counts are stored as 64-bit integers
        return (
            "invalid_count",
            f"column 'Incidents': '{row['incidents']}' is too large to be a count of incidents",
        )
    return {
        "financial_year": periods.financial_year_label(periods.financial_year_start(quarter)),
        "quarter_start": quarter,
        "area_code": area_code,
        "land_type": land_type,
        "incidents": int(count),
    }


def read_all(raw_dir: Path) -> FileRead:
    read = read_returns(discover_files(raw_dir), raw_dir)
    return read.with_warnings(unread_files_warnings(raw_dir, SOURCE_ID, FILE_SUFFIXES))


@reads_each_delivery_once(SOURCE_ID, named_period=file_quarter)
def read_returns(paths: list[Path], raw_dir: Path) -> FileRead:
    """Read quarterly returns; each council, quarter and land type is loaded once.

    Returns are read first; of two readable returns named for the same quarter, the later
    delivery is loaded and the earlier's rows are set aside as superseded.
    """
    district_codes = set(districts().values())
    today = dt.date.today()
    accepted: list[dict[str, object]] = []
    set_aside: list[dict[str, object]] = []
    loaded_at: dict[tuple[object, ...], tuple[str, int]] = {}
    lines: list[dict[str, object]] = []
    warnings: list[str] = []
    contents: dict[str, tuple[Path, RawRecords]] = {}
    named: dict[str, tuple[Path, dt.date]] = {}
    for path in paths:
        source_file = relative_source_file(path, raw_dir)
        try:
            contents[source_file] = (path, read_delimited(path, COLUMNS, source_file))
        except FileRejected as rejected:
            lines.append(
                rejected_log_row(SOURCE_ID, source_file, sha256_of(path), rejected.problem)
            )
            continue
        quarter = file_quarter(path)
        if quarter is not None:
            named[source_file] = (path, quarter)
    replaced, order_warnings = latest_deliveries(named)
    for source_file, (path, records) in contents.items():
        warnings.extend(unknown_columns_warnings(source_file, records.unknown_columns))
        warnings.extend(records.warnings)  # stray bytes in the text, if any
        loaded = aside = 0
        quarters: list[dt.date] = []
        for malformed in records.malformed:
            set_aside.append(
                malformed_row(SOURCE_ID, source_file, malformed, records.header_fields)
            )
            aside += 1
        for row in records.table.to_pylist():
            number = int(row["row_number"])
            record = json.dumps({c.header: row[c.name] for c in COLUMNS}, ensure_ascii=False)
            if source_file in replaced:
                outcome: dict[str, object] | tuple[str, str] = (
                    "superseded",
                    superseded_reason(named[source_file][1], replaced[source_file]),
                )
            else:
                outcome = _classify(row, district_codes, path, today)
            if isinstance(outcome, dict):
                key = (outcome["area_code"], outcome["quarter_start"], outcome["land_type"])
                first = loaded_at.setdefault(key, (source_file, number))
                if first == (source_file, number):
                    quarter = outcome["quarter_start"]
                    assert isinstance(quarter, dt.date)
                    quarters.append(quarter)
                    accepted.append({**outcome, "source_file": source_file, "row_number": number})
                    loaded += 1
                    continue
                outcome = (
                    "duplicate_row",
                    f"{row['council'].strip()} {row['land_type'].strip()} for "
                    f"{outcome['financial_year']} {row['quarter'].strip()} was already loaded "
                    f"from {first[0]} row {first[1]}",
                )
            set_aside.append(set_aside_row(SOURCE_ID, source_file, number, *outcome, record))
            aside += 1
        rows_read = records.table.num_rows + len(records.malformed)
        period = (
            quarter_period(named[source_file][1])
            if source_file in named
            else quarters_period(quarters)
        )
        lines.append(
            load_log_row(
                SOURCE_ID,
                source_file,
                sha256_of(path),
                records.encoding,
                period,
                (rows_read, loaded, aside),
            )
        )
    return FileRead.from_rows(
        ACCEPTED_SCHEMA, accepted, set_aside, lines, warnings + order_warnings, replaced
    )


def measures() -> list[dict[str, str | None]]:
    """The total over land types, and one measure per land type named as DEFRA's."""
    rows = [
        measure_row(
            f"{SOURCE_ID}.{TOTAL_MEASURE}",
            SOURCE_ID,
            "Fly-tipping incidents, all land types (district quarterly returns)",
            "incidents",
            "quarter",
        )
    ]
    rows += [
        measure_row(
            f"{SOURCE_ID}.{name}",
            SOURCE_ID,
            f"Fly-tipping: {label} incidents (district quarterly returns)",
            "incidents",
            "quarter",
        )
        for label, name in LAND_TYPES
    ]
    return rows


RECONCILE_SQL = """
SELECT 'district_flytipping_returns' AS source_id,
       coalesce(r.quarter_start, o.period_start) AS period_start,
       coalesce(r.area_code, o.area_code) AS area_code, r.n AS records, o.n AS observations
FROM (SELECT quarter_start, area_code, sum(incidents) AS n
      FROM district_flytipping_returns GROUP BY ALL) AS r
FULL JOIN (SELECT period_start, area_code, sum(value) AS n FROM observations
           WHERE measure_id = 'district_flytipping_returns.incidents_total' GROUP BY ALL) AS o
    ON o.period_start = r.quarter_start AND o.area_code = r.area_code
WHERE coalesce(r.n, 0) <> coalesce(o.n, 0)
"""

DEFRA_AGREEMENT_CHECK = "district_flytipping_vs_defra_annual"
DEFRA_AGREEMENT_SQL = f"""
WITH quarterly AS (
    SELECT area_code, financial_year, count(DISTINCT quarter_start) AS quarters,
           sum(incidents)::BIGINT AS quarters_sum
    FROM district_flytipping_returns
    GROUP BY ALL
),
compared AS (
    SELECT q.financial_year, q.area_code, a.area_name, q.quarters_sum,
           d.value AS defra_annual, q.quarters_sum - d.value AS difference,
           greatest({DEFRA_ANNUAL_TOLERANCE.incidents},
                    round({DEFRA_ANNUAL_TOLERANCE.share} * d.value, 1)) AS tolerance
    FROM quarterly AS q
    JOIN defra_flytipping_incidents AS d
        ON d.area_code = q.area_code AND d.financial_year = q.financial_year
        AND d.measure = 'total_incidents' AND d.value IS NOT NULL
    JOIN dim_area AS a ON a.area_code = q.area_code
    WHERE q.quarters = 4
)
SELECT * FROM compared
WHERE abs(difference) > tolerance
ORDER BY financial_year, area_code
"""

SPEC = SourceSpec(
    source_id=SOURCE_ID,
    title="District councils' quarterly fly-tipping returns",
    group="district_councils",
    accepted_schema=ACCEPTED_SCHEMA,
    record_tables=(SOURCE_ID,),
    build_contract=build_contract,
    measures=measures,
    read_all=read_all,
    reconcile_sql=RECONCILE_SQL,
    warning_checks=(
        (
            DEFRA_AGREEMENT_CHECK,
            "For each district and financial year with all four quarterly returns and a DEFRA "
            "total, the four quarters add up to DEFRA's annual total_incidents within "
            f"{DEFRA_ANNUAL_TOLERANCE.describe()}; the rows listed do not (quarters_sum, "
            "defra_annual, difference, tolerance).",
            DEFRA_AGREEMENT_SQL,
        ),
    ),
)
