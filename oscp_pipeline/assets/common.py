"""Metadata helpers shared by the asset modules: previews and column lists for the UI."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pyarrow as pa

PREVIEW_ROWS = 5


def markdown_preview(table: pa.Table, rows: int = PREVIEW_ROWS) -> dg.MetadataValue:
    """The first rows of a table as Markdown, for the asset page."""
    head = table.slice(0, rows).to_pylist()
    if not head:
        return dg.MetadataValue.md("_no rows_")
    columns = table.column_names
    lines = [
        "| " + " | ".join(columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
        *("| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in head),
    ]
    return dg.MetadataValue.md("\n".join(lines))


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:60]


def column_schema(schema: pa.Schema) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name=field.name, type=str(field.type)) for field in schema]
    )
