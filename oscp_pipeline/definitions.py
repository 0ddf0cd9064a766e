"""The one Dagster ``Definitions`` object: assets, checks, the refresh job and its schedule."""

import dagster as dg

from oscp_pipeline.assets.ingest import STAGED_ASSETS
from oscp_pipeline.assets.reports import REPORT_ASSETS
from oscp_pipeline.assets.warehouse import warehouse_and_scorecard
from oscp_pipeline.partitions import FINANCIAL_QUARTERS
from oscp_pipeline.refresh import refresh_run_request
from oscp_pipeline.resources import RawData, default_resources

REFRESH_JOB = dg.define_asset_job(
    "quarterly_refresh",
    selection=dg.AssetSelection.all(),
    partitions_def=FINANCIAL_QUARTERS,
    description="Stage every source for the requested quarters, audit them, rebuild and "
    "publish the warehouse and scorecard.",
)


@dg.schedule(
    job=REFRESH_JOB,
    cron_schedule="0 6 15 1,4,7,10 *",
    execution_timezone="Europe/London",
    description="Quarterly refresh, two weeks after each quarter ends so partners can deliver: "
    "restages every quarter present in the raw folder and republishes the warehouse.",
)
def quarterly_refresh_schedule(
    context: dg.ScheduleEvaluationContext, raw: RawData
) -> dg.RunRequest | dg.SkipReason:
    request = refresh_run_request(raw.path)
    if request is None:
        return dg.SkipReason(f"No quarterly extracts found under {raw.path}")
    return request


def build_definitions(resources: dict[str, dg.ConfigurableResource]) -> dg.Definitions:
    """The pipeline's definitions bound to the given ``raw`` and ``store`` resources."""
    return dg.Definitions(
        assets=[*STAGED_ASSETS, warehouse_and_scorecard, *REPORT_ASSETS],
        jobs=[REFRESH_JOB],
        schedules=[quarterly_refresh_schedule],
        resources=resources,
    )


defs = build_definitions(default_resources())
