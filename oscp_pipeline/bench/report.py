"""The benchmark's figures in words: the machine, the tables, the targets and the results files."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("duckdb", "pyarrow", "great-expectations", "dagster", "pandas", "numpy")

# The targets for a 2-core machine (docs/performance.md says why each is what it is).
MAX_RATIO_TO_FLOOR = 1.5
MAX_PEAK_RSS_MB = 2048
MAX_PEAK_GROWTH = 1.25  # "flat": the peak of the largest run within 25% of the smallest
MAX_COST_RATIO_12_TO_3 = 4.4
MAX_SAMPLE_SECONDS = 30.0
MAX_CHECKING_SHARE = 0.30


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu_model = "unknown"
    with Path("/proc/cpuinfo").open() as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with Path("/proc/meminfo").open() as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {
        "host": socket.gethostname(),
        "cpu_model": cpu_model,
        "cpus_usable": len(os.sched_getaffinity(0)),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: metadata.version(name) for name in PACKAGES},
    }


@dataclass
class Target:
    name: str
    limit: str
    measured: str
    passed: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]


def _by_months(runs: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {run["months"]: run for run in runs if "error" not in run}


def targets(runs: list[dict[str, Any]], sample: dict[str, Any] | None) -> list[Target]:
    """Each target with what was measured against it; ``n/a`` when this run could not say."""
    done = _by_months(runs)
    year = done.get(12)
    found: list[Target] = [
        Target(
            "national ingestion + warehouse build, 12 months, vs the floor",
            f"<= {MAX_RATIO_TO_FLOOR}x",
            f"{year['ratio']:.2f}x" if year else "not measured",
            year["ratio"] <= MAX_RATIO_TO_FLOOR if year else None,
        )
    ]
    if done:
        peaks = {months: run["pipeline"]["peak_rss_mb"] for months, run in sorted(done.items())}
        growth = peaks[max(peaks)] / peaks[min(peaks)]
        shown = ", ".join(f"{months}m {peak:,.0f} MB" for months, peak in peaks.items())
        found.append(
            Target(
                "peak memory below 2 GB and flat as months grow",
                f"< {MAX_PEAK_RSS_MB:,} MB; largest/smallest <= {MAX_PEAK_GROWTH}",
                f"{shown}; growth {growth:.2f}",
                max(peaks.values()) < MAX_PEAK_RSS_MB and growth <= MAX_PEAK_GROWTH
                if len(peaks) > 1
                else None,
            )
        )
    cost = cost_ratio(runs)
    found.append(
        Target(
            "12 months cost no more than 4.4x 3 months",
            f"<= {MAX_COST_RATIO_12_TO_3}",
            f"{cost:.2f}" if cost is not None else "not measured",
            cost <= MAX_COST_RATIO_12_TO_3 if cost is not None else None,
        )
    )
    refresh = sample.get("end_to_end_seconds") if sample else None
    succeeded = bool(sample) and not any(sample.get("end_to_end_exit_codes", [1]))
    found.append(
        Target(
            "full refresh of the bundled sample (oscp run), wall, succeeding",
            f"<= {MAX_SAMPLE_SECONDS:.0f} s",
            f"{refresh:.1f} s" + ("" if succeeded else " (the refresh failed)")
            if refresh is not None
            else "not measured",
            refresh <= MAX_SAMPLE_SECONDS and succeeded if refresh is not None else None,
        )
    )
    found.append(
        Target(
            "expectation checking (quality.audit) share of ingestion, 12 months",
            f"<= {MAX_CHECKING_SHARE:.0%}",
            f"{year['checking_share']:.0%}" if year else "not measured",
            year["checking_share"] <= MAX_CHECKING_SHARE if year else None,
        )
    )
    return found


def cost_ratio(runs: list[dict[str, Any]]) -> float | None:
    done = _by_months(runs)
    if 3 in done and 12 in done:
        return done[12]["pipeline"]["seconds"] / done[3]["pipeline"]["seconds"]
    return None


NATIONAL_COLUMNS = (
    ("months", "{:>6}", "months"),
    ("rows", "{:>11,}", "rows"),
    ("MB", "{:>8,.0f}", "megabytes"),
    ("wall s", "{:>8.1f}", "wall"),
    ("rows/s", "{:>9,.0f}", "rows_per_second"),
    ("peak MB", "{:>8,.0f}", "peak_rss_mb"),
    ("floor s", "{:>8.1f}", "floor_seconds"),
    ("x floor", "{:>8.2f}", "ratio"),
    ("check s", "{:>8.1f}", "checking_seconds"),
    ("check %", "{:>8.0%}", "checking_share"),
    ("GX s", "{:>7.1f}", "gx_seconds"),
)


def national_row(run: dict[str, Any]) -> dict[str, Any]:
    """The figures of one month count, flattened for the tables."""
    pipeline, floor = run["pipeline"], run["floor"]
    phases = pipeline["phase_seconds"]
    return {
        "months": run["months"],
        "rows": run["rows"],
        "megabytes": run["bytes"] / 1e6,
        "wall": pipeline["seconds"],
        "rows_per_second": run["rows"] / pipeline["seconds"],
        "peak_rss_mb": pipeline["peak_rss_mb"],
        "floor_seconds": floor["seconds"],
        "ratio": run["ratio"],
        "checking_seconds": phases["audit"],
        "checking_share": run["checking_share"],
        # None when the timer never fired: Great Expectations is no longer called that way.
        "gx_seconds": phases["gx"] if pipeline["phase_calls"]["gx"] else None,
    }


def _cells(run: dict[str, Any]) -> list[str]:
    if "error" in run:
        return [f"{run['months']:>6}", f"  failed: {run['error']}"]
    row = national_row(run)
    return [_cell(fmt, row[key]) for _, fmt, key in NATIONAL_COLUMNS]


def _cell(fmt: str, value: float | None) -> str:
    return fmt.format(value) if value is not None else f"{'n/a':>{len(fmt.format(0))}}"


def text_report(results: dict[str, Any]) -> str:
    """The figures as printed at the end of ``make bench``."""
    lines = [f"National ingestion: {results['data']['description']}", ""]
    widths = [len(fmt.format(0)) for _, fmt, _ in NATIONAL_COLUMNS]
    lines.append(
        " ".join(
            f"{title:>{width}}"
            for (title, _, _), width in zip(NATIONAL_COLUMNS, widths, strict=True)
        )
    )
    lines += [" ".join(_cells(run)) for run in results["national"]]
    lines.append("")
    for run in results["national"]:
        if "error" in run:
            continue
        lines.append(_phases_line(run))
    cost = results.get("cost_ratio_12_to_3")
    if cost is not None:
        lines.append(f"12-month / 3-month wall: {cost:.2f}")
    home_office = results.get("home_office")
    if home_office:
        lines.append(home_office_line(home_office))
    sample = results.get("sample")
    if sample:
        lines += ["", *_sample_lines(sample)]
    lines += ["", "Targets:"]
    for target in results["targets"]:
        lines.append(
            f"  {target['verdict']:<4}  {target['name']}: {target['measured']} "
            f"(target {target['limit']})"
        )
    return "\n".join(lines)


def _reasons_text(pipeline: dict[str, Any]) -> str:
    """Rows set aside by reason, as 'no_location 93,543, ...'."""
    return ", ".join(f"{k} {v:,}" for k, v in sorted(pipeline["set_aside_by_reason"].items()))


def _phases_line(run: dict[str, Any]) -> str:
    pipeline = run["pipeline"]
    phases, calls = pipeline["phase_seconds"], pipeline["phase_calls"]
    reasons = _reasons_text(pipeline)
    return " ".join(
        [
            f"{run['months']:>3} months: read {phases['read']:.1f} s,",
            f"check {phases['audit']:.1f} s (GX {phases['gx']:.1f} s in {calls['gx']} call(s)),",
            f"write {phases['write']:.1f} s, warehouse build {pipeline['build_seconds']:.1f} s",
            f"(ingestion alone {pipeline['ingest_seconds'] / run['floor']['seconds']:.2f}x the",
            "floor);",
            f"loaded {pipeline['rows_loaded']:,} of {pipeline['rows_read']:,} rows",
            f"(floor counts {run['floor']['counted']:,}); set aside: {reasons or 'none'};",
            f"{pipeline['files_held_back']} file(s) held back;",
            f"peak RSS {max(pipeline['peak_rss_by_quarter_mb'], default=0):,.0f} MB after",
            f"ingestion, {pipeline['peak_rss_mb']:,.0f} MB after the build;",
            f"CPU {pipeline['cpu_seconds']:.1f} s (floor {run['floor']['cpu_seconds']:.1f} s);",
            *_copy_floor(run),
            f"load average {run['load_average']:.1f}",
        ]
    )


def home_office_line(run: dict[str, Any]) -> str:
    """The national Home Office CSP table's figures in one line (informational: no target)."""
    title = "National Home Office CSP table"
    if "skipped" in run:
        return f"{title}: skipped, {run['skipped']}"
    table = (
        f"synthetic, {run['csps']} CSPs, {run['quarters']} quarters, {run['offences']} offence "
        f"codes, {run['rows']:,} rows, {run['bytes'] / 1e6:,.0f} MB"
    )
    if "error" in run:
        return f"{title} ({table}): failed: {run['error']}"
    pipeline = run["pipeline"]
    reasons = _reasons_text(pipeline)
    return " ".join(
        [
            f"{title} ({table}): read {pipeline['read_seconds']:.1f} s,",
            f"check {pipeline['check_seconds']:.1f} s, write {pipeline['write_seconds']:.1f} s,",
            f"{pipeline['seconds']:.1f} s in all",
            f"({pipeline['rows_read'] / pipeline['seconds']:,.0f} rows/s),",
            f"peak {pipeline['peak_rss_mb']:,.0f} MB;",
            f"loaded {pipeline['rows_loaded']:,} of {pipeline['rows_read']:,} rows",
            f"({pipeline['csps_loaded']} CSPs), set aside: {reasons or 'none'};",
            "staged" if pipeline["passed"] else "failed its checks and went to quarantine",
        ]
    )


