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
from oscp_pipeline.resources import RawData, WarehouseStore
from oscp_pipeline.synthetic import is_synthetic_sample

EXCEL_KEY = dg.AssetKey(["reports", "excel_scorecard"])
HTML_KEY = dg.AssetKey(["reports", "biannual_report"])


def _replace_atomically(write: Callable[[Path], object], target: Path) -> Path:
    """Write beside the target, then rename, so a reader never opens half a report.

    The scratch file is hidden (``.partial-*``); one left by a killed refresh is removed once
    it is an hour old, which no report write ever takes. The report is published as the
    warehouse is: readable by every account (the scratch file is private until then), and
    replaced, never written into, by the next refresh.
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
        os.chmod(scratch, warehouse.PUBLISHED_MODE)
        os.replace(scratch, target)
    finally:
        Path(scratch).unlink(missing_ok=True)
    return target


def _subtitle(raw: RawData) -> str:
    """Reports built from the synthetic sample say so on their face, wherever the sample was
    generated or copied to: the generator marks the folder."""
    if is_synthetic_sample(raw.path):
        return "Built from the bundled SYNTHETIC sample data: no real records"
    return ""


def _latest_quarter(connection: duckdb.DuckDBPyConnection) -> dt.date | None:
    return connection.sql("SELECT max(quarter_start) FROM scorecard").fetchall()[0][0]


def _has_quarter(connection: duckdb.DuckDBPyConnection, quarter: dt.date) -> bool:
    """Whether the scorecard has figures for ``quarter``."""
    query = "SELECT count(*) > 0 FROM scorecard WHERE quarter_start = ?"
    return bool(connection.execute(query, [quarter]).fetchall()[0][0])


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
            reason = "No Excel scorecard written: the scorecard is empty"
            context.log.info(reason)
            return dg.MaterializeResult(metadata={"path": "none", "not_written": reason})
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
    "(Q1-Q4) financial year, written to $OSCP_WAREHOUSE_DIR/reports/oscp-report-<quarter>.html "
    "(not written while the scorecard has no figures for that year's last quarter).",
)
def biannual_report(
    context: dg.AssetExecutionContext, raw: RawData, store: WarehouseStore
) -> dg.MaterializeResult:
    with warehouse.read_only(store.path) as connection:
        latest = _latest_quarter(connection)
        if latest is None:
            reason = "No bi-annual report written: the scorecard is empty"
            context.log.info(reason)
            return dg.MaterializeResult(metadata={"path": "none", "not_written": reason})
        half_year_end = periods.latest_half_year_end(latest)
        if not _has_quarter(connection, half_year_end):
            # E.g. only a Q1 is loaded: the report would be of a year the warehouse holds
            # nothing of, its tables empty.
            reason = (
                "No bi-annual report written: it would cover the financial year to "
                f"{periods.fy_quarter_label(half_year_end)} (the latest half or full year "
                f"ended by {periods.fy_quarter_label(latest)}), and the scorecard has no "
                f"figures for {periods.fy_quarter_label(half_year_end)}"
            )
            context.log.info(reason)
            return dg.MaterializeResult(metadata={"path": "none", "not_written": reason})
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
REPORT_KEYS = (EXCEL_KEY, HTML_KEY)
