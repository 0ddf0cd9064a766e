"""``make bench``: national ingestion against the floor, and the bundled sample's refresh.

For each month count (3, 6 and 12 by default) the floor and the pipeline run over the same
street files, each in a fresh process; then a generated national Home Office CSP table is read,
checked and staged (a figure without a target), and ``oscp run`` refreshes the bundled sample.
The figures are printed, checked against the targets and written to ``bench/results/``::

    python -m oscp_pipeline.bench [--months 3,6,12] [--data DIR]

``--data DIR`` measures an archive already on disk (``DIR/YYYY-MM/YYYY-MM-<force>-street.csv``,
e.g. real data.police.uk downloads) instead of the generated national data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from oscp_pipeline.bench import (
    DATA_DIR,
    PROJECT_DIR,
    RESULTS_DIR,
    month_folders,
    street_files,
)
from oscp_pipeline.bench.report import (
    cost_ratio,
    home_office_line,
    machine,
    targets,
    text_report,
    write_results,
)
from oscp_pipeline.synthetic import national, national_home_office

CHILD_TIMEOUT_SECONDS = 3600
# Short runs are repeated and the median kept: the machine may be shared.
IMPORT_RUNS = 3
SAMPLE_RUNS = 3


def say(text: str) -> None:
    print(text, flush=True)


def generated_archive(months: int, seed: int, start: str, rows_per_month: int) -> Path:
    """The national data for these settings, generated once into ``bench/data/`` and reused."""
    source, _ = national.districts_by_force(national.default_lookup())
    geography = "ons" if source.startswith("ONS") else "fallback"
    archive = DATA_DIR / (
        f"national-v{national.GENERATOR_VERSION}-seed{seed}-{start}-{rows_per_month}-{geography}"
    )
    start_time = time.perf_counter()
    written = national.generate(archive, months, start, seed, rows_per_month, keep_existing=True)
    if written:
        say(
            f"Generated {len(written)} month(s) of national data in "
            f"{time.perf_counter() - start_time:.0f} s into {archive}"
        )
    else:
        say(f"Using the national data generated earlier in {archive}")
    return archive


def run_child(kind: str, arguments: list[str], env: dict[str, str], work: Path) -> dict[str, Any]:
    """Run one measurement in a fresh process; its figures, or what went wrong."""
    result = work / f"{kind}.json"
    command = [sys.executable, "-m", "oscp_pipeline.bench.measure", kind, *arguments]
    spawned_at = time.time()
    try:
        finished = subprocess.run(
            [*command, "--result", str(result)],
            env=env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"{kind} took longer than {CHILD_TIMEOUT_SECONDS} s"}
    done_at = time.time()
    if finished.returncode != 0 or not result.exists():
        last = (finished.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"{kind} exited with {finished.returncode}: {last[:300]}"}
    figures: dict[str, Any] = json.loads(result.read_text())
    figures.update(spawned_at=spawned_at, done_at=done_at)
    return figures


def measure_national(folders: list[Path], months: int, work: Path) -> dict[str, Any]:
    """The floor, then the pipeline, over the first ``months`` month folders."""
    chosen = folders[:months]
    files = street_files(chosen)
    run: dict[str, Any] = {"months": months, "bytes": sum(p.stat().st_size for p in files)}
    listing = work / "files.txt"
    listing.write_text("\n".join(str(path) for path in files) + "\n")
    raw = work / "raw" / "police_uk"
    raw.mkdir(parents=True)
    for folder in chosen:
        (raw / folder.name).symlink_to(folder.resolve(), target_is_directory=True)
    run["load_average"] = os.getloadavg()[0]
    env = {
        **os.environ,
        "OSCP_SCOPE": "national",
        national.LOOKUP_VARIABLE: str(national.default_lookup()),
    }
    floor = run_child("floor", ["--files-from", str(listing)], env, work)
    if "error" in floor:
        return {**run, "error": floor["error"]}
    pipeline = run_child(
        "pipeline", ["--raw", str(raw.parent), "--work", str(work / "pipeline")], env, work
    )
    if "error" in pipeline:
        return {**run, "error": pipeline["error"]}
    ingest = pipeline["ingest_seconds"]
    return {
        **run,
        "rows": floor["rows"],
        "floor": floor,
        "pipeline": pipeline,
        "ratio": pipeline["seconds"] / floor["seconds"],
        "checking_share": pipeline["phase_seconds"]["audit"] / ingest if ingest else 0.0,
    }


def measure_home_office(seed: int, work: Path) -> dict[str, Any]:
    """The Home Office CSP table for every CSP of the ONS lookup, generated into ``work``, then
    read, checked and staged in a fresh process with the national scope; skipped, saying why,
    without the lookup."""
    lookup = national.default_lookup()
    if not lookup.is_file():
        return {"skipped": f"the ONS area lookup is not available at {lookup}"}
    raw = work / "raw"
    table = national_home_office.generate(raw, lookup, seed)
    run: dict[str, Any] = {
        "seed": seed,
        "csps": table.csps,
        "quarters": table.quarters,
        "offences": table.offences,
        "rows": table.rows,
        "adjustments": table.adjustments,
        "bytes": table.bytes,
        "load_average": os.getloadavg()[0],
    }
    env = {**os.environ, "OSCP_SCOPE": "national", national.LOOKUP_VARIABLE: str(lookup)}
    pipeline = run_child(
        "home_office", ["--raw", str(raw), "--work", str(work / "home_office")], env, work
    )
    if "error" in pipeline:
        return {**run, "error": pipeline["error"]}
    return {**run, "pipeline": pipeline}


def _timed(command: list[str], env: dict[str, str], log: Path) -> tuple[float, int]:
    start = time.perf_counter()
    with log.open("w") as output:
        code = subprocess.run(command, env=env, stdout=output, stderr=subprocess.STDOUT).returncode
    return time.perf_counter() - start, code


def measure_sample(work: Path) -> dict[str, Any]:
    """``oscp run`` on a copy of the bundled sample with a fresh warehouse and Dagster home,
    end to end; then the same refresh again, instrumented, for the split of its time."""
    raw = shutil.copytree(PROJECT_DIR / "data" / "raw", work / "raw")
    env = {k: v for k, v in os.environ.items() if k != "OSCP_SCOPE"}

    def fresh(name: str) -> dict[str, str]:
        home = work / name / "dagster_home"
        home.mkdir(parents=True)
        shutil.copy(PROJECT_DIR / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
        return {
            **env,
            "OSCP_RAW_DIR": str(raw),
            "OSCP_WAREHOUSE_DIR": str(work / name / "warehouse"),
            "DAGSTER_HOME": str(home),
        }

    imports = [
        _timed(
            [sys.executable, "-c", "import oscp_pipeline.definitions"], env, work / "import.log"
        )[0]
        for _ in range(IMPORT_RUNS)
    ]
    oscp = str(Path(sys.executable).with_name("oscp"))
    refreshes = [
        _timed([oscp, "run"], fresh(f"end_to_end_{n}"), work / f"end_to_end_{n}.log")
        for n in range(SAMPLE_RUNS)
    ]

    inside = run_child("sample", ["--log", str(work / "instrumented.log")], fresh("instr"), work)
    figures: dict[str, Any] = {
        "end_to_end_runs": [seconds for seconds, _ in refreshes],
        "end_to_end_seconds": statistics.median(seconds for seconds, _ in refreshes),
        "end_to_end_exit_codes": [code for _, code in refreshes],
        "import_runs": imports,
        "import_seconds": statistics.median(imports),
    }
    if "error" in inside:
        return {**figures, "error": inside["error"]}
    steps = sum(inside["step_seconds"].values())
    gx = inside["gx_seconds"]
    split = {
        "start-up (interpreter, imports, definitions)": inside["ready_at"] - inside["spawned_at"],
        "Dagster (run outside its steps)": inside["run_seconds"] - steps,
        "Great Expectations (inside quality.validate)": gx,
        "data work (steps minus GX, and the summary)": steps
        - gx
        + inside["command_seconds"]
        - inside["run_seconds"],
        "exit": inside["done_at"] - inside["reported_at"],
    }
    return {
        **figures,
        "instrumented": inside,
        "instrumented_seconds": sum(split.values()),
        "split": split,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oscp_pipeline.bench", description=__doc__)
    parser.add_argument("--months", default="3,6,12", help="month counts, e.g. 3,6,12")
    parser.add_argument("--data", type=Path, help="an archive of street files to measure instead")
    parser.add_argument("--seed", type=int, default=national.DEFAULT_SEED)
    parser.add_argument("--start", default=national.DEFAULT_START, help="first generated month")
    parser.add_argument("--rows-per-month", type=int, default=national.ROWS_PER_MONTH)
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    month_counts = sorted({int(part) for part in args.months.split(",") if part.strip()})
    started_at = dt.datetime.now().astimezone()
    load_before = os.getloadavg()[0]

    if args.data:
        archive = args.data.resolve()
        description = f"{archive} (existing archive)"
    else:
        archive = generated_archive(max(month_counts), args.seed, args.start, args.rows_per_month)
        source, districts = national.districts_by_force(national.default_lookup())
        description = (
            f"synthetic, 43 forces, {sum(map(len, districts.values()))} districts ({source}), "
            f"seed {args.seed}, from {args.start}, about {args.rows_per_month:,} rows a month"
        )
    folders = month_folders(archive)
    # Read every file once, so that neither side pays for a cold page cache.
    for path in street_files(folders[: max(month_counts)]):
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass

    national_runs = []
    for months in month_counts:
        if len(folders) < months:
            say(f"{months} months: skipped, {archive} has only {len(folders)} month folder(s)")
            continue
        with tempfile.TemporaryDirectory(prefix=f"oscp-bench-{months}m-") as work:
            run = measure_national(folders, months, Path(work))
        national_runs.append(run)
        if "error" in run:
            say(f"{months} months: failed: {run['error']}")
        else:
            pipeline, floor = run["pipeline"], run["floor"]
            say(
                f"{months} months: {run['rows']:,} rows, pipeline {pipeline['seconds']:.1f} s, "
                f"floor {floor['seconds']:.1f} s ({run['ratio']:.2f}x), "
                f"peak {pipeline['peak_rss_mb']:,.0f} MB"
            )

    with tempfile.TemporaryDirectory(prefix="oscp-bench-home-office-") as work:
        home_office = measure_home_office(args.seed, Path(work))
    say(home_office_line(home_office))

    with tempfile.TemporaryDirectory(prefix="oscp-bench-sample-") as work:
        sample = measure_sample(Path(work))
    say("Bundled sample refresh measured")

    finished_at = dt.datetime.now().astimezone()
    results: dict[str, Any] = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "command": "make bench "
        + (f"BENCH_DATA={args.data} " if args.data else "")
        + f"BENCH_MONTHS={','.join(map(str, month_counts))}",
        "machine": machine(),
        "load_average": {"before": load_before, "after": os.getloadavg()[0]},
        "data": {"archive": str(archive), "description": description},
        "national": national_runs,
        "home_office": home_office,
        "sample": sample,
    }
    results["cost_ratio_12_to_3"] = cost_ratio(national_runs)
    results["targets"] = [{**vars(t), "verdict": t.verdict} for t in targets(national_runs, sample)]
    say("")
    say(text_report(results))
    for path in write_results(results, args.results):
        say(f"Wrote {path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
