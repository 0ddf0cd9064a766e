"""Ingestion layer: one staged asset per source, each audited before it reaches staging.

Write-audit-publish starts here: a batch is read, validated against its contract with Great
Expectations and row-accounted in memory; only a batch that passes is written to staging (a
failed one goes to quarantine for inspection), so a failed check can never leak into the
warehouse, even when the warehouse is rebuilt on its own later.
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import pyarrow as pa

from oscp_pipeline import ingestion, periods, staging
from oscp_pipeline.assets.common import column_schema, markdown_preview
from oscp_pipeline.ingestion import StagedBatch
from oscp_pipeline.partitions import FINANCIAL_QUARTERS
from oscp_pipeline.quality import HELD_BACK_STATUSES, audit
from oscp_pipeline.resources import RawData, WarehouseStore
from oscp_pipeline.sources import SOURCES, police_uk
from oscp_pipeline.sources.base import SET_ASIDE_SCHEMA, SourceSpec

CONTRACT_CHECK = "great_expectations_contract"
ACCOUNTING_CHECK = "row_accounting"


def _label(partition: str) -> str:
    """``2013-14 Q2`` for a quarterly partition key; other partition names as they are."""
    if partition[:1].isdigit():
        return periods.fy_quarter_label(dt.date.fromisoformat(partition))
    return partition


def check_specs(asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            CONTRACT_CHECK,
            asset=asset_key,
            blocking=True,
            description="The source contract's expectations, run by Great Expectations on the "
            "accepted rows. A file that cannot be read, or whose rows break an expectation, is "
            "held back on its own and the check warns; a failure no single file explains fails "
            "it and stops the warehouse from being published.",
        ),
        dg.AssetCheckSpec(
            ACCOUNTING_CHECK,
            asset=asset_key,
            blocking=True,
            description="For every file, rows read = rows loaded + rows set aside.",
        ),
    ]


HELD_BACK_SHOWN = 20


def _held_back_table(batches: list[StagedBatch]) -> str:
    """The files not loaded, as a Markdown table for the UI: file, status, rows and why."""
    lines = ["| file | status | rows read | message |", "|---|---|---|---|"]
    held_back = [line for batch in batches for line in batch.held_back]
    for line in held_back[:HELD_BACK_SHOWN]:
        message = str(line["message"]).replace("|", "\\|").replace("\n", " ")[:300]
        lines.append(
            f"| {line['source_file']} | {line['status']} | {line['rows_read']} | {message} |"
        )
    if len(held_back) > HELD_BACK_SHOWN:
        lines.append(f"| ... {len(held_back) - HELD_BACK_SHOWN} more | | | |")
    return "\n".join(lines)


def _set_aside_by_reason(batches: list[StagedBatch]) -> dict[str, int]:
    """Rows set aside by reason code, over all the batches."""
    counts: dict[str, int] = {}
    for batch in batches:
        for reason, count in batch.set_aside_by_reason.items():
            counts[reason] = counts.get(reason, 0) + count
    return counts


def _contract_result(batches: list[StagedBatch]) -> dg.AssetCheckResult:
    """ERROR (blocks the warehouse) when a batch cannot be staged; WARN when files were held
    back but the rest was staged; passed otherwise."""
    failed = [b for b in batches if not b.verdict.success]
    held_back = [line for b in batches for line in b.held_back]
    if failed:
        description = "; ".join(f"{_label(b.partition)}: {b.verdict.summary()}" for b in failed)
    elif held_back:
        description = f"{len(held_back)} file(s) held back, the rest staged: " + "; ".join(
            f"{line['source_file']} ({line['status']}): {line['message']}" for line in held_back
        )
    else:
        description = f"{len(batches)} batch(es) passed every expectation"
    set_aside = (
        pa.concat_tables([b.set_aside_head for b in batches])
        if batches
        else SET_ASIDE_SCHEMA.empty_table()
    )
    return dg.AssetCheckResult(
        check_name=CONTRACT_CHECK,
        passed=not failed and not held_back,
        severity=dg.AssetCheckSeverity.ERROR if failed else dg.AssetCheckSeverity.WARN,
        description=description[:2000],
        metadata={
            "expectations_evaluated": sum(len(b.verdict.outcomes) for b in batches),
            "expectations_failed": sum(len(b.verdict.failed) for b in batches),
            "unexpected_values": sum(
                o.unexpected_count or 0 for b in batches for o in b.verdict.failed
            ),
            "files_held_back": len(held_back),
            "held_back": dg.MetadataValue.md(_held_back_table(batches)),
            "set_aside_by_reason": _set_aside_by_reason(batches),
            "set_aside_sample": markdown_preview(
                set_aside.select(["source_file", "row_number", "reason_code", "reason"]), 20
            ),
            "results": dg.MetadataValue.json({b.partition: b.verdict.metadata() for b in batches}),
        },
    )


def log_staged(context: dg.AssetExecutionContext, source_id: str, batch: StagedBatch) -> None:
    """Say where a batch went and which of its files were held back, and why."""
    status = "staged" if batch.passed else "QUARANTINED (failed a check)"
    context.log.info(f"{source_id} {_label(batch.partition)}: {status}; {batch.verdict.summary()}")
    for line in batch.held_back:
        context.log.warning(
            f"{line['source_file']}: {line['status']}, not loaded: {line['message']}"
        )
    for warning in batch.warnings:
        context.log.warning(warning)


def report_staged(
    batches: list[StagedBatch],
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Report the staged and quarantined batches to Dagster: materialisation and both checks."""
    logs = [line for b in batches for line in b.load_log.to_pylist()]
    metadata: dict[str, object] = {
        "files_read": len(logs),
        "files_held_back": sum(line["status"] in HELD_BACK_STATUSES for line in logs),
        "rows_read": sum(int(line["rows_read"]) for line in logs),
        "rows_loaded": sum(int(line["rows_loaded"]) for line in logs),
        "rows_set_aside": sum(int(line["rows_set_aside"]) for line in logs),
        "partitions": [_label(b.partition) for b in batches],
        "quarantined_partitions": [_label(b.partition) for b in batches if not b.passed],
        "unknown_columns_ignored": [w for b in batches for w in b.warnings],
    }
    if batches:
        accepted = pa.concat_tables([b.accepted_head for b in batches])
        set_aside = pa.concat_tables([b.set_aside_head for b in batches])
        metadata.update(
            {
                "dagster/row_count": sum(b.accepted_rows for b in batches),
                "dagster/column_schema": column_schema(accepted.schema),
                "preview": markdown_preview(accepted),
                "set_aside_by_reason": _set_aside_by_reason(batches),
                "set_aside_preview": markdown_preview(
                    set_aside.select(["source_file", "row_number", "reason"])
                ),
            }
        )
    yield dg.MaterializeResult(metadata=metadata)
    yield _contract_result(batches)
    unaccounted = [failure for b in batches for failure in b.accounting_failures]
    yield dg.AssetCheckResult(
        check_name=ACCOUNTING_CHECK,
        passed=not unaccounted,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{len(unaccounted)} file(s) with rows unaccounted for"
        if unaccounted
        else f"all {len(logs)} file(s) account for every row",
        metadata={"files_checked": len(logs), "failures": dg.MetadataValue.json(unaccounted)},
    )


