"""One measurement per process: the floor, the national pipeline, the national Home Office table,
or the sample refresh.

Run by the benchmark as ``python -m oscp_pipeline.bench.measure KIND ... --result FILE``; the
figures go to FILE as JSON. Peak memory is this process's own high-water mark (``ru_maxrss``),
which is why each measurement has a process to itself. Package imports happen before the clock
starts and inside the function that needs them, so the floor never pays for Dagster or Great
Expectations; what start-up costs is measured on its own, with the sample refresh.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pyarrow as pa

# The floor: the least work that turns the published files into the monthly counts per district
# and crime type that the warehouse publishes. A bare read_csv (every column as text), the
# district taken from the LSOA name as the pipeline takes it, a crime counted once per Crime ID
# and month, each anti-social behaviour row counted, No Location rows (no district) kept apart.
FLOOR_SQL = """
SELECT
    "Month" AS month,
    nullif(regexp_extract("LSOA name", '^(.*\\S)\\s+[0-9]{3}[A-Z]$', 1), '') AS district,
    "Crime type" AS crime_type,
    count(DISTINCT "Crime ID") + count(*) FILTER (WHERE "Crime ID" IS NULL) AS counted,
    count(*) AS rows
FROM read_csv($files, header = true, all_varchar = true)
GROUP BY ALL
"""


# What keeping the records costs at the least, for comparison: the same files read with every
# column and written to Parquet, with nothing checked, classified or counted.
COPY_SQL = """
COPY (SELECT * FROM read_csv($files, header = true, all_varchar = true, filename = true))
TO $target (FORMAT parquet)
"""


def floor_counts(files: Sequence[Path]) -> pa.Table:
    """Monthly counts per district and crime type, straight from the files (the floor)."""
    with duckdb.connect() as connection:
        connection.execute("SET enable_progress_bar = false")
        relation = connection.sql(FLOOR_SQL, params={"files": [str(path) for path in files]})
        return relation.to_arrow_table()


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_floor(files: Sequence[Path]) -> dict[str, Any]:
    rss_before = peak_rss_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    counts = floor_counts(files)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    located = counts.filter(counts.column("district").is_valid())
    with tempfile.TemporaryDirectory() as scratch, duckdb.connect() as connection:
        connection.execute("SET enable_progress_bar = false")
        copy_start = time.perf_counter()
        connection.execute(
            COPY_SQL,
            {"files": [str(path) for path in files], "target": f"{scratch}/records.parquet"},
        )
        copy_seconds = time.perf_counter() - copy_start
    return {
        "seconds": seconds,
        "copy_seconds": copy_seconds,
        "cpu_seconds": cpu_seconds,
        "rows": sum(counts.column("rows").to_pylist()),
        "counted": sum(located.column("counted").to_pylist()),
        "groups": located.num_rows,
        "districts": len(set(located.column("district").to_pylist())),
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_imports_mb": rss_before,
    }


class PhaseTimer:
    """Seconds spent inside named functions of the real code, by wrapping the module attribute
    the code calls them through; the code itself is unchanged."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, module: ModuleType, name: str, phase: str) -> None:
        original: Callable[..., Any] = getattr(module, name)
        self.seconds[phase] = 0.0
        self.calls[phase] = 0

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - start
                self.calls[phase] += 1

        setattr(module, name, timed)


def measure_pipeline(raw_dir: Path, work_dir: Path) -> dict[str, Any]:
    """The refresh's police_uk ingestion over every quarter present, then the warehouse build,
    with the expectations on: the code the Dagster assets run, without Dagster."""
    import great_expectations  # noqa: F401  imported by the first validation otherwise

    from oscp_pipeline import ingestion, quality, staging, warehouse
    from oscp_pipeline.partitions import partition_key
    from oscp_pipeline.refresh import quarters_to_refresh
    from oscp_pipeline.sources import police_uk

    rss_after_imports = peak_rss_mb()
    timer = PhaseTimer()
    timer.wrap(police_uk, "read_street_files", "read")
    timer.wrap(quality, "audit", "audit")
    timer.wrap(quality, "validate", "gx")
    timer.wrap(staging, "write_partition", "write")
    store = work_dir / "warehouse"
    run_id = "bench"
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    start, cpu_start = time.perf_counter(), time.process_time()
    quarters, _ = quarters_to_refresh(raw_dir, store / "staging")
    batches = []
    rss_by_quarter = []
    for quarter in quarters:
        batch = ingestion.ingest_police_uk_quarter(
            raw_dir, store / "staging", store / "quarantine", partition_key(quarter), run_id,
            loaded_at,
        )  # fmt: skip
        rss_by_quarter.append(peak_rss_mb())
        if batch is not None:
            batches.append(batch)
    ingest_seconds = time.perf_counter() - start

    build_start = time.perf_counter()
    store.mkdir(parents=True, exist_ok=True)
    with warehouse.publishing_lock(store, run_id):
        built = warehouse.build(store / "staging", store, run_id)
        if built.passed:
            warehouse.publish(built.candidate, store)
    build_seconds = time.perf_counter() - build_start
    cpu_seconds = time.process_time() - cpu_start

    logs = [line for batch in batches for line in batch.load_log.to_pylist()]
    reasons: dict[str, int] = {}
    for batch in batches:
        for reason, count in batch.set_aside_by_reason.items():
            reasons[reason] = reasons.get(reason, 0) + count
    return {
        "seconds": ingest_seconds + build_seconds,
        "ingest_seconds": ingest_seconds,
        "build_seconds": build_seconds,
        "cpu_seconds": cpu_seconds,
        "phase_seconds": timer.seconds,
        "phase_calls": timer.calls,
        "quarters": len(quarters),
        "files": len(logs),
        "files_held_back": sum(line["status"] in quality.HELD_BACK_STATUSES for line in logs),
        "rows_read": sum(int(line["rows_read"]) for line in logs),
        "rows_loaded": sum(int(line["rows_loaded"]) for line in logs),
        "rows_set_aside": sum(int(line["rows_set_aside"]) for line in logs),
        "set_aside_by_reason": reasons,
        "batches_quarantined": sum(not batch.passed for batch in batches),
        "invariants_failed": [i.name for i in built.invariants if i.blocking and not i.passed],
        "published": built.passed,
        "warehouse_rows": {
            table: built.row_counts.get(table) for table in ("police_street_crime", "observations")
        },
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_imports_mb": rss_after_imports,
        "peak_rss_by_quarter_mb": rss_by_quarter,
    }


