"""Build the ``scorecard`` and ``scorecard_latest`` tables from a warehouse's observations.

Reads ``observations`` and the dimensions from an open DuckDB connection, computes every figure
with the pure functions in :mod:`oscp_pipeline.scorecard.stats`, and writes the two tables back.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import duckdb
import pandas as pd

from oscp_pipeline.scope import is_partnership_area
from oscp_pipeline.scorecard import stats

# (column, DuckDB type) in table order; the first fourteen are the original scorecard.
SCORECARD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("indicator_id", "VARCHAR"),
    ("indicator_name", "VARCHAR"),
    ("area_code", "VARCHAR"),
    ("area_name", "VARCHAR"),
    ("area_type", "VARCHAR"),
    ("quarter_start", "DATE"),
    ("fy_quarter", "VARCHAR"),
    ("financial_year", "VARCHAR"),
    ("value", "DOUBLE"),
    ("value_same_quarter_last_year", "DOUBLE"),
    ("change", "DOUBLE"),
    ("change_pct", "DOUBLE"),
    ("series_break", "BOOLEAN"),
    ("polarity", "VARCHAR"),
    ("value_status", "VARCHAR"),
    ("value_ytd", "DOUBLE"),
    ("value_ytd_last_year", "DOUBLE"),
    ("change_ytd", "DOUBLE"),
    ("change_ytd_pct", "DOUBLE"),
    ("value_rolling_12m", "DOUBLE"),
    ("population", "BIGINT"),
    ("population_is_estimate", "BOOLEAN"),
    ("rate_per_1000", "DOUBLE"),
    ("baseline", "DOUBLE"),
    ("target_change_pct", "DOUBLE"),
    ("rag", "VARCHAR"),
    ("direction", "VARCHAR"),
    ("p_value", "DOUBLE"),
    ("sufficient_history", "BOOLEAN"),
    ("control_lower", "DOUBLE"),
    ("control_upper", "DOUBLE"),
    ("exception", "VARCHAR"),
    ("suppressed", "BOOLEAN"),
    ("notes", "VARCHAR"),
)

Cell = tuple[str | None, float | None]  # (value_status, value)


def quarter_of(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def shift_quarters(quarter: dt.date, quarters: int) -> dt.date:
    index = quarter.year * 12 + quarter.month - 1 + 3 * quarters
    return dt.date(index // 12, index % 12 + 1, 1)


def fy_start(quarter: dt.date) -> int:
    return quarter.year if quarter.month >= 4 else quarter.year - 1


def fy_quarter_number(quarter: dt.date) -> int:
    return (quarter.month + 8) % 12 // 3 + 1


def financial_year_label(start_year: int) -> str:
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def combine(cells: list[Cell]) -> Cell:
    """Add cells: any not_available makes the total unknown; all not_applicable stays so; a mix
    of reported and not_applicable is the reported part, marked partly_not_applicable."""
    statuses = {status for status, _ in cells}
    if "not_available" in statuses:
        return "not_available", None
    if statuses == {"not_applicable"}:
        return "not_applicable", None
    value = float(sum(v for _, v in cells if v is not None))
    if statuses == {"reported"}:
        return "reported", value
    return PART_QUARTER, value


# A quarter in which the measure began or ended counts only part of it: comparing it with a
# whole quarter would show a change that is only the missing months.
PART_QUARTER = "partly_not_applicable"


def total(series: dict[dt.date, Cell], quarters: list[dt.date]) -> float | None:
    """Sum over quarters, or None unless every one of them has a value."""
    values = [series.get(q, (None, None))[1] for q in quarters]
    if any(v is None for v in values):
        return None
    return float(sum(values))  # type: ignore[arg-type]


def base_cells(
    observations: pd.DataFrame, indicator_measures: dict[str, list[str]]
) -> dict[tuple[str, str, dt.date], Cell]:
    """Each indicator's value per source area and complete quarter (all months, all measures)."""
    per_measure: dict[tuple[str, str, dt.date], dict[dt.date, Cell]] = defaultdict(dict)
    grains: dict[str, str] = {}
    for row in observations.itertuples(index=False):
        start = row.period_start
        start = start.date() if hasattr(start, "date") else start
        value = None if pd.isna(row.value) else float(row.value)
        per_measure[(row.measure_id, row.area_code, quarter_of(start))][start] = (
            row.value_status,
            value,
        )
        grains[row.measure_id] = row.period_grain
    complete: dict[tuple[str, str, dt.date], Cell] = {}
    for (measure, area, quarter), periods in per_measure.items():
        needed = 3 if grains[measure] == "month" else 1
        if len(periods) == needed:
            complete[(measure, area, quarter)] = combine(list(periods.values()))
    cells: dict[tuple[str, str, dt.date], Cell] = {}
    areas_quarters = {(area, quarter) for _, area, quarter in complete}
    for indicator, measures in indicator_measures.items():
        for area, quarter in areas_quarters:
            parts = [complete.get((m, area, quarter)) for m in measures]
            if all(part is not None for part in parts):
                cells[(indicator, area, quarter)] = combine(parts)  # type: ignore[arg-type]
    return cells


