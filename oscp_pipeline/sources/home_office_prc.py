"""Home Office police recorded crime by Community Safety Partnership (open data tables).

Quarterly counts by CSP and Home Office offence code, including the offences data.police.uk does
not separate: distraction burglary (28C, 28D), burglary in a dwelling, vehicle offences, public
order offences, violence with injury. The ONS lists South Oxfordshire and Vale of White Horse as
separate CSPs; the partnership reports them as one, South and Vale, so each row is assigned to
the OSCP CSP of its district and the two are added together. Counts can be negative
(adjustments to earlier quarters): they are loaded as published and flagged. A release's file
name gives the years it covers (``prc-csp-open-data-table-2011-12-to-2014-15.csv``): a row for
another year is set aside, and the newer of two releases is the one whose name gives later years.

The table covers every CSP in England and Wales, so it follows the configured scope
(``oscp_pipeline.scope``), as DEFRA fly-tipping does: by default only the partnership's CSPs are
loaded; with the national scope every CSP of the ONS lookup is, matched on its ONS name.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from oscp_pipeline import periods
from oscp_pipeline.reference import load_reference_table, resolve_area
from oscp_pipeline.scope import Scope, current_scope
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
    SourceContract,
    SourceSpec,
    count_by_file,
    financial_years_named,
    load_log_row,
    malformed_row,
    measure_row,
    quarters_period,
    read_delimited,
    reads_each_delivery_once,
    rejected_log_row,
    relative_source_file,
    release_rank,
    sha256_of,
    source_files,
    unknown_columns_warnings,
    unread_files_warnings,
    year_outside_file,
)

SOURCE_ID = "home_office_prc"
ALL_RECORDED_CRIME = "all_recorded_crime"

COLUMNS = (
    Column("financial_year", "Financial Year", "Financial year, 2013/14 or 2013-14"),
    Column("financial_quarter", "Financial Quarter", "Quarter 1-4 (1 = April-June)"),
    Column("force_name", "Force Name", "Police force", required=False),
    Column("csp_name", "CSP Name", "Community Safety Partnership as named by the ONS"),
    Column("offence_description", "Offence Description", "Home Office offence name"),
    Column(
        "offence_group",
        "Offence Group",
        "Offence group (labels drift between releases)",
        required=False,
    ),
    Column("offence_subgroup", "Offence Subgroup", "Offence subgroup", required=False),
    Column("offence_code", "Offence Code", "Home Office offence code, e.g. 28C"),
    Column("number_of_offences", "Number of Offences", "Count; negative for adjustments"),
)

ACCEPTED_SCHEMA = pa.schema(
    [
        ("financial_year", pa.string()),
        ("quarter_start", pa.date32()),
        ("area_code", pa.string()),
        ("ons_csp_code", pa.string()),
        ("district_code", pa.string()),
        ("csp_name_published", pa.string()),
        ("offence_code", pa.string()),
        ("offence_description", pa.string()),
        ("offence_group", pa.string()),
        ("offence_subgroup", pa.string()),
        ("number_of_offences", pa.int64()),
        ("is_adjustment", pa.bool_()),
        ("source_file", pa.string()),
        ("row_number", pa.int64()),
    ]
)

_YEAR = re.compile(r"^(\d{4})[/-](\d{2})$")


def build_contract() -> SourceContract:
    """The Home Office CSP table contract, for the configured scope's CSPs."""
    scope = current_scope()
    csp_codes = sorted(CspNames.of(scope).reporting_codes)
    return SourceContract(
        source_id=SOURCE_ID,
        title="Home Office police recorded crime by Community Safety Partnership",
        publisher="Home Office / Office for National Statistics (Open Government Licence v3.0)",
        file_pattern="home_office_prc/*.csv",
        columns=COLUMNS,
        row_rules=(
            "Financial Year is written 2013/14 or 2013-14; Financial Quarter is 1 to 4.",
            "Financial Year lies within the years the file name gives (e.g. "
            "prc-csp-open-data-table-2011-12-to-2014-15.csv) and not after the current "
            "financial year; other rows are set aside.",
            f"CSP Name is one of {CspNames.of(scope).description} (by its ONS name); other "
            "CSPs are set aside as outside area.",
            "South Oxfordshire and Vale of White Horse are added together as South and Vale.",
            "Number of Offences is a whole number; negative adjustments are kept and flagged.",
            "An ONS CSP, quarter and offence code appears once; when two releases cover a quarter, "
            "the newer release's quarter is loaded whole (an offence it has no row for had no "
            "offences): the newer is the one whose file name gives the later last year "
            "(without years in the name, the one with the later loaded quarter); of two files "
            "giving the same years, the later delivery. " + DELIVERY_ORDER_RULE,
            "Every CSP of the scope has rows in every quarter the table covers; a CSP without "
            "any is shown as not available for that quarter, never as 0.",
        ),
        expectations=(
            Expectation(
                "row_count_between",
                "the table must hold rows of the scope's CSPs",
                params={"min_value": 1},
            ),
            Expectation(
                "in_set",
                "rows belong to the scope's CSPs",
                "area_code",
                {"value_set": csp_codes},
            ),
            Expectation("not_null", "every row has a quarter", "quarter_start"),
            Expectation("not_null", "every row has an offence code", "offence_code"),
            Expectation(
                "compound_unique",
                "one count per ONS CSP, quarter and offence code",
                None,
                {"columns": ["ons_csp_code", "quarter_start", "offence_code"]},
            ),
        ),
    )


