"""Which quarters a refresh covers: every quarter for which partner extracts are present, and
every quarter staged earlier whose street files have since been withdrawn. With no such
quarter, a refresh still reads the sources that are read whole on each refresh."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from oscp_pipeline import periods, staging
from oscp_pipeline.partitions import FINANCIAL_QUARTERS, partition_key
from oscp_pipeline.sources import SOURCES, police_uk

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def staged_quarters(staging_root: Path) -> list[dt.date]:
    """Quarters an earlier refresh staged street rows for."""
    folder = staging_root / police_uk.SOURCE_ID
    if not folder.is_dir():
        return []
    quarters = []
    for path in folder.iterdir():
        try:
            quarters.append(dt.date.fromisoformat(path.name))
        except ValueError:  # scratch and removed folders, the lock file
            continue
    return sorted(quarters)


def withdrawn_quarters(raw_dir: Path, staging_root: Path) -> list[dt.date]:
    """Quarters staged earlier whose street files are no longer in the raw folder: a refresh
    covers them too, so their staged rows are removed instead of published again."""
    present = set(police_uk.quarters_present(raw_dir))
    return [quarter for quarter in staged_quarters(staging_root) if quarter not in present]


def quarters_to_refresh(raw_dir: Path, staging_root: Path) -> tuple[list[dt.date], list[dt.date]]:
    """(quarters to run: with extracts, or withdrawn since they were staged; quarters with
    extracts that are not yet complete, to skip)."""
    present = police_uk.quarters_present(raw_dir)
    candidates = sorted({*present, *withdrawn_quarters(raw_dir, staging_root)})
    valid = set(FINANCIAL_QUARTERS.get_partition_keys())
    usable = [q for q in candidates if partition_key(q) in valid]
    return usable, [q for q in present if partition_key(q) not in valid]


def refresh_tags(quarters: list[dt.date]) -> dict[str, str]:
    """Run tags for one run over the whole range, with the financial-year labels for people."""
    first, last = min(quarters), max(quarters)
    return {
        RANGE_START_TAG: partition_key(first),
        RANGE_END_TAG: partition_key(last),
        "oscp/quarters": f"{periods.fy_quarter_label(first)} to {periods.fy_quarter_label(last)}",
    }


def whole_sources_to_refresh(raw_dir: Path, staging_root: Path) -> bool:
    """Whether a source read whole on each refresh has something to do: a file in its folder,
    or rows staged earlier that the refresh replaces or removes."""
    for spec in SOURCES:
        if spec.partitioned:
            continue
        folder = raw_dir / spec.source_id
        if folder.is_dir() and any(
            path.is_file() and not path.name.startswith(".") for path in folder.rglob("*")
        ):
            return True
        if staging.staged_files(staging_root, spec.source_id, "load_log"):
            return True
    return False


def refresh_run_request(
    raw_dir: Path, staging_root: Path, unpartitioned: Sequence[dg.AssetKey]
) -> dg.RunRequest | None:
    """The run ``oscp run`` would start: every asset over the quarters to refresh or, with no
    finished quarter of street files, the ``unpartitioned`` assets (the other sources, the
    warehouse and the reports). None when there is nothing to read and nothing staged."""
    quarters, _ = quarters_to_refresh(raw_dir, staging_root)
    if quarters:
        return dg.RunRequest(tags=refresh_tags(quarters))
    if whole_sources_to_refresh(raw_dir, staging_root):
        return dg.RunRequest(asset_selection=list(unpartitioned))
    return None
