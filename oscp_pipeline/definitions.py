"""The one Dagster ``Definitions`` object: assets, checks, the refresh job and its schedule.

Where the steps of a run execute is chosen by ``OSCP_EXECUTOR`` (see docs/scaling.md): unset, the
job keeps Dagster's default executor, which is what ``make run``, ``make dev`` and the tests use.
The optional executors' packages are imported only when selected.
"""

import os
from collections.abc import Callable

import dagster as dg

from oscp_pipeline.assets.ingest import STAGED_ASSETS
from oscp_pipeline.assets.reports import REPORT_ASSETS
from oscp_pipeline.assets.warehouse import warehouse_and_scorecard
from oscp_pipeline.partitions import FINANCIAL_QUARTERS
from oscp_pipeline.refresh import refresh_run_request
from oscp_pipeline.resources import RawData, WarehouseStore, default_resources

REFRESH_JOB = dg.define_asset_job(
    "quarterly_refresh",
    selection=dg.AssetSelection.all(),
    partitions_def=FINANCIAL_QUARTERS,
    description="Stage every source for the requested quarters, audit them, rebuild and "
    "publish the warehouse and scorecard.",
)


ASSETS = [*STAGED_ASSETS, warehouse_and_scorecard, *REPORT_ASSETS]
UNPARTITIONED_ASSET_KEYS = [
    key for asset in ASSETS if asset.partitions_def is None for key in asset.keys
]
"""What a refresh runs when no finished quarter has street files: the other sources, the
warehouse and the reports."""


@dg.schedule(
    job=REFRESH_JOB,
    cron_schedule="0 6 15 1,4,7,10 *",
    execution_timezone="Europe/London",
    description="Quarterly refresh, two weeks after each quarter ends so partners can deliver: "
    "restages every quarter present in the raw folder (with no finished quarter of street "
    "files, the other sources) and republishes the warehouse, as oscp run does.",
)
def quarterly_refresh_schedule(
    context: dg.ScheduleEvaluationContext, raw: RawData, store: WarehouseStore
) -> dg.RunRequest | dg.SkipReason:
    request = refresh_run_request(raw.path, store.staging_dir, UNPARTITIONED_ASSET_KEYS)
    if request is None:
        return dg.SkipReason(f"No partner extracts found under {raw.path} and nothing staged")
    return request


EXECUTOR_VARIABLE = "OSCP_EXECUTOR"
CELERY_BROKER_VARIABLE = "OSCP_CELERY_BROKER"
CELERY_BACKEND_VARIABLE = "OSCP_CELERY_BACKEND"


def _kubernetes_executor() -> dg.ExecutorDefinition:
    """Each step in its own Kubernetes Job; image, volumes and environment come from the run
    launcher (the Helm chart), so every step pod sees the same shared folders."""
    from dagster_k8s import k8s_job_executor

    return k8s_job_executor


def _celery_executor() -> dg.ExecutorDefinition:
    """Each step sent to a Celery worker; the broker is read from the environment when a run is
    launched, so scheduled runs (which carry no run config) reach the broker the workers use."""
    from dagster_celery import celery_executor

    return celery_executor.configured(
        {
            "broker": {"env": CELERY_BROKER_VARIABLE},
            "backend": {"env": CELERY_BACKEND_VARIABLE},
        }
    )


BUILT_IN_EXECUTORS: dict[str, dg.ExecutorDefinition] = {
    "in_process": dg.in_process_executor,
    "multiprocess": dg.multiprocess_executor,
}
# Each needs the package dagster-<name>, installed by the optional-dependency group <name>.
OPTIONAL_EXECUTORS: dict[str, Callable[[], dg.ExecutorDefinition]] = {
    "k8s": _kubernetes_executor,
    "celery": _celery_executor,
}


def executor_from_environment() -> dg.ExecutorDefinition | None:
    """The executor named by ``OSCP_EXECUTOR``; None (Dagster's default) when it is unset."""
    name = os.environ.get(EXECUTOR_VARIABLE, "").strip()
    if not name:
        return None
    if name in BUILT_IN_EXECUTORS:
        return BUILT_IN_EXECUTORS[name]
    if name not in OPTIONAL_EXECUTORS:
        known = ", ".join([*BUILT_IN_EXECUTORS, *OPTIONAL_EXECUTORS])
        raise ValueError(
            f"{EXECUTOR_VARIABLE}={name!r} is not known; use one of {known}, "
            "or leave it unset for Dagster's default"
        )
    try:
        return OPTIONAL_EXECUTORS[name]()
    except ImportError as error:
        raise ImportError(
            f"{EXECUTOR_VARIABLE}={name} needs the dagster-{name} package, which is not "
            f"installed: pip install 'oscp-pipeline[{name}]'"
        ) from error


def build_definitions(
    resources: dict[str, dg.ConfigurableResource],
    executor: dg.ExecutorDefinition | None = None,
) -> dg.Definitions:
    """The pipeline's definitions bound to the given ``raw`` and ``store`` resources; every job
    runs on ``executor`` (Dagster's default when None)."""
    return dg.Definitions(
        assets=ASSETS,
        jobs=[REFRESH_JOB],
        schedules=[quarterly_refresh_schedule],
        resources=resources,
        executor=executor,
    )


defs = build_definitions(default_resources(), executor_from_environment())