@dataclass(frozen=True)
class CspRows:
    """Where the rows published for one ONS CSP go."""

    area_code: str  # the CSP reported on (South and Vale for both of its ONS CSPs)
    ons_csp_code: str  # the ONS CSP the rows were published for
    district_code: str | None  # its district, when the ONS CSP is one district


@dataclass(frozen=True)
class CspNames:
    """The CSPs of a scope, as the table names them.

    The partnership's CSPs are found through ``area_aliases.csv`` (one district each, so
    South Oxfordshire and Vale of White Horse can be added together); with the national scope,
    every other CSP of the ONS lookup by its ONS name, case and spacing ignored. ONS writes a
    few names with a suffix (``Bristol, City of``) that other tables may leave out: the name
    before the comma is matched too.
    """

    description: str
    reporting_codes: frozenset[str]
    other_csps: dict[str, CspRows]

    @classmethod
    def of(cls, scope: Scope) -> CspNames:
        own = load_reference_table("areas").to_pylist()
        own_codes = {row["area_code"] for row in own}
        reporting = {row["csp_code"] for row in own if row["area_type"] == "district"}
        if scope.name == "oxfordshire":
            return cls("the Oxfordshire CSPs", frozenset(reporting), {})
        areas = [row for row in scope.areas.to_pylist() if row["area_code"] not in own_codes]
        districts: dict[str, list[str]] = {}
        for row in areas:
            if row["area_type"] == "district":
                districts.setdefault(row["csp_code"], []).append(row["area_code"])
        others: dict[str, CspRows] = {}
        short: dict[str, CspRows] = {}
        for row in areas:
            if row["area_type"] != "csp":
                continue
            parts = districts.get(row["area_code"], [])
            only_district = parts[0] if len(parts) == 1 else None
            rows = CspRows(row["area_code"], row["area_code"], only_district)
            others[_name_key(row["area_name"])] = rows
            if "," in row["area_name"]:
                short[_name_key(row["area_name"].split(",")[0])] = rows
        reporting |= {rows.area_code for rows in others.values()}
        description = "the CSPs of England and Wales in the area lookup"
        return cls(description, frozenset(reporting), {**short, **others})

    def resolve(self, name: str) -> CspRows | None:
        """Where a row published for CSP ``name`` goes, or ``None`` outside the scope."""
        district = resolve_area(name)
        if district is not None:
            area = _partnership_areas().get(district)
            if area is None or area["area_type"] != "district":
                return None
            return CspRows(area["csp_code"], area["ons_csp_code"], district)
        return self.other_csps.get(_name_key(name))


