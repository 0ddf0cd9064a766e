"""Reports layer: the Excel scorecard and the HTML bi-annual report, from the warehouse."""

import contextlib
import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb

from oscp_pipeline import periods, warehouse
from oscp_pipeline.assets.warehouse import SCORECARD_KEY
from oscp_pipeline.reports.excel import write_scorecard_workbook
from oscp_pipeline.reports.html import write_biannual_report
from oscp_pipeline.resources import PROJECT_DIR, RawData, WarehouseStore

EXCEL_KEY = dg.AssetKey(["reports", "excel_scorecard"])
HTML_KEY = dg.AssetKey(["reports", "biannual_report"])
SAMPLE_RAW_DIR = PROJECT_DIR / "data" / "raw"


def _replace_atomically(write: Callable[[Path], object], target: Path) -> Path:
    """Write beside the target, then rename, so a reader never opens half a report.

    The scratch file is hidden (``.partial-*``); one left by a killed refresh is removed once
    it is an hour old, which no report write ever takes.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(".partial-*"):
        with contextlib.suppress(FileNotFoundError):
            if time.time() - leftover.stat().st_mtime > 3600:
                leftover.unlink()
    handle, scratch = tempfile.mkstemp(dir=target.parent, prefix=".partial-", suffix=target.suffix)
    os.close(handle)
    try:
        write(Path(scratch))
        os.replace(scratch, target)
    finally:
        Path(scratch).unlink(missing_ok=True)
    return target


def _subtitle(raw: RawData) -> str:
    """Reports built from the bundled sample say so on their face."""
    if raw.path.resolve() == SAMPLE_RAW_DIR.resolve():
        return "Built from the bundled SYNTHETIC sample data: no real records"
    return ""


def _latest_quarter(connection: duckdb.DuckDBPyConnection) -> dt.date | None:
    return connection.sql("SELECT max(quarter_start) FROM scorecard").fetchall()[0][0]


@dg.asset(
    key=EXCEL_KEY,
    deps=[SCORECARD_KEY],
    group_name="reports",
    kinds={"excel"},
    description="The Excel performance monitoring scorecard for the latest complete quarter, "
    "written to $OSCP_WAREHOUSE_DIR/reports/oscp-scorecard-<quarter>.xlsx.",
)
def excel_scorecard(
    context: dg.AssetExecutionContext, raw: RawData, store: WarehouseStore
) -> dg.MaterializeResult:
    with warehouse.read_only(store.path) as connection:
        latest = _latest_quarter(connection)
        if latest is None:
            context.log.info("The scorecard is empty: no workbook written")
            return dg.MaterializeResult(metadata={"path": "none (empty scorecard)"})
        label = periods.fy_quarter_label(latest).replace(" ", "-")
        path = _replace_atomically(
            lambda p: write_scorecard_workbook(connection, p, latest, subtitle=_subtitle(raw)),
            store.reports_dir / f"oscp-scorecard-{label}.xlsx",
        )
    context.log.info(f"Wrote {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "quarter": periods.fy_quarter_label(latest),
        }
    )


@dg.asset(
    key=HTML_KEY,
    deps=[SCORECARD_KEY],
    group_name="reports",
    kinds={"html"},
    description="The HTML bi-annual performance report for the latest half (Q1-Q2) or full "
    "(Q1-Q4) financial year, written to $OSCP_WAREHOUSE_DIR/reports/oscp-report-<quarter>.html.",
)
def biannual_report(
    context: dg.AssetExecutionContext, raw: RawData, store: WarehouseStore
) -> dg.MaterializeResult:
    with warehouse.read_only(store.path) as connection:
        latest = _latest_quarter(connection)
        if latest is None:
            context.log.info("The scorecard is empty: no report written")
            return dg.MaterializeResult(metadata={"path": "none (empty scorecard)"})
        half_year_end = periods.latest_half_year_end(latest)
        label = periods.fy_quarter_label(half_year_end).replace(" ", "-")
        path = _replace_atomically(
            lambda p: write_biannual_report(connection, p, half_year_end, subtitle=_subtitle(raw)),
            store.reports_dir / f"oscp-report-{label}.html",
        )
    context.log.info(f"Wrote {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "period_end": periods.fy_quarter_label(half_year_end),
        }
    )


REPORT_ASSETS = [excel_scorecard, biannual_report]
