"""Warehouse layer: build the DuckDB warehouse and scorecard, audit, then publish atomically."""

from collections.abc import Iterator

import dagster as dg

from oscp_pipeline import warehouse
from oscp_pipeline.assets.common import column_schema, markdown_preview
from oscp_pipeline.assets.ingest import STAGED_ASSETS
from oscp_pipeline.resources import WarehouseStore

WAREHOUSE_KEY = dg.AssetKey(["warehouse", "oscp"])
SCORECARD_KEY = dg.AssetKey(["warehouse", "scorecard"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            WAREHOUSE_KEY,
            deps=[asset.key for asset in STAGED_ASSETS],
            group_name="warehouse",
            kinds={"duckdb"},
            description="The published analysts' warehouse ($OSCP_WAREHOUSE_DIR/oscp.duckdb): "
            "dimensions, record tables, observations, load log and set-aside rows.",
        ),
        dg.AssetSpec(
            SCORECARD_KEY,
            deps=[WAREHOUSE_KEY],
            group_name="warehouse",
            kinds={"duckdb"},
            description="The quarterly scorecard tables (scorecard, scorecard_latest): change, "
            "significance, exceptions, RAG, rates and suppression flags, built inside the same "
            "warehouse file so that they are always published together with the data behind them.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(name, asset=WAREHOUSE_KEY, blocking=True, description=description)
        for name, description, _ in warehouse.INVARIANTS
    ]
    + [
        dg.AssetCheckSpec(name, asset=WAREHOUSE_KEY, blocking=False, description=description)
        for name, description, _ in warehouse.warning_checks()
    ],
)
def warehouse_and_scorecard(
    context: dg.AssetExecutionContext, store: WarehouseStore
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    store.path.mkdir(parents=True, exist_ok=True)
    with warehouse.publishing_lock(store.path, context.run_id, on_wait=context.log.warning):
        yield from _build_and_publish(context, store)


def _build_and_publish(
    context: dg.AssetExecutionContext, store: WarehouseStore
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    result = warehouse.build(
        store.staging_dir, store.path, context.run_id, on_wait=context.log.warning
    )
    for invariant in result.invariants:
        yield dg.AssetCheckResult(
            asset_key=WAREHOUSE_KEY,
            check_name=invariant.name,
            passed=invariant.passed,
            severity=dg.AssetCheckSeverity.ERROR
            if invariant.blocking
            else dg.AssetCheckSeverity.WARN,
            description=invariant.description,
            metadata={
                "rows_breaking_it": len(invariant.failures),
                "sample": dg.MetadataValue.json(
                    [{k: str(v) for k, v in row.items()} for row in invariant.failures]
                ),
            },
        )
    if not result.passed:
        warehouse.discard(result.candidate)
        failed = [i.name for i in result.invariants if i.blocking and not i.passed]
        raise dg.Failure(
            description=f"Warehouse invariant(s) failed: {', '.join(failed)}. The published "
            "warehouse was left unchanged.",
        )
    target = warehouse.publish(result.candidate, store.path)
    context.log.info(f"Published {target}")
    with warehouse.read_only(store.path) as connection:
        scorecard = (
            connection.sql(
                "SELECT * FROM scorecard WHERE area_type <> 'district' ORDER BY quarter_start DESC"
            )
            .limit(10)
            .to_arrow_table()
        )
        observations = connection.sql("SELECT * FROM observations").limit(5).to_arrow_table()
    yield dg.MaterializeResult(
        asset_key=WAREHOUSE_KEY,
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            "table_rows": dg.MetadataValue.json(result.row_counts),
            "dagster/row_count": result.row_counts["observations"],
            "dagster/column_schema": column_schema(observations.schema),
            "preview": markdown_preview(observations),
        },
    )
    yield dg.MaterializeResult(
        asset_key=SCORECARD_KEY,
        metadata={
            "dagster/row_count": result.row_counts["scorecard"],
            "dagster/column_schema": column_schema(scorecard.schema),
            "preview": markdown_preview(scorecard, 10),
        },
    )