def _name_key(name: str) -> str:
    """A CSP name as compared: case, spacing, '&' for 'and', hyphens and stops ignored
    ('Brighton & Hove', 'St. Helens', 'Stockton-on-Tees')."""
    text = re.sub(r"[.'\u2019]", "", name.casefold().replace("&", " and ").replace("-", " "))
    return " ".join(text.split())


def _partnership_areas() -> dict[str, dict]:
    return {row["area_code"]: row for row in load_reference_table("areas").to_pylist()}


# The files the source reads; any other file in its folder is named in a warning.
FILE_SUFFIXES = (".csv",)


def discover_files(raw_dir: Path) -> list[Path]:
    return source_files(raw_dir, SOURCE_ID, FILE_SUFFIXES)


def _quarter_start(year_text: str, quarter_text: str) -> tuple[dt.date | None, str]:
    """(first day of the quarter, error) from the published year and quarter."""
    year = _YEAR.match(year_text.strip())
    if not year or (int(year.group(1)) + 1) % 100 != int(year.group(2)):
        return None, f"column 'Financial Year': '{year_text}' is not a year like 2013/14"
    quarter = quarter_text.strip().upper().removeprefix("Q")
    if quarter not in {"1", "2", "3", "4"}:
        return None, f"column 'Financial Quarter': '{quarter_text}' is not 1, 2, 3 or 4"
    label = f"{periods.financial_year_label(int(year.group(1)))} Q{quarter}"
    return periods.quarter_start_of_label(label), ""


def read_all(raw_dir: Path) -> FileRead:
    read = read_releases(discover_files(raw_dir), raw_dir)
    return read.with_warnings(unread_files_warnings(raw_dir, SOURCE_ID, FILE_SUFFIXES))


# The delivered rows as the set-based rules read them: the published text, with the values
# that are compared trimmed (Unicode whitespace, as ``str.strip`` does) once, in Arrow.
PREPARED_SCHEMA = pa.schema(
    [
        *((column.name, pa.string()) for column in COLUMNS),
        ("row_number", pa.int64()),
        ("source_file", pa.string()),
        ("offence_code_trimmed", pa.string()),
        ("description_trimmed", pa.string()),
        ("group_trimmed", pa.string()),
        ("subgroup_trimmed", pa.string()),
        ("count_text", pa.string()),
    ]
)
PERIODS_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("financial_year", pa.string()),
        ("financial_quarter", pa.string()),
        ("quarter_start", pa.date32()),
        ("financial_year_label", pa.string()),
        ("period_rule", pa.string()),
        ("period_reason", pa.string()),
    ]
)
CSPS_SCHEMA = pa.schema(
    [
        ("csp_name", pa.string()),
        ("csp_name_published", pa.string()),
        ("area_code", pa.string()),
        ("ons_csp_code", pa.string()),
        ("district_code", pa.string()),
        ("outside_reason", pa.string()),
    ]
)

# Each row's first broken rule, in the order a partner would fix them: the period, the CSP,
# the count, the offence code.
CLASSIFY_SQL = """
CREATE TEMP TABLE classified AS
SELECT d.*, p.quarter_start, p.financial_year_label, p.period_rule, p.period_reason,
       c.csp_name_published, c.area_code, c.ons_csp_code, c.district_code, c.outside_reason,
       regexp_full_match(d.count_text, '-?[0-9]+') AS whole_number,
       CASE WHEN whole_number THEN try_cast(d.count_text AS BIGINT) END AS offences,
       CASE
           WHEN p.period_rule IS NOT NULL THEN p.period_rule
           WHEN c.area_code IS NULL THEN 'outside_area'
           WHEN NOT whole_number THEN 'invalid_count'
           -- stored as 64-bit integers, and -2^63 has no positive counterpart
           WHEN offences IS NULL OR offences = -9223372036854775808 THEN 'invalid_count'
           WHEN d.offence_code_trimmed = '' THEN 'missing_offence_code'
       END AS rule_broken
FROM delivered AS d
JOIN periods AS p USING (source_file, financial_year, financial_quarter)
JOIN csps AS c USING (csp_name)
"""

