"""Faults and concurrency with real processes: a refresh killed with SIGKILL at several points,
two refreshes at once, and a refresh that finds another one publishing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import street_row, write_street_file
from test_reliability import SAMPLE, cli, digest, table_contents

from oscp_pipeline import warehouse
from oscp_pipeline.locking import exclusive_lock


def start_refresh(raw: Path, wh: Path, dagster_home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "oscp_pipeline.cli", "run"],
        env={
            **os.environ,
            "OSCP_RAW_DIR": str(raw),
            "OSCP_WAREHOUSE_DIR": str(wh),
            "DAGSTER_HOME": str(dagster_home),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def kill_when(process: subprocess.Popen[str], reached: Callable[[], bool], point: str) -> None:
    """SIGKILL the refresh the moment ``reached()`` holds, polling every few milliseconds."""
    deadline = time.monotonic() + 300
    while not reached():
        if process.poll() is not None:
            pytest.fail(f"the refresh ended before reaching {point}: {process.stdout.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the refresh never reached {point}")
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL


def staging_scratch(wh: Path) -> list[Path]:
    """Half-written or retired staging partitions (hidden folders beside the partitions)."""
    staging = wh / "staging"
    if not staging.is_dir():
        return []
    return [p for p in staging.glob("*/.*") if p.is_dir()]


def candidates(wh: Path) -> list[Path]:
    return list((wh / ".build").glob("oscp-*.duckdb")) if (wh / ".build").is_dir() else []


def test_a_refresh_killed_at_any_point_leaves_the_published_warehouse_intact(
    tmp_path: Path,
) -> None:
    wh, home = tmp_path / "wh", tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    completed = cli(SAMPLE, wh, DAGSTER_HOME=str(home))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    published = warehouse.published_path(wh)
    before, contents = digest(published), table_contents(wh)
    reports = sorted(p.name for p in (wh / "reports").iterdir())

    points_before_publish: dict[str, Callable[[], bool]] = {
        "while staging": lambda: bool(staging_scratch(wh)),
        "as the warehouse build starts": lambda: bool(candidates(wh)),
        "in the middle of the warehouse build": lambda: any(
            p.stat().st_size > 4_000_000 for p in candidates(wh) if p.exists()
        ),
    }
    for point, reached in points_before_publish.items():
        kill_when(start_refresh(SAMPLE, wh, home), reached, point)
        assert digest(published) == before, f"published file changed by a refresh killed {point}"
        assert table_contents(wh) == contents

    # Killed after publishing, while the reports are written: the new version is whole.
    published_at = published.stat().st_mtime_ns
    kill_when(
        start_refresh(SAMPLE, wh, home),
        lambda: published.stat().st_mtime_ns != published_at,
        "the reports",
    )
    assert table_contents(wh) == contents
    assert sorted(p.name for p in (wh / "reports").iterdir() if not p.name.startswith(".")) == (
        reports
    )

    # The next run needs no clean-up by hand: it removes what the killed ones left, and ends
    # with the same warehouse.
    completed = cli(SAMPLE, wh, DAGSTER_HOME=str(home))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert table_contents(wh) == contents
    assert candidates(wh) == []
    assert staging_scratch(wh) == []
    assert published.stat().st_mode & 0o777 == 0o444


def small_raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    write_street_file(raw, "2014-01", [street_row(), street_row(lsoa_name="Oxford 001A")])
    write_street_file(raw, "2014-02", [street_row(month="2014-02")])
    return raw


def test_two_refreshes_started_at_once_both_finish_with_one_consistent_warehouse(
    tmp_path: Path,
) -> None:
    raw = small_raw(tmp_path)
    alone = cli(raw, tmp_path / "alone")
    assert alone.returncode == 0
    expected = table_contents(tmp_path / "alone")

    wh = tmp_path / "wh"
    homes = [tmp_path / "home1", tmp_path / "home2"]
    for home in homes:
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    processes = [start_refresh(raw, wh, home) for home in homes]
    outputs = [process.communicate(timeout=600)[0] for process in processes]

    assert [process.returncode for process in processes] == [0, 0], outputs
    assert table_contents(wh) == expected
    assert candidates(wh) == []


def test_a_refresh_that_finds_another_publishing_waits_then_gives_up_with_a_clear_message(
    tmp_path: Path,
) -> None:
    raw, wh = small_raw(tmp_path), tmp_path / "wh"
    assert cli(raw, wh).returncode == 0
    before = digest(warehouse.published_path(wh))

    with exclusive_lock(wh / warehouse.LOCK_NAME, "manual-rebuild-42"):
        completed = cli(raw, wh, OSCP_LOCK_WAIT_SECONDS="2")

    assert completed.returncode == 1
    output = completed.stdout + completed.stderr
    assert "Waiting for run manual-rebuild-42 (process " in output
    assert f"{wh} is being written by run manual-rebuild-42 (process {os.getpid()}" in output
    assert "gave up after waiting 2 s" in output
    assert "Refresh FAILED: the published warehouse was left as it was" in completed.stdout
    assert digest(warehouse.published_path(wh)) == before


def test_a_waiting_refresh_publishes_once_the_other_has_finished(tmp_path: Path) -> None:
    raw, wh = small_raw(tmp_path), tmp_path / "wh"
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with exclusive_lock(wh / warehouse.LOCK_NAME, "scheduled-refresh"):
        process = start_refresh(raw, wh, home)
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if "Waiting for run scheduled-refresh" in line:
                break
        else:
            pytest.fail("".join(seen))
        assert not warehouse.published_path(wh).exists()
    output = process.communicate(timeout=600)[0]
    assert process.returncode == 0, output
    assert table_contents(wh)["police_street_crime"]
