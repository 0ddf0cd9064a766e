"""docs/warehouse.md is the analysts' reference: it must match the warehouse column by column."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
from conftest import REPO_DIR, street_row, write_street_file
from test_refresh import query, refresh

from oscp_pipeline.warehouse import PUBLISHED_TABLES


def documented_tables() -> dict[str, list[tuple[str, str]]]:
    text = (REPO_DIR / "docs" / "warehouse.md").read_text(encoding="utf-8")
    tables: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"^### (\w+)$", line)
        if heading:
            current = tables.setdefault(heading.group(1), [])
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if current is not None and len(cells) >= 3 and re.match(r"^[A-Z]+$", cells[1]):
            current.append((cells[0], cells[1]))
    return tables


def test_docs_describe_every_published_table_and_column_with_its_type(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_street_file(raw, "2014-01", [street_row()])
    assert refresh(raw, wh, instance).success
    actual = {
        table: [(name, kind) for name, kind, *_ in query(wh, f"DESCRIBE {table}")]
        for table in PUBLISHED_TABLES
    }
    listed = [row[0] for row in query(wh, "SELECT table_name FROM duckdb_tables()")]
    assert sorted(listed) == sorted(PUBLISHED_TABLES)
    assert documented_tables() == actual