# Of the rows that keep every rule, each quarter comes from its newest release (``releases``
# numbers the files oldest first), one row per ONS CSP and offence code: the first. Only the
# rows this sets aside are kept here, by their place, so a single release costs nothing more.
RELEASED_ASIDE_SQL = """
CREATE TEMP TABLE released_aside AS
WITH candidates AS (
    SELECT c.source_file, c.row_number, c.quarter_start, c.ons_csp_code,
           c.offence_code_trimmed, r.file_order
    FROM classified AS c
    JOIN releases AS r USING (source_file)
    WHERE c.rule_broken IS NULL
),
newest AS (
    SELECT quarter_start, max(file_order) AS newest_order FROM candidates GROUP BY ALL
),
kept AS (
    SELECT ons_csp_code, quarter_start, offence_code_trimmed, min(row_number) AS kept_row
    FROM candidates
    JOIN newest USING (quarter_start)
    WHERE file_order = newest_order
    GROUP BY ALL
)
SELECT candidates.source_file, candidates.row_number, kept.kept_row,
       release.source_file AS newest_file,
       CASE WHEN candidates.file_order <> newest.newest_order THEN 'superseded'
            ELSE 'duplicate_row' END AS release_rule
FROM candidates
JOIN newest USING (quarter_start)
LEFT JOIN kept USING (ons_csp_code, quarter_start, offence_code_trimmed)
JOIN releases AS release ON release.file_order = newest.newest_order
WHERE candidates.file_order <> newest.newest_order OR candidates.row_number <> kept.kept_row
"""

ACCEPTED_SQL = """
SELECT financial_year_label AS financial_year, quarter_start, area_code, ons_csp_code,
       district_code, csp_name_published, offence_code_trimmed AS offence_code,
       description_trimmed AS offence_description,
       nullif(group_trimmed, '') AS offence_group,
       nullif(subgroup_trimmed, '') AS offence_subgroup,
       offences AS number_of_offences, offences < 0 AS is_adjustment, source_file, row_number
FROM classified
ANTI JOIN released_aside USING (source_file, row_number)
WHERE rule_broken IS NULL
ORDER BY source_file, row_number
"""

# The row as delivered, under the published headers, for a partner to find and correct.
RECORD_SQL = (
    "to_json(struct_pack("
    + ", ".join(f'"{column.header}" := {column.name}' for column in COLUMNS)
    + "))::VARCHAR"
)
SUBJECT_SQL = (
    "format('{} {} quarter starting {}, offence {}', csp_name_published, financial_year_label, "
    "strftime(quarter_start, '%Y-%m-%d'), offence_code_trimmed)"
)
SET_ASIDE_SQL = f"""
SELECT '{SOURCE_ID}' AS source_id, source_file, row_number, rule_broken AS reason_code,
       shortened(CASE rule_broken
           WHEN 'outside_area' THEN outside_reason
           WHEN 'invalid_count' THEN format(
               'column ''Number of Offences'': ''{{}}'' {{}}', number_of_offences,
               CASE WHEN whole_number THEN 'is too large to be a count of offences'
                    ELSE 'is not a whole number' END)
           WHEN 'missing_offence_code' THEN 'column ''Offence Code'' is blank'
           ELSE period_reason
       END, {REASON_LIMIT}) AS reason,
       {RECORD_SQL} AS record
FROM classified
WHERE rule_broken IS NOT NULL
UNION ALL
SELECT '{SOURCE_ID}', source_file, row_number, release_rule,
       shortened(CASE
           WHEN release_rule = 'duplicate_row'
               THEN {SUBJECT_SQL} || ', is loaded from row ' || kept_row
           WHEN kept_row IS NOT NULL
               THEN {SUBJECT_SQL} || ', is loaded from the newer release ' || newest_file
                   || ' row ' || kept_row
           ELSE {SUBJECT_SQL} || ': the newer release ' || newest_file || ' covers the quarter '
               || 'and has no row for the offence there (no offences), so this figure is not '
               || 'loaded'
       END, {REASON_LIMIT}),
       {RECORD_SQL}
FROM classified
JOIN released_aside USING (source_file, row_number)
ORDER BY source_file, row_number
"""


