"""The Dagster UI, served by a real dagster-webserver process, shows assets, checks and history."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
from conftest import REPO_DIR, street_row, write_street_file
from test_refresh import refresh

from oscp_pipeline.sources import SOURCES

QUERY = """
{ assetNodes {
    assetKey { path }
    groupName
    assetMaterializations(limit: 1) { runId }
    assetChecksOrError { ... on AssetChecks { checks {
        name blocking executionForLatestMaterialization { status } } } }
} }
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_the_ui_lists_each_source_with_its_checks_and_the_recorded_run(
    tmp_path: Path, dagster_home: Path
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_street_file(raw, "2014-01", [street_row()])
    with dg.DagsterInstance.get() as instance:
        result = refresh(raw, wh, instance)
    assert result.success

    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster-webserver"),
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=REPO_DIR,
        env={**os.environ, "OSCP_RAW_DIR": str(raw), "OSCP_WAREHOUSE_DIR": str(wh)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        nodes = None
        while nodes is None:
            try:
                nodes = _graphql(port, QUERY)["assetNodes"]
            except OSError:
                assert time.monotonic() < deadline, "dagster-webserver did not start in 120 s"
                time.sleep(1)
    finally:
        server.terminate()
        server.wait(timeout=30)

    by_key = {"/".join(node["assetKey"]["path"]): node for node in nodes}
    assert set(by_key) == {
        "staging/police_uk_street",
        "warehouse/oscp",
        "warehouse/scorecard",
        *(f"staging/{spec.source_id}" for spec in SOURCES if not spec.partitioned),
    }
    police = by_key["staging/police_uk_street"]
    assert police["groupName"] == "police_uk"
    checks = {c["name"]: c for c in police["assetChecksOrError"]["checks"]}
    assert set(checks) == {"great_expectations_contract", "row_accounting"}
    assert all(c["blocking"] for c in checks.values())
    assert checks["great_expectations_contract"]["executionForLatestMaterialization"] == {
        "status": "SUCCEEDED"
    }
    # The run made outside the UI is in the persistent instance's history.
    assert by_key["warehouse/oscp"]["assetMaterializations"] == [{"runId": result.run_id}]
