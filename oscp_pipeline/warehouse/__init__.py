"""Build the analysts' DuckDB warehouse privately, audit it, and publish it atomically.

Write-audit-publish: every refresh builds a complete new database file beside the published one
(``.build/``), runs the warehouse invariants on it, and only if they all pass renames it over
``oscp.duckdb``. An analyst holding the published file open keeps reading the old version
undisturbed (the rename never touches the open file), new connections see the new version, and a
refresh that fails or is killed leaves the published file exactly as it was. One refresh at a
time builds and publishes (``publishing_lock``); the next one removes what a killed one left.
The build reads a snapshot of staging, hard links taken under each source's staging lock, so a
refresh staging a source meanwhile cannot change what the build sees half way through.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from oscp_pipeline import staging
from oscp_pipeline.locking import exclusive_lock
from oscp_pipeline.reference import indicator_tables, load_reference_table
from oscp_pipeline.scope import current_scope
from oscp_pipeline.scorecard import build_scorecard
from oscp_pipeline.sources import SOURCES, measure_catalogue
from oscp_pipeline.sources.base import LOAD_LOG_SCHEMA, SET_ASIDE_SCHEMA

PUBLISHED_NAME = "oscp.duckdb"
BUILD_DIR = ".build"
PUBLISHED_MODE = 0o444  # analysts read; the pipeline replaces the file, it never writes into it
LOCK_NAME = ".refresh.lock"
# DuckDB would cache up to 80% of the machine's memory while building; a bounded cache spills
# to disk instead, so a national build fits beside the rest of a refresh.
BUILD_SETTINGS = {"memory_limit": os.environ.get("OSCP_BUILD_MEMORY_LIMIT", "1GB")}

LOAD_LOG_STAGED_SCHEMA = LOAD_LOG_SCHEMA.append(pa.field("loaded_at", pa.timestamp("us"))).append(
    pa.field("run_id", pa.string())
)

# Tables analysts see, in the order docs/warehouse.md documents them.
PUBLISHED_TABLES = (
    "dim_area",
    "dim_population",
    "dim_quarter",
    "dim_crime_type",
    "dim_measure",
    "dim_indicator",
    "dim_indicator_measure",
    "dim_indicator_target",
    "series_break",
    *(table for spec in SOURCES for table in (*spec.record_tables, *spec.extra_tables)),
    "observations",
    "load_log",
    "set_aside",
    "revisions",
    "scorecard",
    "scorecard_latest",
)

OBSERVATION_COLUMNS = (
    "source_id, measure_id, area_code, period_start, period_grain, value, value_status"
)


@dataclass
class InvariantResult:
    """One warehouse invariant, checked on the candidate before it may be published."""

    name: str
    description: str
    passed: bool
    failures: list[dict[str, Any]] = field(default_factory=list)
    blocking: bool = True


@dataclass
class BuildResult:
    """What a build produced: the candidate file, its invariants, and table sizes."""

    candidate: Path
    invariants: list[InvariantResult]
    row_counts: dict[str, int]

    @property
    def passed(self) -> bool:
        """True when every blocking invariant holds; warnings never stop a publish."""
        return all(result.passed for result in self.invariants if result.blocking)


def published_path(warehouse_dir: Path) -> Path:
    return warehouse_dir / PUBLISHED_NAME


def sql_literal(text: str) -> str:
    """Quote a value (e.g. a file path) as a SQL string literal; quotes inside are doubled."""
    return "'" + text.replace("'", "''") + "'"


def _register_staged(
    connection: duckdb.DuckDBPyConnection, snapshot_root: Path, staging_root: Path
) -> None:
    """Expose the snapshot of staged Parquet as tables, empty with the right columns when a
    source has none. Messages name the staged file the snapshot was taken from."""

    def staged_path(path: Path) -> Path:
        return staging_root / path.relative_to(snapshot_root)

    for spec in SOURCES:
        _create_from_parquet(
            connection,
            f"stg_{spec.source_id}_accepted",
            staging.staged_files(snapshot_root, spec.source_id, "accepted"),
            spec.accepted_schema,
            staged_path,
        )
    for part, schema in (("set_aside", SET_ASIDE_SCHEMA), ("load_log", LOAD_LOG_STAGED_SCHEMA)):
        files = [
            path
            for spec in SOURCES
            for path in staging.staged_files(snapshot_root, spec.source_id, part)
        ]
        _create_from_parquet(connection, f"stg_{part}", files, schema, staged_path)


class OutdatedStaging(RuntimeError):
    """Staged files lack a column this version's models read: they were written by an earlier
    version, and building from them would publish the column as blank."""


def _create_from_parquet(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    files: list[Path],
    schema: pa.Schema,
    staged_path: Callable[[Path], Path],
) -> None:
    """A view of staged Parquet files with the staging schema's columns (none when no files).

    A view, not a copy: the models read staging straight from the files, so a national year
    of street-level rows is never held in memory twice. A staged file without one of the
    columns stops the build (``OutdatedStaging``) rather than be read as blanks.
    """
    for path in files:
        missing = [name for name in schema.names if name not in pq.read_schema(path).names]
        if missing:
            raise OutdatedStaging(
                f"{staged_path(path)} was staged by an earlier version of the pipeline and has "
                f"no column {', '.join(missing)}: run the refresh (oscp run, or the "
                "quarterly_refresh job) so that its source is staged again; nothing was published"
            )
    empty = f"{table}_schema"
    connection.register(empty, schema.empty_table())
    scans = [f"SELECT * FROM {empty}"]
    if files:
        file_list = ", ".join(sql_literal(str(path)) for path in files)
        scans.append(f"SELECT * FROM read_parquet([{file_list}])")
    connection.execute(f"CREATE TEMP VIEW {table} AS {' UNION ALL BY NAME '.join(scans)}")


def _register_reference(connection: duckdb.DuckDBPyConnection) -> None:
    tables = {
        "ref_areas": current_scope().areas,
        "ref_partnership_areas": load_reference_table("areas"),
        "ref_population": load_reference_table("population"),
        "ref_crime_types": load_reference_table("crime_types"),
        "ref_series_breaks": load_reference_table("series_breaks"),
        **{f"ref_{name}": table for name, table in indicator_tables().items()},
        "ref_offence_groups": load_reference_table("offence_groups"),
        "ref_measures": pa.Table.from_pylist(measure_catalogue()),
    }
    for name, table in tables.items():
        connection.register(f"{name}_arrow", table)
        connection.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        connection.unregister(f"{name}_arrow")


def _sql(relative: str) -> str:
    return resources.files(__package__).joinpath("sql", relative).read_text(encoding="utf-8")


def _run_models(connection: duckdb.DuckDBPyConnection) -> None:
    """Dimensions, then each source's records and observations, then the marts and scorecard."""
    connection.execute(_sql("dimensions.sql"))
    connection.execute(_sql("common.sql"))
    for spec in SOURCES:
        connection.execute(_sql(f"sources/{spec.source_id}.sql"))
    union = " UNION ALL ".join(
        f"SELECT {OBSERVATION_COLUMNS} FROM obs_{spec.source_id}" for spec in SOURCES
    )
    connection.execute(
        f"CREATE TABLE observations AS {union} "
        "ORDER BY source_id, measure_id, area_code, period_start"
    )
    marts = resources.files(__package__).joinpath("sql", "marts")
    for name in sorted(p.name for p in marts.iterdir() if p.name.endswith(".sql")):
        connection.execute(_sql(f"marts/{name}"))
    build_scorecard(connection)