@reads_each_delivery_once(SOURCE_ID, named_period=financial_years_named)
def read_releases(paths: list[Path], raw_dir: Path) -> FileRead:
    """Read releases; each ONS CSP, quarter and offence code comes from the newest one.

    The rules run set-based in DuckDB, so a national table (every CSP of England and Wales,
    about 650,000 rows for four years) is read in seconds, its rows held as columns, not as
    Python objects. What depends on a value rather than a row (a year and quarter, a CSP name)
    is decided once per distinct value.
    """
    csps = CspNames.of(current_scope())
    today = dt.date.today()
    file_info: dict[str, dict] = {}
    delivered: list[pa.Table] = [PREPARED_SCHEMA.empty_table()]
    malformed: list[dict[str, object]] = []
    warnings: list[str] = []
    for path in paths:
        source_file = relative_source_file(path, raw_dir)
        info: dict = {
            "sha256": sha256_of(path),
            "encoding": "",
            "named": financial_years_named(path),
            "path": path,
        }
        file_info[source_file] = info
        try:
            records = read_delimited(path, COLUMNS, source_file)
        except FileRejected as rejected:
            info["rejected"] = rejected.problem
            continue
        info["encoding"] = records.encoding
        info["rows_read"] = records.table.num_rows + len(records.malformed)
        warnings.extend(unknown_columns_warnings(source_file, records.unknown_columns))
        warnings.extend(records.warnings)  # stray bytes in the text, if any
        malformed.extend(
            malformed_row(SOURCE_ID, source_file, row, records.header_fields)
            for row in records.malformed
        )
        delivered.append(_prepared(records.table, source_file))
    with duckdb.connect() as connection:
        connection.execute(SHORTENED_MACRO)
        connection.register("delivered", pa.concat_tables(delivered))
        del delivered
        connection.register("periods", _periods(connection, file_info, today))
        connection.register("csps", _csp_rows(connection, csps))
        connection.execute(CLASSIFY_SQL)
        connection.unregister("delivered")
        if csps.other_csps:
            warnings.extend(_unmatched_csp_warnings(connection, csps))
        quarters = {
            source_file: set(loaded)
            for source_file, loaded in connection.execute(
                "SELECT source_file, list(DISTINCT quarter_start) FROM classified "
                "WHERE rule_broken IS NULL GROUP BY ALL"
            ).fetchall()
        }
        connection.register("releases", _release_order(quarters, file_info))
        connection.execute(RELEASED_ASIDE_SQL)
        accepted = connection.sql(ACCEPTED_SQL).to_arrow_table().cast(ACCEPTED_SCHEMA)
        set_aside = pa.concat_tables(
            [
                pa.Table.from_pylist(malformed, SET_ASIDE_SCHEMA),
                connection.sql(SET_ASIDE_SQL).to_arrow_table().cast(SET_ASIDE_SCHEMA),
            ]
        )
    load_log = _load_log(file_info, quarters, accepted, set_aside)
    return FileRead(accepted, set_aside, load_log, warnings)


