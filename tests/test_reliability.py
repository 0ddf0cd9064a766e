"""The refresh under the ways the real world breaks it: broken sources, re-deliveries, re-runs,
corrupted staging, hostile names. Each test runs the real Dagster job on real DuckDB files."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_RAW_DIR, copy_tree, street_row, write_street_file
from test_refresh import query, refresh

from oscp_pipeline import ingestion, warehouse
from oscp_pipeline.assets.warehouse import SCORECARD_KEY, WAREHOUSE_KEY
from oscp_pipeline.definitions import build_definitions
from oscp_pipeline.resources import RawData, WarehouseStore
from oscp_pipeline.sources import police_uk

SAMPLE = SAMPLE_RAW_DIR
RUN_STAMP_COLUMNS = {"loaded_at", "run_id", "revised_by_run_id", "revised_at"}
"""Columns that say which run wrote a row: the only ones allowed to differ between two runs."""


def table_contents(warehouse_dir: Path) -> dict[str, list[tuple]]:
    """Every published table's rows, sorted, without the columns that identify the run."""
    contents = {}
    with warehouse.read_only(warehouse_dir) as connection:
        for table in warehouse.PUBLISHED_TABLES:
            columns = [
                column
                for column in connection.sql(f"SELECT * FROM {table}").columns
                if column not in RUN_STAMP_COLUMNS
            ]
            listed = ", ".join(f'"{column}"' for column in columns)
            contents[table] = connection.sql(
                f"SELECT {listed} FROM {table} ORDER BY ALL"
            ).fetchall()
    return contents


