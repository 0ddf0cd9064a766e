"""The Dagster definitions load, validate, and schedule the quarterly refresh."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
from conftest import REPO_DIR, SAMPLE_RAW_DIR, copy_tree, street_row, write_street_file

from oscp_pipeline import warehouse
from oscp_pipeline.definitions import (
    UNPARTITIONED_ASSET_KEYS,
    build_definitions,
    defs,
    quarterly_refresh_schedule,
)
from oscp_pipeline.resources import RawData, WarehouseStore
from oscp_pipeline.sources import SOURCES


def test_definitions_hold_grouped_assets_with_blocking_checks_and_a_partitioned_job() -> None:
    repository = defs.get_repository_def()
    groups = {
        key.to_user_string(): repository.asset_graph.get(key).group_name
        for key in repository.asset_graph.get_all_asset_keys()
    }
    expected = {
        "staging/police_uk_street": "police_uk",
        "warehouse/oscp": "warehouse",
        "warehouse/scorecard": "warehouse",
        "reports/excel_scorecard": "reports",
        "reports/biannual_report": "reports",
    }
    expected.update(
        {f"staging/{spec.source_id}": spec.group for spec in SOURCES if not spec.partitioned}
    )
    assert groups == expected
    assert {"staging/defra_flytipping", "staging/home_office_prc"} <= set(groups)
    check_keys = {
        (key.asset_key.to_user_string(), key.name)
        for key in repository.asset_graph.asset_check_keys
    }
    assert ("staging/police_uk_street", "great_expectations_contract") in check_keys
    assert ("warehouse/oscp", "row_accounting") in check_keys
    job = defs.resolve_job_def("quarterly_refresh")
    keys = job.partitions_def.get_partition_keys()
    assert keys[0] == "2010-10-01"
    assert all(key[5:7] in {"01", "04", "07", "10"} for key in keys)


def test_dagster_cli_validates_the_workspace() -> None:
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DAGSTER_HOME": ""},
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "All code locations passed validation" in completed.stderr + completed.stdout


def test_the_schedule_requests_one_run_over_every_quarter_present(tmp_path: Path) -> None:
    write_street_file(tmp_path, "2013-05", [street_row(month="2013-05")])
    write_street_file(tmp_path, "2014-02", [street_row(month="2014-02")])
    resources = {
        "raw": RawData(raw_dir=str(tmp_path)),
        "store": WarehouseStore(warehouse_dir=str(tmp_path / "wh")),
    }
    built = build_definitions(resources)
    context = dg.build_schedule_context(resources=resources)
    schedule = built.resolve_schedule_def(quarterly_refresh_schedule.name)
    (request,) = schedule.evaluate_tick(context).run_requests or []
    assert request.tags["dagster/asset_partition_range_start"] == "2013-04-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2014-01-01"
    assert request.tags["oscp/quarters"] == "2013-14 Q1 to 2013-14 Q4"
    # A quarter staged by an earlier refresh whose files have since been withdrawn is covered
    # too, so the run removes its staged rows.
    (tmp_path / "wh" / "staging" / "police_uk" / "2014-04-01").mkdir(parents=True)
    (request,) = schedule.evaluate_tick(context).run_requests or []
    assert request.tags["oscp/quarters"] == "2013-14 Q1 to 2014-15 Q1"
    empty = dg.build_schedule_context(
        resources={
            "raw": RawData(raw_dir=str(tmp_path / "none")),
            "store": WarehouseStore(warehouse_dir=str(tmp_path / "new-wh")),
        }
    )
    assert schedule.evaluate_tick(empty).skip_message


def test_the_dg_cli_finds_the_definitions_from_pyproject() -> None:
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "check", "defs"],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DAGSTER_HOME": ""},
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "All definitions loaded successfully" in completed.stdout + completed.stderr


def test_the_schedule_refreshes_partner_extracts_when_no_finished_quarter_has_street_files(
    tmp_path: Path,
) -> None:
    """As ``oscp run`` does: the other sources, the warehouse and the reports are refreshed."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    copy_tree(SAMPLE_RAW_DIR / "tvp_hate_crime", raw / "tvp_hate_crime")
    resources = {"raw": RawData(raw_dir=str(raw)), "store": WarehouseStore(warehouse_dir=str(wh))}
    built = build_definitions(resources)
    schedule = built.resolve_schedule_def(quarterly_refresh_schedule.name)

    tick = schedule.evaluate_tick(dg.build_schedule_context(resources=resources))

    assert tick.skip_message is None
    (request,) = tick.run_requests or []
    assert sorted(request.asset_selection or []) == sorted(UNPARTITIONED_ASSET_KEYS)
    result = built.resolve_job_def(request.job_name or "quarterly_refresh").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=request.asset_selection,
        tags=request.tags,
    )
    assert result.success
    with warehouse.read_only(wh) as connection:
        loaded = connection.sql(
            "SELECT count(*), sum(rows_loaded) > 0 FROM load_log WHERE source_id = 'tvp_hate_crime'"
        ).fetchall()
    assert loaded == [(16, True)]