def parent_areas(area: str, areas: dict[str, dict[str, Any]]) -> list[str]:
    """The totals an area adds to: a district to its CSP and the county; unallocated counts and
    CSPs (for sources published by CSP) to the county only."""
    info = areas[area]
    parents = [info["county_code"]]
    if info["area_type"] == "district":
        parents.insert(0, info["csp_code"])
    return [parent for parent in parents if parent]


def roll_up(
    cells: dict[tuple[str, str, dt.date], Cell], areas: dict[str, dict[str, Any]]
) -> dict[tuple[str, str, dt.date], Cell]:
    """Source cells plus CSP and county totals, each total only when all its parts are known.

    The parts of a total are every area under it of each area type the indicator has figures
    for in any quarter: all its districts for a source published by district (all its CSPs for
    one published by CSP), and for the county also the unallocated count when the source has
    one. A source that places some counts in no district (Stop Hate UK, Thames Valley Police
    hate crime and domestic abuse) gives the unallocated area a figure, 0 included, in every
    month it delivers; one that never does (a council's own complaints) has no unallocated part
    to wait for. When a part has no figure for the quarter (a council's file not delivered or
    held back), the total is kept as not_available with no value: the sum of the parts that did
    arrive would understate it. Every total the indicator has is kept for each of its quarters,
    even one none of whose parts arrived, so that a report shows it as not available rather
    than as an empty cell, and every total of the partnership's (the county and its CSPs), even
    one none of whose parts ever arrived (a council that has never delivered). Any other total
    (with the national scope, another CSP) is the indicator's only when one of its parts has a
    figure in some quarter: a partner's extract covers the partnership's districts alone.
    """
    area_types: dict[str, set[str]] = defaultdict(set)
    quarters: dict[str, set[dt.date]] = defaultdict(set)
    covered: set[tuple[str, str]] = set()
    children: dict[tuple[str, str, dt.date], list[Cell]] = defaultdict(list)
    for (indicator, area, quarter), cell in cells.items():
        area_types[indicator].add(areas[area]["area_type"])
        quarters[indicator].add(quarter)
        for parent in parent_areas(area, areas):
            children[(indicator, parent, quarter)].append(cell)
            covered.add((indicator, parent))
    partnership = {code for code, info in areas.items() if is_partnership_area(info)}
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for indicator, kinds in area_types.items():
        for area, info in areas.items():
            if info["area_type"] in kinds:
                for parent in parent_areas(area, areas):
                    if parent in partnership or (indicator, parent) in covered:
                        expected[(indicator, parent)] += 1
    result = dict(cells)
    for (indicator, parent), needed in expected.items():
        for quarter in sorted(quarters[indicator]):
            parts = children.get((indicator, parent, quarter), [])
            total = combine(parts) if len(parts) == needed else ("not_available", None)
            result.setdefault((indicator, parent, quarter), total)
    return result