def _prepared(table: pa.Table, source_file: str) -> pa.Table:
    """A file's rows with the columns the rules read (``PREPARED_SCHEMA``)."""

    def trimmed(name: str) -> pa.ChunkedArray:
        return pc.utf8_trim_whitespace(table.column(name))

    count_text = pc.utf8_trim_whitespace(
        pc.replace_substring(table.column("number_of_offences"), ",", "")
    )
    columns = {
        **{column.name: table.column(column.name) for column in COLUMNS},
        "row_number": table.column("row_number"),
        "source_file": pa.repeat(pa.scalar(source_file), table.num_rows),
        "offence_code_trimmed": trimmed("offence_code"),
        "description_trimmed": trimmed("offence_description"),
        "group_trimmed": trimmed("offence_group"),
        "subgroup_trimmed": trimmed("offence_subgroup"),
        "count_text": count_text,
    }
    return pa.table(columns, PREPARED_SCHEMA)


def _periods(
    connection: duckdb.DuckDBPyConnection, file_info: dict[str, dict], today: dt.date
) -> pa.Table:
    """Each file's distinct Financial Year and Quarter: its quarter, or the rule it breaks."""
    rows = []
    for source_file, year_text, quarter_text in connection.execute(
        "SELECT DISTINCT source_file, financial_year, financial_quarter FROM delivered"
    ).fetchall():
        quarter, error = _quarter_start(year_text, quarter_text)
        row = {"source_file": source_file, "financial_year": year_text}
        row |= {"financial_quarter": quarter_text, "quarter_start": quarter}
        if quarter is None:
            rows.append({**row, "period_rule": "invalid_period", "period_reason": error})
            continue
        start_year = periods.financial_year_start(quarter)
        outside = year_outside_file(
            "Financial Year", year_text, start_year, file_info[source_file]["named"], today
        )
        row["financial_year_label"] = periods.financial_year_label(start_year)
        if outside is not None:
            row["period_rule"], row["period_reason"] = outside
        rows.append(row)
    return pa.Table.from_pylist(rows, PERIODS_SCHEMA)


def _csp_rows(connection: duckdb.DuckDBPyConnection, csps: CspNames) -> pa.Table:
    """Each distinct CSP Name: where its rows go, or why they are outside the scope."""
    rows = []
    for (name,) in connection.execute("SELECT DISTINCT csp_name FROM delivered").fetchall():
        found = csps.resolve(name)
        row = {"csp_name": name, "csp_name_published": name.strip()}
        if found is None:
            row["outside_reason"] = f"CSP '{name.strip()}' is not one of {csps.description}"
        else:
            row |= {"area_code": found.area_code, "ons_csp_code": found.ons_csp_code}
            row["district_code"] = found.district_code
        rows.append(row)
    return pa.Table.from_pylist(rows, CSPS_SCHEMA)


def _unmatched_csp_warnings(connection: duckdb.DuckDBPyConnection, csps: CspNames) -> list[str]:
    """With the national scope every CSP should be in the lookup: a name that is not (a
    spelling the lookup does not use, or a CSP formed since its edition) is said, not only
    set aside, as its CSP is then not available."""
    unmatched = connection.execute(
        "SELECT csp_name_published, count(*) FROM classified "
        "WHERE rule_broken = 'outside_area' GROUP BY ALL ORDER BY 1"
    ).fetchall()
    return [
        f"{SOURCE_ID}: CSP '{name}' is not one of {csps.description}: its {rows:,} row(s) are "
        "set aside as outside_area, so no CSP has them; check the name against the lookup's "
        "CSP names (OSCP_AREA_LOOKUP), or use a lookup edition that has the CSP"
        for name, rows in unmatched
    ]


def _release_order(quarters: dict[str, set[dt.date]], file_info: dict[str, dict]) -> pa.Table:
    """The files with rows to load, numbered oldest release first.

    The newest release is the file whose name gives the latest year (a name without years: its
    latest loaded quarter; ties: the later delivery, ``release_rank``), never decided by a row
    set aside. It replaces an older release's quarter whole: an offence the newer release has
    no row for had no offences then, so the older release's figure for it is set aside too.
    """

    def rank(source_file: str) -> tuple[object, ...]:
        info = file_info[source_file]
        named = info["named"]
        if named is None:
            latest = max(quarters[source_file])
        else:
            last_quarter = f"{periods.financial_year_label(named.last)} Q4"
            latest = periods.quarter_start_of_label(last_quarter)
        return release_rank(latest, info["path"], source_file)

    ordered = sorted(quarters, key=rank)
    return pa.table(
        {"source_file": ordered, "file_order": list(range(1, len(ordered) + 1))},
        pa.schema([("source_file", pa.string()), ("file_order", pa.int64())]),
    )


