"""The Dagster UI, served by a real dagster-webserver process, shows assets, checks and history."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from conftest import REPO_DIR, street_row, write_street_file
from test_refresh import refresh

from oscp_pipeline.sources import SOURCES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

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


@pytest.fixture
def ui(tmp_path: Path, dagster_home: Path) -> Iterator[tuple[int, str]]:
    """A refreshed instance served by a real dagster-webserver: (port, run id)."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_street_file(raw, "2014-01", [street_row()])
    with dg.DagsterInstance.get() as instance:
        result = refresh(raw, wh, instance)
    assert result.success
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster-webserver"),
            *("-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)),
        ],
        cwd=REPO_DIR,
        env={**os.environ, "OSCP_RAW_DIR": str(raw), "OSCP_WAREHOUSE_DIR": str(wh)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _graphql(port, "{ version }")
                break
            except OSError:
                assert time.monotonic() < deadline, "dagster-webserver did not start in 120 s"
                time.sleep(1)
        yield port, result.run_id
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_ui_lists_each_source_with_its_checks_and_the_recorded_run(
    ui: tuple[int, str],
) -> None:
    port, run_id = ui
    nodes = _graphql(port, QUERY)["assetNodes"]
    by_key = {"/".join(node["assetKey"]["path"]): node for node in nodes}
    assert set(by_key) == {
        "staging/police_uk_street",
        "warehouse/oscp",
        "warehouse/scorecard",
        "reports/excel_scorecard",
        "reports/biannual_report",
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
    assert by_key["warehouse/oscp"]["assetMaterializations"] == [{"runId": run_id}]


def _rendered_page(port: int, path: str, profile: Path) -> str:
    """The page's DOM after its scripts ran, as headless Chromium renders it."""
    completed = subprocess.run(
        [
            CHROMIUM,
            *("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"),
            *("--disable-background-networking", "--disable-component-update", "--disable-sync"),
            f"--user-data-dir={profile}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (make test installs it "
    "where the machine allows; this test needs a real browser)",
)
def test_a_real_browser_shows_every_source_asset_and_its_checks(
    ui: tuple[int, str], tmp_path: Path
) -> None:
    port, _ = ui
    catalog = _rendered_page(port, "/assets", tmp_path / "profile")
    for spec in SOURCES:
        name = "police_uk_street" if spec.partitioned else spec.source_id
        assert name in catalog, f"{name} is not in the rendered asset catalog"
    assert "Materialized" in catalog
    checks_page = _rendered_page(
        port, "/assets/staging/police_uk_street?view=checks", tmp_path / "profile"
    )
    assert "great_expectations_contract" in checks_page
    assert "row_accounting" in checks_page