def _copy_floor(run: dict[str, Any]) -> list[str]:
    """What writing every column of every row to Parquet costs on its own (absent from results
    written before it was measured)."""
    copy = run["floor"].get("copy_seconds")
    if copy is None:
        return []
    keeping = run["floor"]["seconds"] + copy
    return [
        f"reading every column into Parquet {copy:.1f} s (floor plus that {keeping:.1f} s,",
        f"pipeline {run['pipeline']['seconds'] / keeping:.2f}x it);",
    ]


def _sample_lines(sample: dict[str, Any]) -> list[str]:
    if "error" in sample:
        return [f"Bundled sample refresh: failed: {sample['error']}"]
    split = sample["split"]
    steps = sorted(sample["instrumented"]["step_seconds"].items(), key=lambda item: -item[1])
    return [
        f"Bundled sample refresh (oscp run, fresh warehouse): {sample['end_to_end_seconds']:.1f} s "
        f"wall, median of {', '.join(f'{s:.1f}' for s in sample['end_to_end_runs'])}; "
        f"exit codes {sample['end_to_end_exit_codes']}",
        f"  split (instrumented run, {sample['instrumented_seconds']:.1f} s): "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in split.items()),
        "  longest steps: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps[:4]),
        f"  python -c 'import oscp_pipeline.definitions': {sample['import_seconds']:.1f} s "
        f"(median of {len(sample['import_runs'])})",
    ]


