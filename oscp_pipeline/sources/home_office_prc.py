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
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyarrow as pa

from oscp_pipeline import periods
from oscp_pipeline.reference import load_reference_table, resolve_area
from oscp_pipeline.scope import Scope, current_scope
from oscp_pipeline.sources.base import (
    DELIVERY_ORDER_RULE,
    LOAD_LOG_SCHEMA,
    SET_ASIDE_SCHEMA,
    Column,
    Expectation,
    FileRead,
    FileRejected,
    SourceContract,
    SourceSpec,
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
    rows_per_file,
    set_aside_row,
    sha256_of,
    source_files,
    unknown_columns_warnings,
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
_COUNT = re.compile(r"^-?\d+$")


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
    return " ".join(name.split()).casefold()


def _partnership_areas() -> dict[str, dict]:
    return {row["area_code"]: row for row in load_reference_table("areas").to_pylist()}


def discover_files(raw_dir: Path) -> list[Path]:
    return source_files(raw_dir, SOURCE_ID, (".csv",))


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


def _set_aside(source_file: str, row: dict[str, object], code: str, reason: str) -> dict:
    """A set-aside row keeping the row's published values under their headers."""
    published = {c.header: row.get(c.name) for c in COLUMNS}
    record = json.dumps(published, ensure_ascii=False)
    return set_aside_row(SOURCE_ID, source_file, row["row_number"], code, reason, record)


def read_all(raw_dir: Path) -> FileRead:
    return read_releases(discover_files(raw_dir), raw_dir)


@reads_each_delivery_once(SOURCE_ID)
def read_releases(paths: list[Path], raw_dir: Path) -> FileRead:
    """Read releases; each ONS CSP, quarter and offence code comes from the newest one."""
    csps = CspNames.of(current_scope())
    today = dt.date.today()
    set_aside: list[dict] = []
    candidates: list[dict] = []
    file_info: dict[str, dict] = {}
    warnings: list[str] = []
    for path in paths:
        source_file = relative_source_file(path, raw_dir)
        named = financial_years_named(path)
        info: dict = {
            "sha256": sha256_of(path),
            "encoding": "",
            "quarters": [],
            "named": named,
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
        for malformed in records.malformed:
            set_aside.append(
                malformed_row(SOURCE_ID, source_file, malformed, records.header_fields)
            )
        for row in records.table.to_pylist():
            quarter, error = _quarter_start(row["financial_year"], row["financial_quarter"])
            if quarter is None:
                set_aside.append(_set_aside(source_file, row, "invalid_period", error))
                continue
            outside = year_outside_file(
                "Financial Year",
                row["financial_year"],
                periods.financial_year_start(quarter),
                named,
                today,
            )
            if outside is not None:
                set_aside.append(_set_aside(source_file, row, *outside))
                continue
            csp = csps.resolve(row["csp_name"])
            if csp is None:
                reason = f"CSP '{row['csp_name'].strip()}' is not one of {csps.description}"
                set_aside.append(_set_aside(source_file, row, "outside_area", reason))
                continue
            count = row["number_of_offences"].replace(",", "").strip()
            if not _COUNT.match(count):
                reason = (
                    f"column 'Number of Offences': '{row['number_of_offences']}' "
                    "is not a whole number"
                )
                set_aside.append(_set_aside(source_file, row, "invalid_count", reason))
                continue
            if abs(int(count)) >= 2**63:  # counts are stored as 64-bit integers
                reason = (
                    f"column 'Number of Offences': '{row['number_of_offences']}' "
                    "is too large to be a count of offences"
                )
                set_aside.append(_set_aside(source_file, row, "invalid_count", reason))
                continue
            code = row["offence_code"].strip()
            if not code:
                reason = "column 'Offence Code' is blank"
                set_aside.append(_set_aside(source_file, row, "missing_offence_code", reason))
                continue
            info["quarters"].append(quarter)
            accepted = {
                "financial_year": periods.financial_year_label(
                    periods.financial_year_start(quarter)
                ),
                "quarter_start": quarter,
                "area_code": csp.area_code,
                "ons_csp_code": csp.ons_csp_code,
                "district_code": csp.district_code,
                "csp_name_published": row["csp_name"].strip(),
                "offence_code": code,
                "offence_description": row["offence_description"].strip(),
                "offence_group": (row["offence_group"] or "").strip() or None,
                "offence_subgroup": (row["offence_subgroup"] or "").strip() or None,
                "number_of_offences": int(count),
                "is_adjustment": int(count) < 0,
                "source_file": source_file,
                "row_number": row["row_number"],
                "_record": row,
            }
            candidates.append(accepted)
    accepted_rows = _newest_release(candidates, file_info, set_aside)
    for row in accepted_rows:
        row.pop("_record")
    accepted_table = pa.Table.from_pylist(accepted_rows, ACCEPTED_SCHEMA)
    return FileRead(
        accepted_table,
        pa.Table.from_pylist(set_aside, SET_ASIDE_SCHEMA),
        _load_log(file_info, accepted_rows, set_aside),
        warnings,
    )


def _newest_release(
    candidates: list[dict],
    file_info: dict[str, dict],
    set_aside: list[dict],
) -> list[dict]:
    """Keep each quarter's rows from the newest release that covers it, one row per ONS CSP and
    offence code (the first).

    The newest release is the file whose name gives the latest year (a name without years: its
    latest loaded quarter; ties: the later delivery, ``release_rank``), never decided by a row
    set aside. It replaces an older release's quarter whole: an offence the newer release has
    no row for had no offences then, so the older release's figure for it is set aside too.
    """

    @cache
    def rank(source_file: str) -> tuple[object, ...]:
        info = file_info[source_file]
        named = info["named"]
        if named is None:
            latest = max(info["quarters"])
        else:
            last_quarter = f"{periods.financial_year_label(named.last)} Q4"
            latest = periods.quarter_start_of_label(last_quarter)
        return release_rank(latest, info["path"], source_file)

    newest: dict[dt.date, tuple[dt.date, str]] = {}
    for row in candidates:
        release = rank(row["source_file"])
        newest[row["quarter_start"]] = max(newest.get(row["quarter_start"], release), release)
    chosen: dict[tuple, dict] = {}
    ordered = sorted(
        candidates, key=lambda c: (rank(c["source_file"]), -c["row_number"]), reverse=True
    )
    for row in ordered:
        key = (row["ons_csp_code"], row["quarter_start"], row["offence_code"])
        kept = chosen.get(key)
        newer = newest[row["quarter_start"]][-1]  # the release's source_file
        if kept is None and newer == row["source_file"]:
            chosen[key] = row
            continue
        subject = (
            f"{row['csp_name_published']} {row['financial_year']} quarter starting "
            f"{row['quarter_start']}, offence {row['offence_code']}"
        )
        if newer == row["source_file"]:
            code, reason = "duplicate_row", f"{subject}, is loaded from row {kept['row_number']}"
        elif kept is not None:
            code = "superseded"
            reason = f"{subject}, is loaded from the newer release {newer} row {kept['row_number']}"
        else:
            code = "superseded"
            reason = (
                f"{subject}: the newer release {newer} covers the quarter and has no row for "
                "the offence there (no offences), so this figure is not loaded"
            )
        set_aside.append(_set_aside(row["source_file"], row["_record"], code, reason))
    return sorted(chosen.values(), key=lambda r: (r["source_file"], r["row_number"]))


def _load_log(file_info: dict[str, dict], accepted: list[dict], set_aside: list[dict]) -> pa.Table:
    loaded, aside = rows_per_file(accepted), rows_per_file(set_aside)
    lines = []
    for source_file, info in file_info.items():
        if "rejected" in info:
            lines.append(rejected_log_row(SOURCE_ID, source_file, info["sha256"], info["rejected"]))
            continue
        period = quarters_period(info["quarters"])
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