def measure_home_office(raw_dir: Path, work_dir: Path) -> dict[str, Any]:
    """The refresh's Home Office ingestion of ``raw_dir`` (read, audit, stage), as the staged
    asset runs it, without Dagster; the environment sets the national scope."""
    import great_expectations  # noqa: F401  imported by the first validation otherwise
    import pyarrow.compute as pc

    from oscp_pipeline import ingestion, quality
    from oscp_pipeline.sources import home_office_prc

    rss_after_imports = peak_rss_mb()
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    start, cpu_start = time.perf_counter(), time.process_time()
    read = home_office_prc.read_all(raw_dir)
    read_done = time.perf_counter()
    batch = quality.audit(home_office_prc.build_contract(), "all", read)
    check_done = time.perf_counter()
    staged = ingestion.stage_batch(
        work_dir / "staging", work_dir / "quarantine", home_office_prc.SOURCE_ID, batch, "bench",
        loaded_at,
    )  # fmt: skip
    done = time.perf_counter()
    cpu_seconds = time.process_time() - cpu_start

    logs = staged.load_log.to_pylist()
    accepted = batch.read.accepted
    return {
        "seconds": done - start,
        "read_seconds": read_done - start,
        "check_seconds": check_done - read_done,
        "write_seconds": done - check_done,
        "cpu_seconds": cpu_seconds,
        "files": len(logs),
        "files_held_back": len(staged.held_back),
        "rows_read": sum(int(line["rows_read"]) for line in logs),
        "rows_loaded": sum(int(line["rows_loaded"]) for line in logs),
        "rows_set_aside": sum(int(line["rows_set_aside"]) for line in logs),
        "set_aside_by_reason": staged.set_aside_by_reason,
        "csps_loaded": pc.count_distinct(accepted.column("ons_csp_code")).as_py(),
        "quarters_loaded": pc.count_distinct(accepted.column("quarter_start")).as_py(),
        "passed": staged.passed,
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_imports_mb": rss_after_imports,
    }


def measure_sample(log_path: Path) -> dict[str, Any]:
    """``oscp run`` in this process (the environment names the folders), timed from inside.

    Start-up ends when ``oscp_pipeline.definitions`` is imported; Great Expectations is the
    time inside ``quality.validate`` (its import and context included); the steps' durations
    come from the run's own event log; Dagster is the run's time outside its steps.
    """
    import dagster as dg

    import oscp_pipeline.definitions  # noqa: F401  what start-up means: the definitions loaded
    from oscp_pipeline import cli, quality

    ready_at = time.time()
    timer = PhaseTimer()
    timer.wrap(quality, "validate", "gx")
    timer.wrap(cli, "execute_refresh", "run")
    start = time.perf_counter()
    with log_path.open("w") as log, contextlib.redirect_stdout(log):
        exit_code = cli.main(["run"])
    command_seconds = time.perf_counter() - start
    finished_at = time.time()

    instance = dg.DagsterInstance.get()
    run = instance.get_runs(limit=1)[0]
    started: dict[str, float] = {}
    steps: dict[str, float] = {}
    for entry in instance.all_logs(run.run_id):
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            started[entry.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            steps[entry.step_key] = entry.timestamp - started[entry.step_key]
    return {
        "exit_code": exit_code,
        "ready_at": ready_at,
        "finished_at": finished_at,
        "command_seconds": command_seconds,
        "run_seconds": timer.seconds["run"],
        "gx_seconds": timer.seconds["gx"],
        "gx_calls": timer.calls["gx"],
        "step_seconds": steps,
        "peak_rss_mb": peak_rss_mb(),
        "reported_at": time.time(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oscp_pipeline.bench.measure")
    parser.add_argument("kind", choices=("floor", "pipeline", "home_office", "sample"))
    parser.add_argument("--files-from", type=Path, help="floor: a file listing the CSV paths")
    parser.add_argument("--raw", type=Path, help="pipeline, home_office: the raw folder")
    parser.add_argument(
        "--work", type=Path, help="pipeline, home_office: a scratch folder to write to"
    )
    parser.add_argument("--log", type=Path, help="sample: where the command's output goes")
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.kind == "floor":
        files = [Path(line) for line in args.files_from.read_text().splitlines() if line]
        figures = measure_floor(files)
    elif args.kind == "pipeline":
        figures = measure_pipeline(args.raw, args.work)
    elif args.kind == "home_office":
        figures = measure_home_office(args.raw, args.work)
    else:
        figures = measure_sample(args.log)
    args.result.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