def _load_log(
    file_info: dict[str, dict],
    quarters: dict[str, set[dt.date]],
    accepted: pa.Table,
    set_aside: pa.Table,
) -> pa.Table:
    loaded, aside = count_by_file(accepted), count_by_file(set_aside)
    lines = []
    for source_file, info in file_info.items():
        if "rejected" in info:
            lines.append(rejected_log_row(SOURCE_ID, source_file, info["sha256"], info["rejected"]))
            continue
        period = quarters_period(quarters.get(source_file, set()))
        counts = (info["rows_read"], loaded.get(source_file, 0), aside.get(source_file, 0))
        lines.append(
            load_log_row(SOURCE_ID, source_file, info["sha256"], info["encoding"], period, counts)
        )
    return pa.Table.from_pylist(lines, LOAD_LOG_SCHEMA)


MEASURE_NAMES = {
    "distraction_burglary": "Distraction burglary in a dwelling (28C, 28D)",
    "burglary_dwelling": "Burglary in a dwelling (28A-28D, 29)",
    "vehicle_offences": "Vehicle offences (45, 48, 126, 37.2)",
    "public_order": "Public order offences (9A, 9B, 62A)",
    "violence_with_injury": "Violence with injury",
    "criminal_damage": "Criminal damage and arson",
    ALL_RECORDED_CRIME: "All police recorded crime",
}


def measures() -> list[dict[str, str | None]]:
    return [
        measure_row(
            f"{SOURCE_ID}.{name}",
            SOURCE_ID,
            f"{title} (Home Office, by CSP)",
            "offences",
            "quarter",
        )
        for name, title in MEASURE_NAMES.items()
    ]


RECONCILE_SQL = """
SELECT 'home_office_prc' AS source_id, coalesce(r.quarter_start, o.period_start) AS period_start,
       coalesce(r.area_code, o.area_code) AS area_code, r.n AS records, o.n AS observations
FROM (SELECT quarter_start, area_code, sum(number_of_offences) AS n
      FROM home_office_prc GROUP BY ALL) AS r
FULL JOIN (SELECT period_start, area_code, sum(value) AS n,
                  bool_or(value_status = 'not_available') AS not_supplied
           FROM observations
           WHERE measure_id = 'home_office_prc.all_recorded_crime' GROUP BY ALL) AS o
    ON o.period_start = r.quarter_start AND o.area_code = r.area_code
-- South and Vale with one of its districts missing is not available, though the other has rows.
WHERE coalesce(r.n, 0) <> coalesce(o.n, 0) AND NOT coalesce(o.not_supplied, FALSE)
"""

NEGATIVE_ADJUSTMENTS_SQL = """
SELECT financial_year, quarter_start, csp_name_published, offence_code, number_of_offences,
       source_file, row_number
FROM home_office_prc WHERE is_adjustment
ORDER BY quarter_start, csp_name_published, offence_code
"""

SPEC = SourceSpec(
    source_id=SOURCE_ID,
    title="Home Office police recorded crime by Community Safety Partnership",
    group="home_office",
    accepted_schema=ACCEPTED_SCHEMA,
    record_tables=("home_office_prc",),
    build_contract=build_contract,
    measures=measures,
    read_all=read_all,
    reconcile_sql=RECONCILE_SQL,
    warning_checks=(
        (
            "home_office_negative_adjustments",
            "Home Office counts below zero are adjustments to earlier quarters: loaded as "
            "published and listed here for the analyst to note.",
            NEGATIVE_ADJUSTMENTS_SQL,
        ),
    ),
)
