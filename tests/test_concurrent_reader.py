"""An analyst holding the published warehouse open must neither block nor see a half refresh."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
from conftest import street_row, write_street_file
from test_refresh import query, refresh

# A separate Python process, as an analyst's DuckDB client would be: it opens the published file
# read-only, says "ready", then keeps querying on the same connection until told to stop.
READER = textwrap.dedent(
    """
    import json, sys, threading, duckdb
    connection = duckdb.connect(sys.argv[1], read_only=True)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    counts, errors = [], []
    print("ready", flush=True)
    while not stop.is_set():
        try:
            rows = connection.sql("SELECT count(*) FROM police_street_crime").fetchall()
            counts.append(rows[0][0])
        except Exception as error:
            errors.append(repr(error))
        stop.wait(0.02)
    print(json.dumps({"counts": sorted(set(counts)), "queries": len(counts), "errors": errors}))
    """
)


def test_a_reader_holding_the_warehouse_open_sees_the_old_version_and_never_breaks(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_street_file(raw, "2014-01", [street_row(), street_row()])
    assert refresh(raw, wh, instance).success

    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(wh / "oscp.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
        write_street_file(raw, "2014-02", [street_row(month="2014-02")] * 5)
        result = refresh(raw, wh, instance)
        assert result.success
        # A new connection sees the new state at once...
        assert query(wh, "SELECT count(*) FROM police_street_crime") == [(7,)]
        output, _ = reader.communicate("stop\n", timeout=60)
    finally:
        reader.kill()
    seen = json.loads(output)
    # ...while the analyst's open connection kept answering, always with the old version.
    assert seen["errors"] == []
    assert seen["queries"] > 0
    assert seen["counts"] == [2]