POLICE_UK_KEY = dg.AssetKey(["staging", "police_uk_street"])


@dg.asset(
    key=POLICE_UK_KEY,
    group_name="police_uk",
    partitions_def=FINANCIAL_QUARTERS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=check_specs(POLICE_UK_KEY),
    kinds={"parquet", "great_expectations"},
    description="data.police.uk street-level crime and ASB for the quarter(s), assigned to "
    "districts, de-duplicated by Crime ID and month, staged as Parquet.",
)
def police_uk_street(
    context: dg.AssetExecutionContext, raw: RawData, store: WarehouseStore
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    batches = []
    for key in context.partition_keys:
        batch = ingestion.ingest_police_uk_quarter(
            raw.path, store.staging_dir, store.quarantine_dir, key, context.run_id, loaded_at
        )
        if batch is None:
            context.log.info(f"{_label(key)}: no street files")
            continue
        log_staged(context, police_uk.SOURCE_ID, batch)
        batches.append(batch)
    yield from report_staged(batches)


def staged_key(source_id: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", source_id])


def whole_source_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    """The staged asset of a source that is re-read whole on every refresh."""
    key = staged_key(spec.source_id)
    read_all = spec.read_all
    assert read_all is not None

    @dg.asset(
        key=key,
        group_name=spec.group,
        check_specs=check_specs(key),
        kinds={"parquet", "great_expectations"},
        description=f"{spec.title}: every delivered file, validated against the source "
        "contract and staged as Parquet.",
    )
    def staged_source(
        context: dg.AssetExecutionContext, raw: RawData, store: WarehouseStore
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        read = read_all(raw.path)
        batches = []
        if read.load_log.num_rows:
            batch = ingestion.stage_batch(
                store.staging_dir,
                store.quarantine_dir,
                spec.source_id,
                audit(spec.build_contract(), WHOLE_SOURCE, read),
                context.run_id,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
            )
            log_staged(context, spec.source_id, batch)
            batches.append(batch)
        else:
            staging.remove_partition(
                store.staging_dir, spec.source_id, WHOLE_SOURCE, context.run_id
            )
            context.log.info(f"{spec.source_id}: no files under {raw.path / spec.source_id}")
        yield from report_staged(batches)

    return staged_source


WHOLE_SOURCE = "all"

STAGED_ASSETS = [
    police_uk_street,
    *(whole_source_asset(spec) for spec in SOURCES if not spec.partitioned),
]