def markdown_report(results: dict[str, Any]) -> str:
    """The results file: the same figures, the targets and the machine."""
    info = results["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    lines = [
        f"# Benchmark results, {results['finished_at']}",
        "",
        f"`{results['command']}`; how to read it: "
        "[docs/performance.md](../../docs/performance.md).",
        "",
        f"**Machine:** {info['cpu_model']}, {info['cpus_usable']} usable CPUs, "
        f"{info['memory_gb']} GB RAM; {info['os']}; Python {info['python']}; {packages}. "
        f"Load average (1 min) {results['load_average']['before']:.1f} before and "
        f"{results['load_average']['after']:.1f} after the run.",
        "",
        f"**Data:** {results['data']['description']}.",
        "",
        "## National ingestion (`OSCP_SCOPE=national`)",
        "",
        "| " + " | ".join(title for title, _, _ in NATIONAL_COLUMNS) + " |",
        "|" + "---:|" * len(NATIONAL_COLUMNS),
    ]
    for run in results["national"]:
        if "error" in run:
            lines.append(f"| {run['months']} | failed: {run['error']} |")
            continue
        row = national_row(run)
        lines.append(
            "| " + " | ".join(_cell(fmt, row[k]).strip() for _, fmt, k in NATIONAL_COLUMNS) + " |"
        )
    lines += [
        "",
        *(f"- {_phases_line(run).strip()}" for run in results["national"] if "error" not in run),
    ]
    cost = results.get("cost_ratio_12_to_3")
    if cost is not None:
        lines.append(f"- 12-month / 3-month wall: {cost:.2f}")
    home_office = results.get("home_office")
    if home_office:
        lines.append(f"- {home_office_line(home_office)}")
    sample = results.get("sample")
    if sample:
        lines += [
            "",
            "## Bundled sample refresh",
            "",
            *(f"- {x.strip()}" for x in _sample_lines(sample)),
        ]
    lines += ["", "## Targets", "", "| target | limit | measured | verdict |", "|---|---|---|---|"]
    for target in results["targets"]:
        lines.append(
            f"| {target['name']} | {target['limit']} | {target['measured']} | "
            f"**{target['verdict']}** |"
        )
    return "\n".join(lines) + "\n"


def write_results(results: dict[str, Any], results_dir: Path) -> list[Path]:
    """``<date>-<host>.json`` and ``.md``, and ``latest.md``; each written beside, then renamed."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{dt.date.today().isoformat()}-{results['machine']['host']}"
    written = []
    markdown = markdown_report(results)
    for name, text in (
        (f"{stem}.json", json.dumps(results, indent=1, default=str) + "\n"),
        (f"{stem}.md", markdown),
        ("latest.md", markdown),
    ):
        scratch = results_dir / f"{name}.tmp"
        scratch.write_text(text, encoding="utf-8")
        os.replace(scratch, results_dir / name)
        written.append(results_dir / name)
    return written
