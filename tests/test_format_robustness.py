"""Partners' cosmetic differences must not change the warehouse.

Every CSV of the sample (one quarter of street files, all of the smaller sources) is rewritten
with its columns reversed, its headers re-cased and padded, and either a UTF-8 byte-order mark
or Windows-1252 encoding; the refreshed warehouse must hold exactly the same data.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import dagster as dg
from conftest import SAMPLE_RAW_DIR
from test_refresh import query, refresh

from oscp_pipeline.warehouse import PUBLISHED_TABLES

# Columns that describe the delivery rather than its content.
DELIVERY_COLUMNS = {"sha256", "encoding", "loaded_at", "run_id"}
STREET_MONTHS = ("2013-07", "2013-08", "2013-09")


def copy_sample(target: Path) -> Path:
    for source in sorted(p for p in SAMPLE_RAW_DIR.iterdir() if p.is_dir()):
        if source.name == "police_uk":
            for month in STREET_MONTHS:
                shutil.copytree(source / month, target / "police_uk" / month)
        else:
            shutil.copytree(source, target / source.name)
    return target


def disguise(path: Path, index: int) -> None:
    """Reverse the columns, change header case and spacing, and change the encoding."""
    raw = path.read_bytes()
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    width = len(rows[0])
    reordered = []
    for number, row in enumerate(rows):
        if len(row) != width:  # a totals or malformed line keeps its shape
            reordered.append(row)
            continue
        row = list(reversed(row))
        if number == 0:
            row = [f"  {cell.upper()} " if i % 2 else cell.lower() for i, cell in enumerate(row)]
        reordered.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(reordered)
    if index % 2:
        path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    else:
        path.write_bytes(buffer.getvalue().encode("cp1252", errors="strict"))


def table_contents(wh: Path) -> dict[str, list[tuple]]:
    contents = {}
    for table in PUBLISHED_TABLES:
        columns = [
            name for name, *_ in query(wh, f"DESCRIBE {table}") if name not in DELIVERY_COLUMNS
        ]
        if table == "set_aside":
            columns.remove("record")  # the row as delivered: its key order follows the file
        select = ", ".join(f'"{c}"' for c in columns)
        contents[table] = query(wh, f"SELECT {select} FROM {table} ORDER BY ALL")
    return contents


def test_column_order_header_case_bom_and_encoding_leave_the_warehouse_unchanged(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    original = copy_sample(tmp_path / "original")
    disguised = copy_sample(tmp_path / "disguised")
    csv_files = sorted(disguised.rglob("*.csv"))
    assert len(csv_files) >= 5
    for index, path in enumerate(csv_files):
        disguise(path, index)

    assert refresh(original, tmp_path / "wh_original", instance).success
    result = refresh(disguised, tmp_path / "wh_disguised", instance)
    assert result.success
    before = table_contents(tmp_path / "wh_original")
    after = table_contents(tmp_path / "wh_disguised")
    assert before["observations"]
    for table in PUBLISHED_TABLES:
        assert after[table] == before[table], table
    encodings = {
        row[0] for row in query(tmp_path / "wh_disguised", "SELECT encoding FROM load_log")
    }
    assert {"utf-8-sig", "cp1252"} <= encodings
