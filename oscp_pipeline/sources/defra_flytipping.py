"""DEFRA fly-tipping incidents reported by local authorities, annual by financial year.

DEFRA publishes one table a year covering about ten financial years for every English authority,
as an XLSX workbook (sheet ``LA_incidents``, banner rows above the header) and as text. Rows are
joined on ``ONS Code`` (names carry stray spaces in some years) and kept for the districts of the
configured scope (``oscp_pipeline.scope``: the five Oxfordshire districts by default, or every
district of England and Wales in the area lookup); other authorities, such as those created after
the lookup's edition, are set aside as ``outside_area``. ``:`` means "not available", which is
missing, never zero. When two releases cover the same year, the newer release's figure is loaded
and the older row is set aside as superseded. The newer release is the one whose file name gives
the later years (``..._2012-13_to_2014-15``): a row for a year its file name does not give is set
aside, so a mistyped year cannot make an old release the newest.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from oscp_pipeline import periods
from oscp_pipeline.scope import current_scope
from oscp_pipeline.sources.base import (
    DELIVERY_ORDER_RULE,
    LOAD_LOG_SCHEMA,
    SET_ASIDE_SCHEMA,
    Column,
    Expectation,
    FileRead,
    FileRejected,
    NamedYears,
    RawRecords,
    SourceContract,
    SourceSpec,
    financial_years_named,
    load_log_row,
    malformed_row,
    measure_row,
    read_delimited,
    read_xlsx_table,
    reads_each_delivery_once,
    rejected_log_row,
    relative_source_file,
    release_rank,
    rows_per_file,
    set_aside_row,
    sha256_of,
    source_files,
    unknown_columns_warnings,
    unread_files_warnings,
    year_outside_file,
)

SOURCE_ID = "defra_flytipping"
SHEET_NAME = "LA_incidents"
HEADER_MARKERS = ("ONS Code", "Total Incidents")
NOT_AVAILABLE = ":"

IDENTIFYING_COLUMNS = (
    Column("year", "Year", "Financial year, e.g. 2013-14"),
    Column("ons_code", "ONS Code", "GSS code of the local authority; *Total on aggregate rows"),
    Column("la_name", "LA Name", "Local authority name as published (not used to join)"),
    Column("region", "Region", "Region name", required=False),
)

# (canonical measure name, published header, aliases seen in other releases)
COUNT_COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("total_incidents", "Total Incidents", ()),
    ("highway_incidents", "Highway Incidents", ()),
    ("footpath_bridleway_incidents", "Footpath / Bridleway Incidents", ()),
    ("back_alleyway_incidents", "Back Alleyway Incidents", ()),
    ("railway_incidents", "Railway Incidents", ()),
    ("council_land_incidents", "Council Land Incidents", ()),
    ("agricultural_incidents", "Agricultural Incidents", ()),
    ("private_residential_incidents", "Private / Residential Incidents", ()),
    ("commercial_industrial_incidents", "Commercial / Industrial Incidents", ()),
    ("watercourse_bank_incidents", "Watercourse / Bank Incidents", ()),
    ("other_unidentified_land_incidents", "Other (unidentified) Incidents", ()),
    ("animal_carcass_incidents", "Animal Carcass Incidents", ()),
    ("green_incidents", "Green Incidents", ()),
    ("vehicle_parts_incidents", "Vehicle Parts Incidents", ()),
    ("white_goods_incidents", "White Goods Incidents", ()),
    ("other_electrical_incidents", "Other Electrical Incidents", ()),
    ("tyres_incidents", "Tyres Incidents", ()),
    ("asbestos_incidents", "Asbestos Incidents", ()),
    ("clinical_incidents", "Clinical Incidents", ()),
    ("construction_demolition_incidents", "Constr / Demol / Excav Incidents", ()),
    ("black_bags_commercial_incidents", "Black Bags - Commercial Incidents", ()),
    ("black_bags_household_incidents", "Black Bags - Household Incidents", ()),
    (
        "chemical_drums_oil_fuel_incidents",
        "Chemical Drums, Oil, Fuel Incidents",
        ("Chemical Drums Oil Fuel Incidents",),
    ),
    ("other_household_waste_incidents", "Other Household Waste Incidents", ()),
    ("other_commercial_waste_incidents", "Other Commercial Waste Incidents", ()),
    (
        "other_identifiable_waste_incidents",
        "Other Identifiable Incidents",
        ("Primary Waste Type Measures Other (unidentified) Incidents",),
    ),
    ("single_black_bag_incidents", "Single Black Bag Incidents", ()),
    ("single_item_incidents", "Single Item Incidents", ()),
    ("car_boot_or_less_incidents", "Car Boot or Less Incidents", ()),
    ("small_van_load_incidents", "Small Van Load Incidents", ()),
    ("transit_van_load_incidents", "Transit Van Load Incidents", ()),
    ("tipper_lorry_load_incidents", "Tipper Lorry Load Incidents", ()),
    ("significant_multi_load_incidents", "Significant / Multi Loads Incidents", ()),
)

# Published columns the scorecard does not use: recognised, so they raise no warning, not loaded.
OTHER_PUBLISHED_HEADERS = (
    "Single Black Bag Clearance Costs (£)",
    "Single Item Clearance Costs (£)",
    "Car Boot or Less Clearance Costs (£)",
    "Small Van Load Clearance Costs (£)",
    "Transit Van Load Clearance Costs (£)",
    "Tipper Lorry Load Clearance Costs (£)",
    "Sig / Multi Loads Clearance Costs (£)",
    "Total Incidents Clearance Costs (£)",
    "Mid population estimates",
    "Incidents per 1,000 people",
    "Reporting basis",
)

COLUMNS = (
    *IDENTIFYING_COLUMNS,
    *(
        Column(
            name, header, f"Count of {header.lower()}", aliases, required=name == "total_incidents"
        )
        for name, header, aliases in COUNT_COLUMNS
    ),
    *(
        Column(f"not_loaded_{index}", header, "Published but not used", required=False)
        for index, header in enumerate(OTHER_PUBLISHED_HEADERS)
    ),
)

MEASURE_COLUMNS = tuple(name for name, _, _ in COUNT_COLUMNS)

ACCEPTED_SCHEMA = pa.schema(
    [
        ("financial_year", pa.string()),
        ("period_start", pa.date32()),
        ("area_code", pa.string()),
        ("la_name_published", pa.string()),
        ("measure", pa.string()),
        ("value", pa.float64()),
        ("value_status", pa.string()),
        ("source_file", pa.string()),
        ("row_number", pa.int64()),
    ]
)


def build_contract() -> SourceContract:
    """The DEFRA fly-tipping local authority table contract, for the configured scope's
    districts."""
    scope = current_scope()
    return SourceContract(
        source_id=SOURCE_ID,
        title="DEFRA fly-tipping incidents reported by local authorities",
        publisher="Department for Environment, Food & Rural Affairs (Open Government Licence v3.0)",
        file_pattern="defra_flytipping/*.csv or *.xlsx (sheet LA_incidents)",
        columns=COLUMNS,
        row_rules=(
            "Rows are joined on ONS Code, never on LA Name.",
            "Aggregate rows (ONS Code or LA Name starting with '*') are set aside.",
            f"Authorities outside {scope.description} are set aside as outside area.",
            "Year must be a financial year written YYYY-YY, within the years the file name "
            "gives (e.g. flytipping_LA_incidents_2012-13_to_2014-15.csv) and not after the "
            "current financial year; other rows are set aside.",
            "Counts are non-negative numbers; ':' means not available (missing, not zero).",
            "When two releases cover the same year and district, the newer release is loaded: "
            "the one whose file name gives the later last year (without years in the name, "
            "the one with the later loaded year); of two files giving the same years, the "
            "later delivery. " + DELIVERY_ORDER_RULE,
            "When the newer release's row for a district and year cannot be loaded (a count "
            "that cannot be read), an older release's figure for it is loaded and a warning "
            "names both rows: DEFRA may have revised that figure since. When a newer release "
            "has a line that cannot be read at all, a warning names the older figures loaded "
            "for the years it covers.",
        ),
        expectations=(
            Expectation(
                "row_count_between",
                "the table must hold rows of the scope's districts",
                params={"min_value": 1},
            ),
            Expectation(
                "in_set",
                f"only {scope.description} are loaded",
                "area_code",
                {"value_set": sorted(set(scope.districts().values()))},
            ),
            Expectation("not_null", "every row has a financial year", "period_start"),
            Expectation("between", "counts are never negative", "value", {"min_value": 0}),
            Expectation(
                "in_set",
                "a value is reported or not available",
                "value_status",
                {"value_set": ["reported", "not_available"]},
            ),
            Expectation(
                "compound_unique",
                "one figure per district, year and measure",
                None,
                {"columns": ["area_code", "period_start", "measure"]},
            ),
        ),
        records_per_row="several",  # an authority-year row holds a figure per count column
    )


# The files the source reads; any other file in its folder is named in a warning.
FILE_SUFFIXES = (".csv", ".xlsx")


def discover_files(raw_dir: Path) -> list[Path]:
    """Every DEFRA table under ``<raw>/defra_flytipping`` (CSV or XLSX), in a stable order."""
    return source_files(raw_dir, SOURCE_ID, FILE_SUFFIXES)


def read_file(path: Path, source_file: str) -> RawRecords:
    """Read a DEFRA table in either published form."""
    if path.suffix.lower() == ".xlsx":
        return read_xlsx_table(path, COLUMNS, source_file, SHEET_NAME, HEADER_MARKERS)
    return read_delimited(path, COLUMNS, source_file)


@dataclass
class _Row:
    """A district-year row that passed the row rules, awaiting the newest-release decision."""

    financial_year: str
    period_start: dt.date
    area_code: str
    la_name: str
    values: dict[str, tuple[float | None, str]]
    source_file: str
    row_number: int
    record: str


ONE_DAY = dt.timedelta(days=1)


def _financial_year_start(start_year: int) -> dt.date:
    return dt.date(start_year, 4, 1)


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _parse_count(text: str) -> tuple[float | None, str] | None:
    """(value, status) for a published cell, or None when it is not a valid count."""
    cleaned = text.replace(",", "").strip()
    if cleaned in {NOT_AVAILABLE, ""}:
        return None, "not_available"
    if not _NUMBER.match(cleaned) or float(cleaned) < 0:
        return None
    return float(cleaned), "reported"


@reads_each_delivery_once(SOURCE_ID, named_period=financial_years_named)
def read_defra_files(paths: list[Path], raw_dir: Path) -> FileRead:
    """Read every DEFRA release together, loading each district-year from the newest release."""
    scope = current_scope()
    district_codes = set(scope.districts().values())
    today = dt.date.today()
    set_aside: list[dict[str, object]] = []
    candidates: list[tuple[int, str, _Row]] = []
    unreadable: dict[tuple[str, int], list[tuple[str, int]]] = {}  # district-year: file, row
    file_info: dict[str, dict[str, object]] = {}
    warnings: list[str] = []
    for path in paths:
        source_file = relative_source_file(path, raw_dir)
        info: dict[str, object] = {"sha256": sha256_of(path), "encoding": "", "path": path}
        file_info[source_file] = info
        try:
            records = read_file(path, source_file)
        except FileRejected as rejected:
            info["rejected"] = rejected.problem
            continue
        info["encoding"] = records.encoding
        info["rows_read"] = records.table.num_rows + len(records.malformed)
        warnings.extend(unknown_columns_warnings(source_file, records.unknown_columns))
        warnings.extend(records.warnings)  # stray bytes in the text, if any
        set_aside.extend(
            malformed_row(SOURCE_ID, source_file, row, records.header_fields)
            for row in records.malformed
        )
        years: list[int] = []
        named = financial_years_named(path)
        for row in records.table.to_pylist():
            reason = _classify_row(
                row,
                district_codes,
                scope.description,
                set(records.header_map.values()),
                named,
                today,
            )
            published = {
                header: row.get(name, "")
                for header, name in records.header_map.items()
                if not name.startswith("not_loaded_")
            }
            record = json.dumps(published, ensure_ascii=False)
            if isinstance(reason, tuple):
                set_aside.append(
                    set_aside_row(SOURCE_ID, source_file, row["row_number"], *reason, record)
                )
                if reason[0] == "invalid_count":  # a district and year of the scope
                    key = (row["ons_code"].strip(), periods.financial_year_of_label(row["year"]))
                    unreadable.setdefault(key, []).append((source_file, row["row_number"]))
                continue
            start_year = periods.financial_year_of_label(row["year"])
            years.append(start_year)
            candidates.append(
                (
                    start_year,
                    source_file,
                    _Row(
                        periods.financial_year_label(start_year),
                        _financial_year_start(start_year),
                        row["ons_code"].strip(),
                        row["la_name"].strip(),
                        reason,
                        source_file,
                        row["row_number"],
                        record,
                    ),
                )
            )
        info["years"] = years
        info["latest_year"] = named.last if named is not None else max(years, default=-1)
        info["named"] = named
        info["malformed"] = len(records.malformed)

    accepted = _newest_release_rows(candidates, file_info, set_aside, unreadable, warnings)
    accepted_table = pa.Table.from_pylist(accepted, ACCEPTED_SCHEMA)
    set_aside_table = pa.Table.from_pylist(set_aside, SET_ASIDE_SCHEMA)
    return FileRead(
        accepted_table, set_aside_table, _load_log(file_info, accepted, set_aside), warnings
    )


def _classify_row(
    row: dict[str, str],
    district_codes: set[str],
    districts_described: str,
    published: set[str],
    named: NamedYears | None,
    today: dt.date,
) -> tuple[str, str] | dict[str, tuple[float | None, str]]:
    """Either (reason code, reason) to set the row aside, or its parsed measure values.

    ``district_codes`` are the configured scope's districts, which ``districts_described``
    names for the reason. Only the measure columns this release publishes (``published``) give
    values: a column a release does not have is absent, not "not available". The year must be
    one the file name gives (``named``) and not after the current financial year.
    """
    code, name, year = row["ons_code"].strip(), row["la_name"].strip(), row["year"].strip()
    if code.startswith("*") or name.startswith("*"):
        return "aggregate_row", f"aggregate row '{code}' / '{name}': totals are not loaded"
    try:
        start_year = periods.financial_year_of_label(year)
    except ValueError as error:
        return "invalid_year", f"column 'Year': {error}"
    outside = year_outside_file("Year", year, start_year, named, today)
    if outside is not None:
        return outside
    if code not in district_codes:
        return "outside_area", f"ONS code '{code}' ({name}) is not one of {districts_described}"
    values: dict[str, tuple[float | None, str]] = {}
    for measure in MEASURE_COLUMNS:
        if measure not in published:
            continue
        parsed = _parse_count(row[measure] or "")
        if parsed is None:
            header = next(h for n, h, _ in COUNT_COLUMNS if n == measure)
            return (
                "invalid_count",
                f"column '{header}': '{row[measure]}' is not a non-negative count or ':'",
            )
        values[measure] = parsed
    return values


def _newest_release_rows(
    candidates: list[tuple[int, str, _Row]],
    file_info: dict[str, dict[str, object]],
    set_aside: list[dict[str, object]],
    unreadable: dict[tuple[str, int], list[tuple[str, int]]],
    warnings: list[str],
) -> list[dict[str, object]]:
    """Keep, for each district and year, the row of the newest release; set the rest aside.

    The newest release is the file whose name gives the latest last year (a name without
    years: its latest loaded year; ties: the later delivery, ``release_rank``), never decided by
    a row set aside. A district-year repeated within one file keeps its first row. When a newer
    release's row for a district-year was set aside as ``unreadable``, the older figure loaded
    instead gets a warning naming both rows.
    """

    def rank(source_file: str) -> tuple[object, ...]:
        info = file_info[source_file]
        return release_rank(info["latest_year"], info["path"], source_file)  # type: ignore[arg-type]

    chosen: dict[tuple[str, int], _Row] = {}
    for start_year, source_file, row in sorted(
        candidates, key=lambda c: (rank(c[1]), -c[2].row_number), reverse=True
    ):
        key = (row.area_code, start_year)
        kept = chosen.get(key)
        if kept is None:
            chosen[key] = row
        elif kept.source_file == source_file:
            set_aside.append(
                set_aside_row(
                    SOURCE_ID,
                    source_file,
                    row.row_number,
                    "duplicate_row",
                    f"{row.financial_year} for {row.area_code} appears again; row "
                    f"{kept.row_number} is loaded",
                    row.record,
                )
            )
        else:
            set_aside.append(
                set_aside_row(
                    SOURCE_ID,
                    source_file,
                    row.row_number,
                    "superseded",
                    f"{row.financial_year} for {row.area_code} is loaded from the newer release "
                    f"{kept.source_file} (row {kept.row_number})",
                    row.record,
                )
            )
    for (area_code, start_year), row in chosen.items():
        newer = [
            f"{source_file} row {number}"
            for source_file, number in unreadable.get((area_code, start_year), [])
            if rank(source_file) > rank(row.source_file)
        ]
        if newer:
            warnings.append(
                f"{SOURCE_ID}: {row.financial_year} for {area_code} ({row.la_name}) is loaded "
                f"from the older release {row.source_file} row {row.row_number}, because the "
                f"newer release's row ({', '.join(newer)}) has a count that cannot be read and "
                "is set aside: DEFRA may have revised the figure since"
            )
    warnings.extend(_older_figures_beside_unreadable_lines(chosen, file_info, rank))
    accepted = []
    for row in sorted(chosen.values(), key=lambda r: (r.source_file, r.row_number)):
        for measure, (value, status) in row.values.items():
            accepted.append(
                {
                    "financial_year": row.financial_year,
                    "period_start": row.period_start,
                    "area_code": row.area_code,
                    "la_name_published": row.la_name,
                    "measure": measure,
                    "value": value,
                    "value_status": status,
                    "source_file": row.source_file,
                    "row_number": row.row_number,
                }
            )
    return accepted


def _covers(info: dict[str, object], start_year: int) -> bool:
    """Whether a release covers a financial year: the years its name gives, or else the years
    of its rows."""
    named = info["named"]
    if isinstance(named, NamedYears):
        return named.covers(start_year)
    return start_year in info["years"]  # type: ignore[operator]


def _older_figures_beside_unreadable_lines(
    chosen: dict[tuple[str, int], _Row],
    file_info: dict[str, dict[str, object]],
    rank: Callable[[str], tuple[object, ...]],
) -> list[str]:
    """A newer release with lines that cannot be read (``malformed_row``; their text is
    withheld, so their district and year are unknown) may hold the revised figure of any
    district-year it covers that is loaded from an older release: each such release is named,
    with those figures."""
    warnings = []
    for source_file, info in file_info.items():
        if not info.get("malformed"):
            continue
        older = sorted(
            f"{row.financial_year} {area_code}"
            for (area_code, start_year), row in chosen.items()
            if _covers(info, start_year) and rank(row.source_file) < rank(source_file)
        )
        if older:
            shown = ", ".join(older[:5]) + (f" and {len(older) - 5} more" if len(older) > 5 else "")
            warnings.append(
                f"{SOURCE_ID}: {source_file} has {info['malformed']} line(s) that cannot be read "
                f"(malformed_row), and {len(older)} figure(s) of years it covers are loaded from "
                f"older releases ({shown}): a line that cannot be read may be the newer figure "
                "of one of them"
            )
    return warnings


def _load_log(
    file_info: dict[str, dict[str, object]],
    accepted: list[dict[str, object]],
    set_aside: list[dict[str, object]],
) -> pa.Table:
    """One line per file; accepted rows are counted as distinct source rows, not measures."""
    loaded_rows: dict[str, set[int]] = {}
    for row in accepted:
        loaded_rows.setdefault(str(row["source_file"]), set()).add(int(row["row_number"]))  # type: ignore[call-overload]
    aside_counts = rows_per_file(set_aside)
    lines = []
    for source_file, info in file_info.items():
        years = info.get("years") or []
        period = (
            (_financial_year_start(min(years)), _financial_year_start(max(years) + 1) - ONE_DAY)
            if years
            else (None, None)
        )
        if "rejected" in info:
            lines.append(
                rejected_log_row(SOURCE_ID, source_file, str(info["sha256"]), str(info["rejected"]))
            )
            continue
        counts = (
            int(info["rows_read"]),  # type: ignore[call-overload]
            len(loaded_rows.get(source_file, set())),
            aside_counts.get(source_file, 0),
        )
        lines.append(
            load_log_row(
                SOURCE_ID, source_file, str(info["sha256"]), str(info["encoding"]), period, counts
            )
        )
    return pa.Table.from_pylist(lines, LOAD_LOG_SCHEMA)


def measures() -> list[dict[str, str | None]]:
    return [
        measure_row(
            f"{SOURCE_ID}.{name}",
            SOURCE_ID,
            f"Fly-tipping: {header} (DEFRA)",
            "incidents",
            "financial_year",
        )
        for name, header, _ in COUNT_COLUMNS
    ]


def read_all(raw_dir: Path) -> FileRead:
    read = read_defra_files(discover_files(raw_dir), raw_dir)
    return read.with_warnings(unread_files_warnings(raw_dir, SOURCE_ID, FILE_SUFFIXES))


RECONCILE_SQL = """
SELECT 'defra_flytipping' AS source_id, coalesce(d.period_start, o.period_start) AS period_start,
       coalesce(d.area_code, o.area_code) AS area_code, sum(d.value) AS records,
       sum(o.value) AS observations
FROM defra_flytipping_incidents AS d
FULL JOIN (SELECT * FROM observations WHERE source_id = 'defra_flytipping') AS o
    ON o.measure_id = 'defra_flytipping.' || d.measure
    AND o.area_code = d.area_code AND o.period_start = d.period_start
GROUP BY ALL
HAVING coalesce(sum(d.value), 0) <> coalesce(sum(o.value), 0)
"""

SPEC = SourceSpec(
    source_id=SOURCE_ID,
    title="DEFRA fly-tipping incidents reported by local authorities",
    group="defra_flytipping",
    accepted_schema=ACCEPTED_SCHEMA,
    record_tables=("defra_flytipping_incidents",),
    build_contract=build_contract,
    measures=measures,
    read_all=read_all,
    reconcile_sql=RECONCILE_SQL,
)
