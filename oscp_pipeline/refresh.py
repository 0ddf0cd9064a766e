"""Which quarters a refresh covers: every quarter for which partner extracts are present."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from oscp_pipeline import periods
from oscp_pipeline.partitions import FINANCIAL_QUARTERS, partition_key
from oscp_pipeline.sources import police_uk

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def quarters_to_refresh(raw_dir: Path) -> tuple[list[dt.date], list[dt.date]]:
    """(quarters with extracts that have a partition, quarters not yet complete to skip)."""
    present = police_uk.quarters_present(raw_dir)
    valid = set(FINANCIAL_QUARTERS.get_partition_keys())
    usable = [q for q in present if partition_key(q) in valid]
    return usable, [q for q in present if partition_key(q) not in valid]


def refresh_tags(quarters: list[dt.date]) -> dict[str, str]:
    """Run tags for one run over the whole range, with the financial-year labels for people."""
    first, last = min(quarters), max(quarters)
    return {
        RANGE_START_TAG: partition_key(first),
        RANGE_END_TAG: partition_key(last),
        "oscp/quarters": f"{periods.fy_quarter_label(first)} to {periods.fy_quarter_label(last)}",
    }


def refresh_run_request(raw_dir: Path) -> dg.RunRequest | None:
    quarters, _ = quarters_to_refresh(raw_dir)
    if not quarters:
        return None
    return dg.RunRequest(tags=refresh_tags(quarters))