# Reasons a delivered row is set aside without leaving out a record the figure should count.
# Every other reason (a date, district, band, category or count that cannot be read, a line
# whose fields do not line up, a file that failed its checks ...) may hide a real record.
ROUTINE_SET_ASIDE = (
    "superseded",  # a later delivery of the same period is loaded and counts the record
    "duplicate_row",  # the same key is already loaded from another row
    "duplicate_crime_id",  # the Crime ID is already counted for the month
    "duplicate_reference",  # the Reference is already counted
    "no_location",  # published without a location: no district's record, by the publisher
    "outside_area",  # a record of an area outside the partnership's
    "after_repeal",  # a section 27 direction cannot exist after the power's repeal
    "totals_line",  # a totals line, not a record: the rows it adds up are read
    "aggregate_row",  # a national or regional total, not an area's figure
)

# Set-aside rows that may hide a record, per indicator, quarter and reason (see
# ``set_aside_counts``). A row's own quarter is read only from a file covering several
# quarters, from its ``Financial Year`` (2013/14) and ``Financial Quarter`` (1 to 4): the Home
# Office table is the only such delivery of a quarterly or monthly measure. A street-level
# police row whose ``Crime type`` is known counts only for the indicators of that crime type
# (and all crime, unless it is anti-social behaviour); one whose crime type cannot be read
# counts for every indicator of the source. A Home Office row counts only for its CSP (when
# its ``CSP Name`` is one the table's loaded rows have) and the totals it adds to, and only
# for the offence group of its ``Offence Code`` and all recorded crime (when it has a code).
SET_ASIDE_SQL = r"""
WITH files AS (
    SELECT source_id, source_file,
           date_trunc('quarter', period_start)::DATE AS first_quarter,
           date_trunc('quarter', period_end)::DATE AS last_quarter
    FROM load_log
    WHERE period_start IS NOT NULL AND period_end IS NOT NULL
),
placed AS (
    SELECT s.source_id, s.source_file, s.row_number, s.reason_code, f.first_quarter,
           f.last_quarter, t.crime_type AS row_crime_type, csp.area_code AS row_area,
           CASE WHEN s.source_id = 'home_office_prc' AND json_valid(s.record)
                THEN nullif(stripped(s.record ->> 'Offence Code'), '') END AS row_offence,
           CASE WHEN f.first_quarter < f.last_quarter AND json_valid(s.record) THEN (
               make_date(try_cast(regexp_extract(s.record ->> 'Financial Year',
                                                 '^\s*(\d{4})[/-]\d{2}\s*$', 1) AS INTEGER), 4, 1)
               + to_months(3 * (try_cast(regexp_extract(s.record ->> 'Financial Quarter',
                                                        '^\s*[Qq]?([1-4])\s*$', 1) AS INTEGER)
                                - 1))
           )::DATE END AS row_quarter
    FROM set_aside AS s
    JOIN files AS f USING (source_id, source_file)
    LEFT JOIN dim_crime_type AS t
        ON s.source_id = 'police_uk' AND json_valid(s.record)
        AND t.crime_type_published = trim(s.record ->> 'Crime type')
    LEFT JOIN (SELECT DISTINCT csp_name_published, area_code FROM home_office_prc) AS csp
        ON s.source_id = 'home_office_prc' AND json_valid(s.record)
        AND csp.csp_name_published = stripped(s.record ->> 'CSP Name')
    WHERE s.reason_code = 'superseded' OR NOT list_contains($routine, s.reason_code)
),
attributed AS (
    SELECT DISTINCT source_id, source_file, row_number, reason_code, row_crime_type, row_area,
           row_offence, quarter_start::DATE AS quarter_start
    FROM (
        SELECT *, unnest(
            CASE WHEN row_quarter BETWEEN first_quarter AND last_quarter THEN [row_quarter]
                 ELSE generate_series(first_quarter, last_quarter, INTERVAL 3 MONTH)::DATE[]
            END) AS quarter_start
        FROM placed
    )
),
replaced AS (
    SELECT DISTINCT source_id, source_file, quarter_start
    FROM attributed WHERE reason_code = 'superseded'
),
indicator_measures AS (
    SELECT im.indicator_id, m.measure_id, m.source_id, m.crime_type
    FROM dim_indicator_measure AS im
    JOIN dim_measure AS m USING (measure_id)
),
not_crime AS (
    SELECT crime_type FROM dim_measure WHERE measure_id = 'police_uk.anti_social_behaviour'
),
offence_measures AS (
    SELECT 'home_office_prc.' || measure AS measure_id, offence_code FROM ref_offence_groups
)
SELECT i.indicator_id, a.quarter_start, a.reason_code, a.row_area,
       count(DISTINCT (a.source_id, a.source_file, a.row_number)) AS rows_set_aside
FROM attributed AS a
ANTI JOIN replaced AS r USING (source_id, source_file, quarter_start)
JOIN indicator_measures AS i
    ON i.source_id = a.source_id
    AND (a.row_crime_type IS NULL
         OR i.crime_type = a.row_crime_type
         OR (i.crime_type IS NULL AND a.row_crime_type NOT IN (SELECT crime_type FROM not_crime)))
    AND (a.row_offence IS NULL
         OR i.measure_id = 'home_office_prc.all_recorded_crime'
         OR EXISTS (SELECT 1 FROM offence_measures AS o
                    WHERE o.measure_id = i.measure_id AND o.offence_code = a.row_offence))
WHERE a.reason_code <> 'superseded'
GROUP BY ALL
"""

