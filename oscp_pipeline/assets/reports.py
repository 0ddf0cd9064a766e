"""Reports layer: the Excel scorecard and the HTML bi-annual report, from the warehouse."""

import os
import tempfile
from pathlib import Path

import dagster as dg

from oscp_pipeline import periods, warehouse
from oscp_pipeline.assets.warehouse import SCORECARD_KEY
from oscp_pipeline.reports.excel import write_scorecard_workbook
from oscp_pipeline.reports.html import write_biannual_report
from oscp_pipeline.resources import PROJECT_DIR, RawData, WarehouseStore

REPORTS_KEY = dg.AssetKey(["reports", "scorecard_and_biannual_report"])
SAMPLE_RAW_DIR = PROJECT_DIR / "data" / "raw"


def _replace_atomically(write, target: Path) -> Path:
    """Write beside the target, then rename, so a reader never opens half a report."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=target.parent, suffix=target.suffix)
    os.close(handle)
    try:
        write(Path(scratch))
        os.replace(scratch, target)
    finally:
        Path(scratch).unlink(missing_ok=True)
    return target


@dg.asset(
    key=REPORTS_KEY,
    deps=[SCORECARD_KEY],
    group_name="reports",
    kinds={"excel", "html"},
    description="The Excel performance monitoring scorecard for the latest complete quarter and "
    "the HTML bi-annual report for the latest half or full financial year, written under "
    "$OSCP_WAREHOUSE_DIR/reports/.",
)
def reports(
    context: dg.AssetExecutionContext, raw: RawData, store: WarehouseStore
) -> dg.MaterializeResult:
    subtitle = (
        "Built from the bundled SYNTHETIC sample data: no real records"
        if raw.path.resolve() == SAMPLE_RAW_DIR.resolve()
        else ""
    )
    with warehouse.read_only(store.path) as connection:
        latest = connection.sql("SELECT max(quarter_start) FROM scorecard").fetchall()[0][0]
        if latest is None:
            context.log.info("The scorecard is empty: no reports written")
            return dg.MaterializeResult(metadata={"reports": "none (empty scorecard)"})
        half_year_end = periods.latest_half_year_end(latest)
        quarter_label = periods.fy_quarter_label(latest).replace(" ", "-")
        half_label = periods.fy_quarter_label(half_year_end).replace(" ", "-")
        excel = _replace_atomically(
            lambda p: write_scorecard_workbook(connection, p, latest, subtitle=subtitle),
            store.reports_dir / f"oscp-scorecard-{quarter_label}.xlsx",
        )
        html = _replace_atomically(
            lambda p: write_biannual_report(connection, p, half_year_end, subtitle=subtitle),
            store.reports_dir / f"oscp-report-{half_label}.html",
        )
    context.log.info(f"Wrote {excel} and {html}")
    return dg.MaterializeResult(
        metadata={
            "excel_scorecard": dg.MetadataValue.path(str(excel)),
            "biannual_report": dg.MetadataValue.path(str(html)),
            "scorecard_quarter": periods.fy_quarter_label(latest),
            "report_period_end": periods.fy_quarter_label(half_year_end),
        }
    )