@contextmanager
def publishing_lock(
    warehouse_dir: Path, run_id: str, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Held while a refresh builds and publishes: a second refresh waits, then builds anew."""
    with exclusive_lock(warehouse_dir / LOCK_NAME, run_id, on_wait=on_wait):
        yield


REVISIONS_SCHEMA = pa.schema(
    [
        ("source_id", pa.string()),
        ("measure_id", pa.string()),
        ("area_code", pa.string()),
        ("period_start", pa.date32()),
        ("period_grain", pa.string()),
        ("previous_value", pa.float64()),
        ("previous_status", pa.string()),
        ("revised_value", pa.float64()),
        ("revised_status", pa.string()),
        ("change", pa.float64()),
        ("deliveries_added", pa.string()),
        ("deliveries_withdrawn", pa.string()),
        ("revised_by_run_id", pa.string()),
        ("revised_at", pa.timestamp("us")),
    ]
)


def _record_revisions(connection: duckdb.DuckDBPyConnection, previous: Path, run_id: str) -> None:
    """``revisions``: the history carried over from the published warehouse, plus every figure
    this refresh changes in it. When the published file cannot be compared (e.g. written by an
    incompatible version), the history restarts and ``revision_history`` says why."""
    connection.register("revisions_schema", REVISIONS_SCHEMA.empty_table())
    connection.execute("CREATE TABLE revisions AS SELECT * FROM revisions_schema")
    connection.unregister("revisions_schema")
    connection.execute("CREATE TEMP TABLE revision_problems (problem VARCHAR)")
    if not previous.exists():
        return
    try:
        connection.execute(f"ATTACH {sql_literal(str(previous))} AS previous (READ_ONLY)")
    except duckdb.Error as error:
        connection.execute(
            "INSERT INTO revision_problems VALUES (?)",
            [f"The published warehouse could not be opened to compare with: {error}"],
        )
        return
    try:
        tables = {
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'previous'"
            ).fetchall()
        }
        if "revisions" in tables:
            connection.execute("INSERT INTO revisions BY NAME SELECT * FROM previous.revisions")
        connection.execute(
            _sql("revisions.sql"),
            {"run_id": run_id, "revised_at": dt.datetime.now(dt.UTC).replace(tzinfo=None)},
        )
    except duckdb.Error as error:
        connection.execute(
            "INSERT INTO revision_problems VALUES (?)",
            [f"The published warehouse could not be compared with: {error}"],
        )
    finally:
        connection.execute("DETACH previous")


def snapshot_staging(
    staging_root: Path,
    snapshot_root: Path,
    run_id: str,
    on_wait: Callable[[str], None] | None = None,
) -> None:
    """Hard-link every source's staged files into ``snapshot_root``, each source under its
    staging lock. Another refresh may stage a source while this one builds: reading staging
    itself, the build could take a file's load log before it was re-staged and its rows after,
    and publish rows no load log accounts for. The snapshot is one state of each source."""
    for spec in SOURCES:
        staging.snapshot_source(staging_root, spec.source_id, snapshot_root, run_id, on_wait)


def build(
    staging_root: Path,
    warehouse_dir: Path,
    run_id: str,
    on_wait: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build a complete candidate warehouse from a snapshot of staging and check its invariants.

    Call with ``publishing_lock`` held: anything else in ``.build/`` is then left by a refresh
    that was killed (a candidate, a snapshot of staging), and is removed.
    """
    build_dir = warehouse_dir / BUILD_DIR
    build_dir.mkdir(parents=True, exist_ok=True)
    candidate = build_dir / f"oscp-{run_id}.duckdb"
    snapshot_root = build_dir / f"staging-{run_id}"
    for leftover in build_dir.iterdir():
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    try:
        snapshot_staging(staging_root, snapshot_root, run_id, on_wait)
        with duckdb.connect(str(candidate), config=BUILD_SETTINGS) as connection:
            _register_reference(connection)
            _register_staged(connection, snapshot_root, staging_root)
            _run_models(connection)
            _record_revisions(connection, published_path(warehouse_dir), run_id)
            invariants = check_invariants(connection)
            row_counts = {
                table: connection.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                for table in PUBLISHED_TABLES
            }
            connection.execute("CHECKPOINT")
    finally:
        shutil.rmtree(snapshot_root, ignore_errors=True)
    return BuildResult(candidate, invariants, row_counts)


def publish(candidate: Path, warehouse_dir: Path) -> Path:
    """Atomically replace the published warehouse with a checked candidate."""
    target = published_path(warehouse_dir)
    os.chmod(candidate, PUBLISHED_MODE)
    os.replace(candidate, target)
    directory = os.open(warehouse_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return target


def discard(candidate: Path) -> None:
    """Remove a candidate that failed its audit; the published warehouse is untouched."""
    candidate.unlink(missing_ok=True)
    candidate.with_suffix(".duckdb.wal").unlink(missing_ok=True)


def _row_accounting_sql() -> str:
    """Files whose counts disagree, both ways: a load log line whose rows are not all in the
    record tables and set_aside, and rows there from a file the load log does not name."""
    counted = {"one": "count(*)", "several": "count(DISTINCT row_number)"}
    loaded = " UNION ALL ".join(
        f"SELECT {sql_literal(spec.source_id)} AS source_id, source_file, "
        f"{counted[records_per_row]} AS n FROM {table} GROUP BY ALL"
        for spec in SOURCES
        for records_per_row in [spec.build_contract().records_per_row]
        for table in spec.record_tables
    )
    return f"""
        WITH loaded AS (
            SELECT source_file, any_value(source_id) AS source_id, sum(n) AS n
            FROM ({loaded}) GROUP BY source_file
        ),
        aside AS (
            SELECT source_file, any_value(source_id) AS source_id, count(*) AS n
            FROM set_aside GROUP BY source_file
        ),
        files AS (
            SELECT source_file FROM load_log
            UNION SELECT source_file FROM loaded
            UNION SELECT source_file FROM aside
        )
        SELECT coalesce(l.source_id, loaded.source_id, aside.source_id) AS source_id,
               f.source_file, l.rows_read, l.rows_loaded, l.rows_set_aside,
               coalesce(loaded.n, 0) AS rows_in_record_tables,
               coalesce(aside.n, 0) AS rows_in_set_aside,
               l.source_file IS NOT NULL AS in_load_log
        FROM files AS f
        LEFT JOIN load_log AS l USING (source_file)
        LEFT JOIN loaded USING (source_file)
        LEFT JOIN aside USING (source_file)
        WHERE l.source_file IS NULL
           OR l.rows_read <> l.rows_loaded + l.rows_set_aside
           OR l.rows_loaded <> coalesce(loaded.n, 0)
           OR l.rows_set_aside <> coalesce(aside.n, 0)
    """


def _reconcile_sql() -> str:
    columns = "source_id, period_start, area_code, records, observations"
    return " UNION ALL ".join(
        f"SELECT {columns} FROM ({spec.reconcile_sql})" for spec in SOURCES if spec.reconcile_sql
    )


INVARIANTS: tuple[tuple[str, str, str], ...] = (
    (
        "row_accounting",
        "For every file, rows read = rows loaded + rows set aside, and the loaded and set-aside "
        "counts equal the rows actually in the record tables and in set_aside; every file with "
        "rows in the record tables or set_aside has its line in load_log.",
        _row_accounting_sql(),
    ),
    (
        "observations_match_records",
        "Each source's observations add up to the records they were counted from.",
        _reconcile_sql(),
    ),
    (
        "observation_keys_unique",
        "One observation per source, measure, area and period: nothing is double counted.",
        """
        SELECT source_id, measure_id, area_code, period_start, count(*) AS copies
        FROM observations GROUP BY ALL HAVING count(*) > 1
        """,
    ),
    (
        "areas_known",
        "Every observation and scorecard row belongs to an area in dim_area.",
        """
        SELECT 'observations' AS table_name, area_code FROM observations
        WHERE area_code NOT IN (SELECT area_code FROM dim_area)
        UNION ALL
        SELECT 'scorecard', area_code FROM scorecard
        WHERE area_code NOT IN (SELECT area_code FROM dim_area)
        """,
    ),
    (
        "county_equals_sum_of_districts",
        "In the scorecard, each CSP equals the sum of its districts, and the county the sum of its "
        "CSPs and of counts whose district is not known (for indicators published by district, "
        "the sum of its districts and unallocated counts too). Cells that are not known are "
        "skipped.",
        """
        WITH parts AS (
            SELECT s.indicator_id, s.quarter_start, a.csp_code AS parent, sum(s.value) AS total,
                   'districts' AS parts
            FROM scorecard AS s JOIN dim_area AS a USING (area_code)
            WHERE s.area_type = 'district' GROUP BY ALL
            UNION ALL
            SELECT s.indicator_id, s.quarter_start, a.county_code, sum(s.value), 'districts'
            FROM scorecard AS s JOIN dim_area AS a USING (area_code)
            WHERE s.area_type IN ('district', 'unallocated') GROUP BY ALL
            HAVING bool_or(s.area_type = 'district')
            UNION ALL
            SELECT s.indicator_id, s.quarter_start, a.county_code, sum(s.value), 'csps'
            FROM scorecard AS s JOIN dim_area AS a USING (area_code)
            WHERE s.area_type IN ('csp', 'unallocated') GROUP BY ALL
            HAVING bool_or(s.area_type = 'csp')
        )
        SELECT s.indicator_id, s.area_code, s.quarter_start, p.parts, s.value, p.total
        FROM scorecard AS s
        JOIN parts AS p
            ON p.parent = s.area_code AND p.indicator_id = s.indicator_id
            AND p.quarter_start = s.quarter_start
        WHERE s.value <> p.total
        """,
    ),
)


WAREHOUSE_WARNING_CHECKS: tuple[tuple[str, str, str], ...] = (
    (
        "revision_history",
        "The published warehouse this refresh replaces could be read, so the figures it changes "
        "are listed in `revisions` and the earlier revisions are carried over.",
        "SELECT problem FROM revision_problems",
    ),
)


def warning_checks() -> list[tuple[str, str, str]]:
    """Checks that inform but do not block: the warehouse's own, and those sources declare
    (e.g. agreement between sources)."""
    return [
        *WAREHOUSE_WARNING_CHECKS,
        *(check for spec in SOURCES for check in spec.warning_checks),
    ]


def check_invariants(connection: duckdb.DuckDBPyConnection) -> list[InvariantResult]:
    """Run every invariant and warning check; each query returns the rows that break it."""
    results = []
    checks = [(*check, True) for check in INVARIANTS] + [(*c, False) for c in warning_checks()]
    for name, description, query, blocking in checks:
        relation = connection.sql(query)
        columns = relation.columns
        failures = [dict(zip(columns, row, strict=True)) for row in relation.limit(50).fetchall()]
        results.append(InvariantResult(name, description, not failures, failures, blocking))
    return results


@contextmanager
def read_only(warehouse_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published warehouse, as analysts open it."""
    connection = duckdb.connect(str(published_path(warehouse_dir)), read_only=True)
    try:
        yield connection
    finally:
        connection.close()