# Set-aside counts of an indicator and quarter: {area the rows are of, or None for rows that
# may be of any area: {reason_code: rows}}.
SetAsideByArea = dict[str | None, dict[str, int]]


def set_aside_counts(
    connection: duckdb.DuckDBPyConnection,
) -> dict[tuple[str, dt.date], SetAsideByArea]:
    """Rows of the delivered files set aside for a reason that may hide a record, per indicator,
    quarter and area: {(indicator, quarter): {area or None: {reason_code: rows}}}.

    A row counts for every indicator with a measure of its source (a street-level police row
    of a known crime type: only those of its crime type; a Home Office row: only those of its
    offence), in the quarter it belongs to, once, and for its area (a Home Office row: its CSP,
    when known) or, when its area is not known, for every area.
    A file covering one quarter (or a month of it) gives that quarter. A file
    covering several (the Home Office table) gives the row's own quarter when its record names
    one inside the file's period; otherwise (a year or quarter that cannot be read, or lies
    outside the file) the row may belong to any quarter of the file, so it counts in each. A
    file's rows for a quarter a later delivery replaced (it has ``superseded`` rows there) are
    not counted: the later delivery's own set-aside rows are.
    """
    # Home Office values were trimmed as Python's str.strip does (tabs and Unicode spaces too),
    # which DuckDB's trim() does not.
    connection.execute(
        "CREATE OR REPLACE TEMP MACRO stripped(t) AS "
        "regexp_replace(t, '^[\\s\\p{Z}]+|[\\s\\p{Z}]+$', '', 'g')"
    )
    counts: dict[tuple[str, dt.date], SetAsideByArea] = defaultdict(dict)
    rows = connection.execute(SET_ASIDE_SQL, {"routine": list(ROUTINE_SET_ASIDE)}).fetchall()
    for indicator, quarter, reason_code, area, count in rows:
        counts[(indicator, quarter)].setdefault(area, {})[reason_code] = int(count)
    return dict(counts)


def set_aside_reasons(
    by_area: SetAsideByArea, area: str, areas: dict[str, dict[str, Any]]
) -> dict[str, int]:
    """The set-aside rows that bear on ``area``'s figure: those of any area, of the area
    itself, and of the areas it adds up."""
    reasons: dict[str, int] = defaultdict(int)
    for row_area, counts in by_area.items():
        if row_area is None or row_area == area or area in parent_areas(row_area, areas):
            for reason_code, rows in counts.items():
                reasons[reason_code] += rows
    return dict(reasons)


