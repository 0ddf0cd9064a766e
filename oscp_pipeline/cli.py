"""The ``oscp`` command: run the quarterly refresh and say what it did.

``oscp run`` materialises every asset for every quarter present in the raw folder, in process,
recording the run in ``$DAGSTER_HOME`` when it is set (so the UI shows it), then prints a short
summary. It exits non-zero when a blocking check fails, naming the check.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import dagster as dg

from oscp_pipeline import periods, warehouse

SPECIFICATION_PATH = Path(__file__).resolve().parents[1] / "docs" / "data-sharing-spec.md"

# Progress at INFO on the console; Dagster's per-event DEBUG lines stay in the UI's run log.
RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def _instance() -> dg.DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def run_refresh() -> int:
    """Run the refresh job on the configured folders; returns the process exit code."""
    from oscp_pipeline.resources import RawData, WarehouseStore, default_resources

    resources = default_resources()
    raw, store = resources["raw"], resources["store"]
    assert isinstance(raw, RawData) and isinstance(store, WarehouseStore)
    if not raw.path.is_dir():
        print(f"error: raw data folder {raw.path} does not exist (set OSCP_RAW_DIR)")
        return 2
    print(f"Raw data:  {raw.path}")
    print(f"Warehouse: {store.path}")
    result = execute_refresh(resources, _instance())
    return _report(result, store)


def execute_refresh(
    resources: dict[str, dg.ConfigurableResource], instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    """Materialise every asset for every quarter present in the raw folder, in one run."""
    from oscp_pipeline.definitions import UNPARTITIONED_ASSET_KEYS, build_definitions
    from oscp_pipeline.refresh import quarters_to_refresh, refresh_tags, withdrawn_quarters
    from oscp_pipeline.resources import RawData, WarehouseStore

    raw, store = resources["raw"], resources["store"]
    assert isinstance(raw, RawData) and isinstance(store, WarehouseStore)
    defs = build_definitions(resources)
    quarters, skipped = quarters_to_refresh(raw.path, store.staging_dir)
    for quarter in skipped:
        print(f"note: {periods.fy_quarter_label(quarter)} is not over yet; not refreshed")
    for quarter in withdrawn_quarters(raw.path, store.staging_dir):
        print(
            f"note: {periods.fy_quarter_label(quarter)} has no street-level files any more; "
            "its street rows are removed from the warehouse"
        )
    job = defs.resolve_job_def("quarterly_refresh")
    if quarters:
        print(
            f"Refreshing {len(quarters)} quarter(s): {periods.fy_quarter_label(quarters[0])} "
            f"to {periods.fy_quarter_label(quarters[-1])}"
        )
        return job.execute_in_process(
            run_config=RUN_CONFIG,
            instance=instance,
            tags=refresh_tags(quarters),
            raise_on_error=False,
        )
    if skipped:
        print(
            "No finished quarter has street-level files; refreshing the other sources and "
            "the warehouse"
        )
    else:
        print("No street-level files found; refreshing the other sources and the warehouse")
    return job.execute_in_process(
        run_config=RUN_CONFIG,
        instance=instance,
        raise_on_error=False,
        asset_selection=UNPARTITIONED_ASSET_KEYS,
    )


def _report(result: dg.ExecuteInProcessResult, store: object) -> int:
    from oscp_pipeline.assets.reports import REPORT_KEYS
    from oscp_pipeline.assets.warehouse import WAREHOUSE_KEY
    from oscp_pipeline.resources import WarehouseStore

    assert isinstance(store, WarehouseStore)
    evaluations = result.get_asset_check_evaluations()
    failed = [e for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    warned = [e for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.WARN]
    passed = len(evaluations) - len(failed) - len(warned)
    print(f"\nChecks: {passed} passed, {len(failed)} failed, {len(warned)} warning(s)")
    for label, group in (("FAILED", failed), ("WARNING", warned)):
        for evaluation in group:
            description = evaluation.description or ""
            print(
                f"  {label} {evaluation.asset_key.to_user_string()} / {evaluation.check_name}: "
                f"{description[:500]}"
            )
    materialised = _materialised(result)
    published_now = WAREHOUSE_KEY in materialised
    written_reports = [
        Path(str(metadata["path"].value))
        for key in REPORT_KEYS
        for metadata in [materialised.get(key, {})]
        if isinstance(metadata.get("path"), dg.PathMetadataValue)
    ]
    published = warehouse.published_path(store.path)
    if published.exists():
        with warehouse.read_only(store.path) as connection:
            rows = connection.sql(
                """
                SELECT source_id, count(*) AS files, sum(rows_read), sum(rows_loaded),
                       sum(rows_set_aside),
                       count(*) FILTER (WHERE status IN ('rejected', 'quarantined', 'duplicate'))
                FROM load_log GROUP BY ALL ORDER BY source_id
                """
            ).fetchall()
        if published_now:
            state = "now published" if result.success else "published by this run"
        else:
            state = "still published, unchanged by this run"
        print(f"\nWarehouse {state}, by source:")
        print(f"  {'source':<28}{'files':>7}{'rows read':>12}{'loaded':>10}{'set aside':>11}")
        for source_id, files, read, loaded, aside, held_back in rows:
            note = f"  ({held_back} file(s) not loaded: see load_log)" if held_back else ""
            print(f"  {source_id:<28}{files:>7}{read:>12,}{loaded:>10,}{aside:>11,}{note}")
        print(f"\nWarehouse: {published}")
        print("  open read-only: duckdb -readonly " + str(published))
        for report in written_reports:
            print(f"Report:    {report}")
        for key in REPORT_KEYS:
            not_written = materialised.get(key, {}).get("not_written")
            if not_written is not None:
                print(f"note: {not_written.value}")
    if not result.success:
        failed_steps = []
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data:
                failed_steps.append(str(event.step_key))
                print(
                    f"\nStep {event.step_key} failed: {_root_cause(event.step_failure_data.error)}"
                )
        if published_now:
            print(
                "\nRefresh FAILED after publishing: the warehouse was published by this run, "
                f"but {', '.join(failed_steps) or 'a later step'} failed (see above)."
            )
        else:
            print("\nRefresh FAILED: the published warehouse was left as it was before this run.")
        return 1
    print("\nRefresh succeeded.")
    return 0


def _materialised(result: dg.ExecuteInProcessResult) -> dict[dg.AssetKey, dict[str, Any]]:
    """The metadata of each asset this run materialised: what it published or wrote."""
    materialised: dict[dg.AssetKey, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        materialised[materialization.asset_key] = dict(materialization.metadata)
    return materialised


def _root_cause(error: object) -> str:
    """The innermost error's message: Dagster wraps the reader's own error in its own."""
    message = ""
    while error is not None:
        message = str(getattr(error, "message", "")).strip() or message
        error = getattr(error, "cause", None)
    return " ".join(message.split())[:800] or "no error message"


def main(argv: list[str] | None = None) -> int:
    # Single-run backfills of the quarterly partitions are marked beta; it is a deliberate choice.
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    parser = argparse.ArgumentParser(prog="oscp", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the refresh over every quarter in the raw folder")
    check = commands.add_parser(
        "validate", help="check one file before sending it: the pipeline's verdict on it"
    )
    check.add_argument("path", type=Path, help="the file to check")
    check.add_argument("--source", help="source id, when the folder does not say it")
    spec = commands.add_parser("spec", help="write the data-sharing specification for partners")
    spec.add_argument("--out", type=Path, default=SPECIFICATION_PATH, help="where to write it")
    arguments = parser.parse_args(argv)
    if arguments.command == "spec":
        from oscp_pipeline.specification import render_specification

        arguments.out.write_text(render_specification(), encoding="utf-8")
        print(f"Wrote {arguments.out}")
        return 0
    if arguments.command == "run":
        return run_refresh()
    if arguments.command == "validate":
        return validate_command(arguments.path, arguments.source)
    return 2


def validate_command(path: Path, source_id: str | None) -> int:
    """Print the verdict on one file; 0 when the pipeline would accept it."""
    from oscp_pipeline.validate import NotRecognised, validate_file

    try:
        validation = validate_file(path, source_id)
    except (NotRecognised, FileNotFoundError) as error:
        print(f"error: {error}")
        return 2
    print(validation.report())
    return 0 if validation.accepted else 1


if __name__ == "__main__":
    sys.exit(main())