def cli(raw: Path, wh: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``oscp run`` in a process of its own, as an operator or the schedule starts it."""
    return subprocess.run(
        [sys.executable, "-m", "oscp_pipeline.cli", "run"],
        env={
            **os.environ,
            "OSCP_RAW_DIR": str(raw),
            "OSCP_WAREHOUSE_DIR": str(wh),
            "DAGSTER_HOME": "",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=600,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_running_the_same_refresh_twice_gives_identical_content(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    wh = tmp_path / "wh"
    assert refresh(SAMPLE, wh, instance).success
    first = table_contents(wh)
    assert refresh(SAMPLE, wh, instance).success
    second = table_contents(wh)
    assert sum(len(rows) for rows in first.values()) > 200_000
    for table in warehouse.PUBLISHED_TABLES:
        assert second[table] == first[table], f"{table} differs between two identical runs"
    assert query(wh, "SELECT count(*) FROM revisions") == [(0,)]


def test_a_broken_source_does_not_stop_independent_sources_from_loading(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_street_file(raw, "2014-01", [street_row(), street_row(crime_id="b")])
    copy_tree(SAMPLE / "home_office_prc", raw / "home_office_prc")
    garbage = raw / "tvp_hate_crime" / "tvp_hate_crime_2013-14_Q4.csv"
    garbage.parent.mkdir(parents=True)
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)

    result = refresh(raw, wh, instance)

    assert result.success
    flagged = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.asset_key.path[0] == "staging"
    }
    assert list(flagged) == [("staging/tvp_hate_crime", "great_expectations_contract")]
    evaluation = flagged["staging/tvp_hate_crime", "great_expectations_contract"]
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    held_back = evaluation.metadata["held_back"].value
    assert "tvp_hate_crime/tvp_hate_crime_2013-14_Q4.csv | rejected | 0 |" in held_back
    assert query(wh, "SELECT count(*) FROM police_street_crime") == [(2,)]
    assert query(wh, "SELECT count(*) > 0 FROM home_office_prc") == [(True,)]
    [(status, message)] = query(
        wh, "SELECT status, message FROM load_log WHERE source_id = 'tvp_hate_crime'"
    )
    assert status == "rejected"
    assert message  # the reader's words on what it expected; see the bad-input tests


def test_a_failed_blocking_check_leaves_the_published_warehouse_exactly_as_it_was(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_street_file(raw, "2014-01", [street_row(), street_row(crime_id="b")])
    write_street_file(raw, "2014-04", [street_row(month="2014-04")])
    assert cli(raw, wh).returncode == 0
    published = warehouse.published_path(wh)
    before = digest(published)

    # Rows lost from staging (a bug, a bad disk) must never reach analysts, even when only the
    # warehouse is rebuilt (as from the Dagster UI), so that nothing restages them first.
    staged = wh / "staging" / "police_uk" / "2014-04-01" / "accepted.parquet"
    pq.write_table(pq.read_table(staged).slice(0, 0), staged)
    resources = {"raw": RawData(raw_dir=str(raw)), "store": WarehouseStore(warehouse_dir=str(wh))}
    job = build_definitions(resources).resolve_job_def("quarterly_refresh")
    result = job.execute_in_process(
        instance=instance, asset_selection=[WAREHOUSE_KEY, SCORECARD_KEY], raise_on_error=False
    )

    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [e.check_name for e in failed] == ["row_accounting"]
    assert digest(published) == before
    assert not [p for p in (wh / ".build").iterdir() if p.is_file()]


def test_a_quarter_whose_street_files_are_withdrawn_leaves_the_warehouse(tmp_path: Path) -> None:
    """Raw files are the truth: a quarter's street files withdrawn after it was published (the
    last quarter of the range, then every quarter) take its rows out at the next refresh,
    instead of the rows staged earlier being published again."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_street_file(raw, "2014-01", [street_row(), street_row(crime_id="b")])
    write_street_file(raw, "2014-04", [street_row(month="2014-04")])
    assert cli(raw, wh).returncode == 0
    by_month = "SELECT month, count(*) FROM police_street_crime GROUP BY 1 ORDER BY 1"
    assert query(wh, by_month) == [(dt.date(2014, 1, 1), 2), (dt.date(2014, 4, 1), 1)]

    shutil.rmtree(raw / "police_uk" / "2014-04")
    completed = cli(raw, wh)
    assert completed.returncode == 0, completed.stdout
    assert "note: 2014-15 Q1 has no street-level files any more; its street rows are removed " \
        "from the warehouse" in completed.stdout  # fmt: skip
    assert query(wh, by_month) == [(dt.date(2014, 1, 1), 2)]
    withdrawn = query(
        wh,
        """SELECT DISTINCT period_start, revised_status, deliveries_withdrawn FROM revisions
           WHERE source_id = 'police_uk'""",
    )
    assert withdrawn == [
        (dt.date(2014, 4, 1), None, "police_uk/2014-04/2014-04-thames-valley-street.csv")
    ]
    assert query(wh, "SELECT DISTINCT period_start FROM load_log WHERE source_id = 'police_uk'") \
        == [(dt.date(2014, 1, 1),)]  # fmt: skip

    shutil.rmtree(raw / "police_uk")
    assert cli(raw, wh).returncode == 0
    assert query(wh, by_month) == []
    assert not (wh / "staging" / "police_uk" / "2014-01-01").exists()


