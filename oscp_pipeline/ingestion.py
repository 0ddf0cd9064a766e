"""Ingestion without the orchestrator: read a batch, audit it, write it to staging or quarantine.

The staged assets call these functions and only report what they return to Dagster, so any other
caller (the national benchmark, ``oscp_pipeline.bench``) runs exactly the refresh's code path.
Each batch is written as soon as it is audited, and only a small summary of it is kept, so
memory stays flat however many quarters a refresh covers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from oscp_pipeline import quality, staging
from oscp_pipeline.quality import AuditedBatch, Verdict
from oscp_pipeline.sources import police_uk

# Rows of a staged batch kept for the asset's previews (the set-aside sample shows 20).
KEPT_ROWS = 20


@dataclass(frozen=True)
class StagedBatch:
    """What a staged (or quarantined) batch leaves for reporting, without its rows."""

    partition: str
    passed: bool
    verdict: Verdict
    accounting_failures: list[dict[str, object]]
    held_back: list[dict[str, object]]
    warnings: list[str]
    load_log: pa.Table
    accepted_rows: int
    accepted_head: pa.Table
    set_aside_head: pa.Table
    set_aside_by_reason: dict[str, int]


def _head(table: pa.Table) -> pa.Table:
    """The first rows in delivered order (by file, then row: street rows are read on every core
    and kept in no order), as a copy, so the batch's full buffers can be freed."""
    delivered_order = [("source_file", "ascending"), ("row_number", "ascending")]
    first = pc.select_k_unstable(table, k=min(KEPT_ROWS, table.num_rows), sort_keys=delivered_order)
    return table.take(first)


def stage_batch(
    staging_dir: Path,
    quarantine_dir: Path,
    source_id: str,
    batch: AuditedBatch,
    run_id: str,
    loaded_at: dt.datetime,
) -> StagedBatch:
    """Write a batch that passed to staging, or one that failed to quarantine; summarise it."""
    root = staging_dir if batch.passed else quarantine_dir
    staging.write_partition(root, source_id, batch.partition, batch.read, run_id, loaded_at)
    reasons = pc.value_counts(batch.read.set_aside.column("reason_code"))
    return StagedBatch(
        partition=batch.partition,
        passed=batch.passed,
        verdict=batch.verdict,
        accounting_failures=batch.accounting_failures,
        held_back=batch.held_back,
        warnings=batch.read.warnings,
        load_log=batch.read.load_log,
        accepted_rows=batch.read.accepted.num_rows,
        accepted_head=_head(batch.read.accepted),
        set_aside_head=_head(batch.read.set_aside),
        set_aside_by_reason=dict(
            zip(
                reasons.field("values").to_pylist(),
                reasons.field("counts").to_pylist(),
                strict=True,
            )
        ),
    )


def ingest_police_uk_quarter(
    raw_dir: Path,
    staging_dir: Path,
    quarantine_dir: Path,
    partition: str,
    run_id: str,
    loaded_at: dt.datetime,
) -> StagedBatch | None:
    """Read the street files of one quarter, audit them and stage them; ``None`` when the
    quarter has no files, after removing any partition staged for it earlier."""
    files = police_uk.files_for_quarters(raw_dir, [dt.date.fromisoformat(partition)])
    if not files:
        staging.remove_partition(staging_dir, police_uk.SOURCE_ID, partition, run_id)
        return None
    read = police_uk.read_street_files(files, raw_dir)
    batch = quality.audit(police_uk.build_contract(), partition, read)
    del read  # when the audit holds files back, the batch has its own copy of the rows
    return stage_batch(staging_dir, quarantine_dir, police_uk.SOURCE_ID, batch, run_id, loaded_at)