def set_aside_note(reasons: dict[str, int]) -> str:
    """The caveat on a reported figure some delivered rows of whose quarter were set aside."""
    listed = ", ".join(
        f"{code} {count}" for code, count in sorted(reasons.items(), key=lambda r: (-r[1], r[0]))
    )
    return (
        f"{sum(reasons.values())} delivered row(s) for this quarter were set aside ({listed}) "
        "and are not counted: the figure may be understated; see set_aside"
    )


def build_scorecard(connection: duckdb.DuckDBPyConnection) -> None:
    """Create ``scorecard`` and ``scorecard_latest`` in the connected warehouse."""
    indicators = {
        row["indicator_id"]: row
        for row in connection.sql("SELECT * FROM dim_indicator").df().to_dict("records")
    }
    indicator_measures: dict[str, list[str]] = defaultdict(list)
    for indicator, measure in connection.sql(
        "SELECT indicator_id, measure_id FROM dim_indicator_measure ORDER BY ALL"
    ).fetchall():
        indicator_measures[indicator].append(measure)
    targets = {
        (indicator, year): pct
        for indicator, year, pct in connection.sql(
            "SELECT indicator_id, financial_year, target_change_pct FROM dim_indicator_target"
        ).fetchall()
    }
    area_rows = connection.sql("SELECT * FROM dim_area ORDER BY sort_order").df()
    areas = {  # in report order; blank codes as None
        row["area_code"]: {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in area_rows.to_dict("records")
    }
    population = {
        (area, year): (int(pop), bool(estimate))
        for area, year, pop, estimate in connection.sql(
            "SELECT area_code, year, population, is_estimate FROM dim_population"
        ).fetchall()
    }
    breaks: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    for measure, date, description in connection.sql(
        "SELECT measure_id, break_date, description FROM series_break ORDER BY break_date"
    ).fetchall():
        breaks[measure].append((date, description))
    observations = connection.sql(
        """
        SELECT measure_id, area_code, period_start, period_grain, value, value_status
        FROM observations
        WHERE period_grain IN ('month', 'quarter')
          AND measure_id IN (SELECT measure_id FROM dim_indicator_measure)
        """
    ).df()

    cells = roll_up(base_cells(observations, indicator_measures), areas)
    rows = scorecard_rows(
        cells,
        indicators,
        indicator_measures,
        targets,
        areas,
        population,
        breaks,
        set_aside_counts(connection),
    )
    frame = pd.DataFrame(rows, columns=[name for name, _ in SCORECARD_COLUMNS])
    columns = ", ".join(f"{name} {kind}" for name, kind in SCORECARD_COLUMNS)
    connection.execute(f"CREATE TABLE scorecard ({columns})")
    connection.register("scorecard_frame", frame)
    connection.execute("INSERT INTO scorecard BY NAME SELECT * FROM scorecard_frame")
    connection.unregister("scorecard_frame")
    connection.execute(
        """
        CREATE TABLE scorecard_latest AS
        SELECT s.* FROM scorecard AS s
        JOIN (SELECT indicator_id, max(quarter_start) AS quarter_start
              FROM scorecard GROUP BY ALL) AS latest USING (indicator_id, quarter_start)
        ORDER BY s.indicator_id, (SELECT sort_order FROM dim_area AS a
                                  WHERE a.area_code = s.area_code)
        """
    )


def district_members(areas: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """The districts whose populations make up each area's population."""
    members: dict[str, list[str]] = {}
    for code, info in areas.items():
        kind = info["area_type"]
        if kind == "district":
            members[code] = [code]
        elif kind == "csp":
            members[code] = [d for d, i in areas.items() if i["csp_code"] == code]
        elif kind == "county":
            members[code] = [
                d for d, i in areas.items() if i["area_type"] == "district" and i["county_code"]
            ]
    return members


def area_population(
    area: str,
    year: int,
    members: dict[str, list[str]],
    population: dict[tuple[str, int], tuple[int, bool]],
) -> tuple[int | None, bool | None]:
    districts = members.get(area)
    if not districts or any((d, year) not in population for d in districts):
        return None, None
    figures = [population[(d, year)] for d in districts]
    return sum(p for p, _ in figures), any(e for _, e in figures)


def published_sums(areas: dict[str, dict[str, Any]], present: set[str]) -> list[stats.Equation]:
    """The sums a reader can check in one indicator's quarter, among the areas ``present``: each
    CSP = its districts; the county = its CSPs and unallocated counts; the county = its districts
    and unallocated counts. They share cells, so suppression must satisfy all of them at once;
    CSPs come first so that complements are found inside a CSP before across the county."""

    def under(parent: str, key: str, kind: str) -> list[str]:
        return [
            code
            for code, info in areas.items()
            if code in present and info["area_type"] == kind and info[key] == parent
        ]

    csp_sums = [
        (code, under(code, "csp_code", "district"))
        for code, info in areas.items()
        if code in present and info["area_type"] == "csp"
    ]
    county_sums = [
        (code, parts + under(code, "county_code", "unallocated"))
        for code, info in areas.items()
        if code in present and info["area_type"] == "county"
        for parts in (under(code, "county_code", "csp"), under(code, "county_code", "district"))
        if parts
    ]
    return [(total, parts) for total, parts in csp_sums + county_sums if parts]


def suppression_for(
    cells: dict[tuple[str, str, dt.date], Cell],
    indicators: dict[str, dict[str, Any]],
    areas: dict[str, dict[str, Any]],
) -> dict[tuple[str, str, dt.date], str]:
    """Suppressed cells of small_numbers indicators: {(indicator, area, quarter): kind}, with
    every published sum of the quarter protected together (see :func:`stats.suppress`)."""
    present: dict[tuple[str, dt.date], dict[str, float | None]] = defaultdict(dict)
    for (indicator, area, quarter), (_, value) in cells.items():
        if indicators[indicator]["suppression"] == "small_numbers":
            present[(indicator, quarter)][area] = value
    result: dict[tuple[str, str, dt.date], str] = {}
    for (indicator, quarter), values in sorted(present.items()):
        equations = published_sums(areas, set(values))
        for area, kind in stats.suppress(values, equations, order=list(areas)).items():
            result[(indicator, area, quarter)] = kind
    return result


SUPPRESSION_NOTES = {
    "primary": "Small number (1 to 4): withheld in published outputs",
    "secondary": "Withheld in published outputs so that a small number elsewhere in the CSP or "
    "county cannot be worked out from the totals",
    "total": "Withheld in published outputs: the figures it adds up are all withheld (for a "
    "single-district CSP, it is the district's figure)",
}


def scorecard_rows(
    cells: dict[tuple[str, str, dt.date], Cell],
    indicators: dict[str, dict[str, Any]],
    indicator_measures: dict[str, list[str]],
    targets: dict[tuple[str, str], float],
    areas: dict[str, dict[str, Any]],
    population: dict[tuple[str, int], tuple[int, bool]],
    breaks: dict[str, list[tuple[dt.date, str]]],
    set_aside: dict[tuple[str, dt.date], SetAsideByArea] | None = None,
) -> list[dict[str, Any]]:
    """One row per reported indicator, area and quarter, in report order.

    ``set_aside`` (from :func:`set_aside_counts`) adds a caveat to each area's reported figure
    of an indicator and quarter some of whose delivered rows were set aside: the figure is
    still the best available, so its value and status are kept. The caveat comes first in
    ``notes``, so that a report splitting them at a known footnote's start keeps it whole.
    """
    series: dict[tuple[str, str], dict[dt.date, Cell]] = defaultdict(dict)
    for (indicator, area, quarter), cell in cells.items():
        series[(indicator, area)][quarter] = cell
    members = district_members(areas)
    suppressed = suppression_for(cells, indicators, areas)
    rows = []
    for (indicator_id, area), quarters in series.items():
        indicator = indicators[indicator_id]
        info = areas[area]
        levels = indicator["area_levels"].split(",")
        level = "district" if info["area_type"] == "unallocated" else info["area_type"]
        if level not in levels:
            continue
        polarity = indicator["polarity"]
        min_history = int(indicator["min_history"])
        for quarter in sorted(quarters):
            status, value = quarters[quarter]
            fy = fy_start(quarter)
            fq = fy_quarter_number(quarter)
            last_year = shift_quarters(quarter, -4)
            previous_status, previous = quarters.get(last_year, (None, None))
            like_for_like = PART_QUARTER not in (status, previous_status)
            ytd = [shift_quarters(dt.date(fy, 4, 1), i) for i in range(fq)]
            ytd_last = [shift_quarters(q, -4) for q in ytd]
            value_ytd = total(quarters, ytd)
            value_ytd_last = total(quarters, ytd_last)
            rolling = [shift_quarters(quarter, -k) for k in range(4)]
            value_rolling = total(quarters, rolling)
            ytd_like_for_like = all(
                quarters.get(q, (None, None))[0] != PART_QUARTER for q in ytd + ytd_last
            )
            # A series break makes the quarters before it another measure: the history that
            # judges this quarter's value starts at the indicator's latest break up to it. A
            # quarter in which the measure did not exist (after a series ended) or existed only
            # part of the time is never judged, so it keeps the series' whole history.
            breaks_so_far = [
                date
                for measure in indicator_measures[indicator_id]
                for date, _ in breaks.get(measure, [])
                if date < shift_quarters(quarter, 1)
            ]
            judged = status not in ("not_applicable", PART_QUARTER)
            history_from = max(breaks_so_far, default=None) if judged else None
            history = [
                (fy_quarter_number(q), v)
                for q, (kind, v) in sorted(quarters.items())
                if q < quarter
                and kind == "reported"
                and (history_from is None or q >= history_from)
            ]
            sufficient = len(history) >= min_history
            baseline_quarters = [shift_quarters(quarter, -4 * k) for k in (1, 2, 3)]
            baseline_cells = [quarters.get(q, (None, None)) for q in baseline_quarters]
            baseline = (
                sum(v for _, v in baseline_cells) / 3  # type: ignore[misc]
                if all(kind == "reported" for kind, _ in baseline_cells)
                and (history_from is None or min(baseline_quarters) >= history_from)
                else None
            )
            pop, estimate = area_population(area, fy, members, population)
            target = targets.get((indicator_id, financial_year_label(fy)))
            change_ytd = (
                None
                if value_ytd is None or value_ytd_last is None or not ytd_like_for_like
                else value_ytd - value_ytd_last
            )
            change_ytd_pct = (
                stats.change_pct(value_ytd, value_ytd_last) if ytd_like_for_like else None
            )
            # The year to date compared starts last April, so a break since then makes the
            # year-to-date change (which the RAG rates) unlike for like, even when the quarters
            # compared are both after it. Nothing is tested or rated across a break.
            spanned = [
                (date, description)
                for measure in indicator_measures[indicator_id]
                for date, description in breaks.get(measure, [])
                if dt.date(fy - 1, 4, 1) < date < shift_quarters(quarter, 1)
            ]
            quarter_spans_break = any(date > last_year for date, _ in spanned)
            change_ytd_pct_for_rag = (
                change_ytd_pct if status == "reported" and not spanned else None
            )
            # Home Office figures net off crimes later cancelled, so a quarter can be negative:
            # not a count, so no Poisson test applies to it (and no % change on it as a base).
            counts = value is not None and value >= 0
            previous_counts = previous is None or previous >= 0
            notes = []
            by_area = (set_aside or {}).get((indicator_id, quarter), {})
            reasons = set_aside_reasons(by_area, area, areas)
            if status == "reported" and reasons:
                notes.append(set_aside_note(reasons))
            p_value = direction = lower = upper = flag = None
            if status == "reported" and sufficient and counts:
                comparable = like_for_like and not quarter_spans_break and previous_counts
                if previous is not None and comparable:
                    p_value = stats.poisson_comparison_p_value(value, previous)
                    direction = stats.direction(value, previous, p_value, polarity)
                centre = stats.seasonal_centre(history, fq)
                if centre >= 0:
                    lower, upper = stats.control_limits(centre)
                    flag = stats.exception(value, lower, upper)
            if status == "reported" and not counts:
                notes.append(
                    "A negative figure (more crimes cancelled than recorded) is not a count: "
                    "no significance or exception test"
                )
            if status == "reported" and not previous_counts:
                notes.append(
                    "The same quarter last year is negative (more crimes cancelled than "
                    "recorded): no change % or significance test on it"
                )
            if status == "not_available":
                notes.append("Not available: a month or an area of this quarter was not supplied")
            elif status == "not_applicable":
                notes.append("Not applicable: the measure did not exist in this quarter")
            elif status == PART_QUARTER:
                notes.append(
                    "Part of the quarter is not applicable (the measure ended or began within "
                    "it): the value counts only the months it existed, and is not tested"
                )
            if status == "reported" and previous_status == PART_QUARTER:
                notes.append(
                    "The same quarter last year counts only the months the measure existed: no "
                    "change on it is given or tested"
                )
            if value_ytd is not None and value_ytd_last is not None and not ytd_like_for_like:
                notes.append(
                    "The years to date compared include a quarter that counts only part of its "
                    "months: no year-to-date change or RAG"
                )
            if value_rolling is not None and any(quarters[q][0] == PART_QUARTER for q in rolling):
                notes.append(
                    "The rolling 12 months include a quarter that counts only part of its "
                    "months: they are not a full year of the measure"
                )
            for date, description in spanned:
                since = (
                    "the same quarter last year"
                    if date > last_year
                    else f"the start of the year to date compared (April {fy - 1})"
                )
                notes.append(f"Series break since {since}: {description}")
            if spanned and status == "reported":
                notes.append(
                    "Comparisons across a series break are not like for like: no significance "
                    "test "
                    + ("or RAG" if quarter_spans_break else "on the year to date, and no RAG")
                )
            if not sufficient:
                since_break = (
                    f" since the series break of {history_from.day} {history_from:%B %Y}"
                    if history_from
                    else ""
                )
                notes.append(
                    f"fewer than {min_history} quarters of history{since_break}: no trend, "
                    "exception test or RAG"
                )
            kind = suppressed.get((indicator_id, area, quarter))
            if kind:
                notes.append(SUPPRESSION_NOTES[kind])
            rate = None if value is None or not pop else round(1000 * value / pop, 3)
            if estimate and rate is not None:
                notes.append(
                    f"Rate uses an estimated mid-{fy} population (derived by the partnership, "
                    "not published by ONS for that year)"
                )
            rows.append(
                {
                    "indicator_id": indicator_id,
                    "indicator_name": indicator["indicator_name"],
                    "area_code": area,
                    "area_name": info["area_name"],
                    "area_type": info["area_type"],
                    "quarter_start": quarter,
                    "fy_quarter": f"{financial_year_label(fy)} Q{fq}",
                    "financial_year": financial_year_label(fy),
                    "value": value,
                    "value_same_quarter_last_year": previous,
                    "change": (
                        None
                        if value is None or previous is None or not like_for_like
                        else value - previous
                    ),
                    "change_pct": stats.change_pct(value, previous) if like_for_like else None,
                    "series_break": bool(spanned),
                    "polarity": polarity,
                    "value_status": status,
                    "value_ytd": value_ytd,
                    "value_ytd_last_year": value_ytd_last,
                    "change_ytd": change_ytd,
                    "change_ytd_pct": change_ytd_pct,
                    "value_rolling_12m": value_rolling,
                    "population": pop,
                    "population_is_estimate": estimate,
                    "rate_per_1000": rate,
                    "baseline": baseline,
                    "target_change_pct": target,
                    "rag": stats.rag(change_ytd_pct_for_rag, target, polarity, sufficient),
                    "direction": direction,
                    "p_value": p_value,
                    "sufficient_history": sufficient,
                    "control_lower": lower,
                    "control_upper": upper,
                    "exception": flag,
                    "suppressed": kind is not None,
                    "notes": "; ".join(notes) or None,
                }
            )
    order = {code: i for i, code in enumerate(areas)}
    rows.sort(key=lambda r: (r["indicator_id"], order[r["area_code"]], r["quarter_start"]))
    return rows