def test_a_corrected_redelivery_replaces_the_figures_and_revisions_shows_what_changed(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    burglary = [street_row(crime_id=f"c{i}", crime_type="Burglary") for i in range(4)]
    path = write_street_file(raw, "2014-01", burglary[:3])
    original = digest(path)
    assert refresh(raw, wh, instance).success

    corrected = [*burglary, street_row("o1", lsoa_name="Oxford 001A", crime_type="Burglary")]
    write_street_file(raw, "2014-01", corrected)
    assert refresh(raw, wh, instance).success

    rows = query(
        wh,
        """
        SELECT measure_id, area_code, period_start::VARCHAR, previous_value, revised_value,
               change, previous_status, revised_status, deliveries_added, deliveries_withdrawn
        FROM revisions ORDER BY ALL
        """,
    )
    # The file was replaced in place: the new bytes were added and the old ones withdrawn.
    source_file = "police_uk/2014-01/2014-01-thames-valley-street.csv"
    delivery = ("reported", "reported", source_file, source_file)
    assert rows == [
        ("police_uk.all_crime", "E07000177", "2014-01-01", 3.0, 4.0, 1.0, *delivery),
        ("police_uk.all_crime", "E07000178", "2014-01-01", 0.0, 1.0, 1.0, *delivery),
        ("police_uk.burglary", "E07000177", "2014-01-01", 3.0, 4.0, 1.0, *delivery),
        ("police_uk.burglary", "E07000178", "2014-01-01", 0.0, 1.0, 1.0, *delivery),
    ]
    assert query(wh, f"SELECT sha256 = '{original}' FROM load_log") == [(False,)]

    # A third, identical refresh revises nothing more and keeps the history.
    assert refresh(raw, wh, instance).success
    assert query(wh, "SELECT count(*) FROM revisions") == [(4,)]


def test_the_same_file_delivered_twice_is_loaded_once(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    folder = raw / "stop_hate_uk"
    folder.mkdir(parents=True)
    shutil.copy(SAMPLE / "stop_hate_uk" / "stop_hate_uk_2013-14_Q1.csv", folder)
    assert refresh(raw, wh, instance).success
    once = table_contents(wh)["observations"]

    resent = folder / "stop_hate_uk_2013-14_Q1 (resent).csv"
    shutil.copy(SAMPLE / "stop_hate_uk" / "stop_hate_uk_2013-14_Q1.csv", resent)
    result = refresh(raw, wh, instance)

    assert result.success
    assert table_contents(wh)["observations"] == once
    assert query(
        wh, "SELECT source_file, status, rows_read, message FROM load_log ORDER BY source_file"
    ) == [
        (
            "stop_hate_uk/stop_hate_uk_2013-14_Q1 (resent).csv",
            "duplicate",
            0,
            "identical (same SHA-256) to stop_hate_uk/stop_hate_uk_2013-14_Q1.csv, which is "
            "loaded; not read again",
        ),
        ("stop_hate_uk/stop_hate_uk_2013-14_Q1.csv", "loaded", 7, ""),
    ]


def test_names_with_quotes_semicolons_and_sql_keywords_are_just_names(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    hostile = tmp_path / "o'brien; DROP TABLE observations; --"
    raw, wh = hostile / 'raw "quoted"', hostile / "wh'); SELECT 1; --"
    write_street_file(raw, "2014-01", [street_row()])
    folder = raw / "defra_flytipping"
    folder.mkdir(parents=True)
    name = "fly-tipping x'; DROP TABLE load_log; --.csv"
    text = (
        SAMPLE / "defra_flytipping" / "flytipping_LA_incidents_2012-13_to_2014-15.csv"
    ).read_text(encoding="utf-8")
    header, *rows = text.splitlines()
    hostile_column = '"""; DROP TABLE set_aside; --"'
    (folder / name).write_text(
        "\n".join([f"{header},{hostile_column}", *(f"{row},x" for row in rows)]) + "\n",
        encoding="utf-8",
    )

    result = refresh(raw, wh, instance)

    assert result.success
    assert query(wh, "SELECT count(*) FROM police_street_crime") == [(1,)]
    assert query(
        wh, "SELECT source_file, status FROM load_log WHERE source_id = 'defra_flytipping'"
    ) == [(f"defra_flytipping/{name}", "loaded")]
    with duckdb.connect(str(warehouse.published_path(wh)), read_only=True) as connection:
        tables = {row[0] for row in connection.sql("SHOW TABLES").fetchall()}
    assert set(warehouse.PUBLISHED_TABLES) <= tables
    staged = next(
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["staging", "defra_flytipping"])
    )
    assert staged.materialization.metadata["unknown_columns_ignored"].value == [
        f"defra_flytipping/{name}: ignored 1 unknown column(s): column 34"
    ]


def test_a_month_held_back_leaves_its_quarter_unpublished_never_undercounted(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    for month in ("2014-01", "2014-02", "2014-03", "2014-05", "2014-06", "2014-07", "2014-08",
                  "2014-09"):  # fmt: skip
        write_street_file(raw, month, [street_row(month=month)])
    # April's file holds no Oxfordshire row at all: the file is quarantined on its own.
    write_street_file(raw, "2014-04", [street_row(month="2014-04", lsoa_name="Wycombe 010B")])

    assert refresh(raw, wh, instance).success

    assert query(
        wh,
        """
        SELECT fy_quarter, value, value_status FROM scorecard
        WHERE indicator_id = 'asb_incidents' AND area_code = 'E07000177' ORDER BY quarter_start
        """,
    ) == [("2013-14 Q4", 3.0, "reported"), ("2014-15 Q2", 3.0, "reported")]
    assert query(wh, "SELECT status FROM load_log WHERE source_file LIKE '%2014-04%'") == [
        ("quarantined",)
    ]


def test_a_quarter_restaged_while_the_warehouse_builds_is_published_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second refresh may stage a source while the first builds the warehouse. The build
    reads staging as it was when it began, so it never publishes rows that no load log line
    accounts for: here the quarter is published as staged before its late month arrived."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    staging_dir, quarantine_dir = wh / "staging", wh / "quarantine"
    loaded_at = dt.datetime(2026, 1, 1)
    for month in ("2014-01", "2014-02"):
        write_street_file(raw, month, [street_row(month=month)])
    first = ingestion.ingest_police_uk_quarter(
        raw, staging_dir, quarantine_dir, "2014-01-01", "run-1", loaded_at
    )
    assert first is not None and first.passed
    write_street_file(raw, "2014-03", [street_row(month="2014-03")] * 3)  # the late month

    build_sql = warehouse._sql
    restaged: list[ingestion.StagedBatch | None] = []

    def sql_with_the_quarter_restaged(relative: str) -> str:
        """The other refresh stages the quarter at the worst moment: the load log and set-aside
        rows have been built, the street records not yet."""
        if relative == f"sources/{police_uk.SOURCE_ID}.sql" and not restaged:
            restaged.append(
                ingestion.ingest_police_uk_quarter(
                    raw, staging_dir, quarantine_dir, "2014-01-01", "run-2", loaded_at
                )
            )
        return build_sql(relative)

    monkeypatch.setattr(warehouse, "_sql", sql_with_the_quarter_restaged)
    with warehouse.publishing_lock(wh, "run-3"):
        built = warehouse.build(staging_dir, wh, "run-3")
    [batch] = restaged
    assert batch is not None and batch.passed and batch.accepted_rows == 5

    assert built.passed, [(i.name, i.failures) for i in built.invariants if not i.passed]
    warehouse.publish(built.candidate, wh)
    files = "SELECT source_file, count(*) FROM {} GROUP BY 1 ORDER BY 1"
    before_march = [
        ("police_uk/2014-01/2014-01-thames-valley-street.csv", 1),
        ("police_uk/2014-02/2014-02-thames-valley-street.csv", 1),
    ]
    assert query(wh, files.format("police_street_crime")) == before_march
    assert query(wh, files.format("load_log")) == [(name, 1) for name, _ in before_march]
    assert not [p for p in (wh / ".build").iterdir() if p.name.startswith("staging-")]

    # The next build publishes the quarter as now staged, March with it.
    monkeypatch.setattr(warehouse, "_sql", build_sql)
    with warehouse.publishing_lock(wh, "run-4"):
        rebuilt = warehouse.build(staging_dir, wh, "run-4")
    assert rebuilt.passed
    warehouse.publish(rebuilt.candidate, wh)
    assert query(wh, files.format("police_street_crime"))[-1] == (
        "police_uk/2014-03/2014-03-thames-valley-street.csv",
        3,
    )
