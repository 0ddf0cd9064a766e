"""The whole refresh, run in process by Dagster against real DuckDB files."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import SAMPLE_RAW_DIR, copy_tree, street_row, write_street_file

from oscp_pipeline import periods, warehouse
from oscp_pipeline.cli import execute_refresh, main
from oscp_pipeline.resources import RawData, WarehouseStore

EXPECTED_REAL_DISTRICT_ROWS = {  # SOURCES.md district totals less the 17 duplicate crime rows
    "E07000177": 1972,
    "E07000178": 3883,
    "E07000179": 1338,
    "E07000180": 1237,
    "E07000181": 1041,
}


ASB = "Anti-social behaviour"


def refresh(raw_dir: Path, warehouse_dir: Path, instance: dg.DagsterInstance):
    resources = {
        "raw": RawData(raw_dir=str(raw_dir)),
        "store": WarehouseStore(warehouse_dir=str(warehouse_dir)),
    }
    return execute_refresh(resources, instance)


def query(warehouse_dir: Path, sql: str) -> list[tuple]:
    with warehouse.read_only(warehouse_dir) as connection:
        return connection.sql(sql).fetchall()


def test_real_files_reach_the_published_warehouse_with_every_row_accounted_for(
    real_raw_dir: Path, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    result = refresh(real_raw_dir, tmp_path / "wh", instance)
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)

    wh = tmp_path / "wh"
    assert (
        dict(query(wh, "SELECT district_code, count(*) FROM police_street_crime GROUP BY 1"))
        == EXPECTED_REAL_DISTRICT_ROWS
    )
    police_set_aside = "SELECT reason_code, count(*) FROM set_aside WHERE source_id = 'police_uk'"
    assert query(wh, police_set_aside + " GROUP BY 1") == [("duplicate_crime_id", 17)]
    # rows read = rows loaded + rows set aside, for every file, against the real tables.
    accounting = query(
        wh,
        """
        SELECT l.source_file, l.rows_read, l.rows_loaded, l.rows_set_aside,
               (SELECT count(*) FROM police_street_crime p WHERE p.source_file = l.source_file)
               + (SELECT count(DISTINCT row_number) FROM defra_flytipping_incidents d
                  WHERE d.source_file = l.source_file),
               (SELECT count(*) FROM set_aside s WHERE s.source_file = l.source_file)
        FROM load_log l ORDER BY 1
        """,
    )
    assert len(accounting) == 4
    for _file, read, loaded, aside, in_table, in_set_aside in accounting:
        assert read == loaded + aside
        assert (loaded, aside) == (in_table, in_set_aside)
    # The canonical fact and the first scorecard agree with the records.
    assert query(
        wh,
        """SELECT sum(value) FROM observations WHERE measure_id = 'police_uk.all_crime'
           AND area_code = 'E07000178'""",
    ) == [(query(wh, """SELECT count(*) FROM police_street_crime WHERE district_code = 'E07000178'
                        AND crime_type <> 'Anti-social behaviour'""")[0][0],)]  # fmt: skip
    assert query(
        wh,
        """SELECT area_type, fy_quarter, value, value_same_quarter_last_year, change_pct
           FROM scorecard WHERE indicator_id = 'asb_incidents' AND area_code = 'E10000025'""",
    ) == [
        (
            "county",
            "2013-14 Q4",
            query(wh, f"SELECT count(*) FROM police_street_crime WHERE crime_type = '{ASB}'")[0][0],
            None,
            None,
        )
    ]  # fmt: skip
    assert query(
        wh,
        "SELECT value FROM observations WHERE measure_id = 'defra_flytipping.total_incidents' "
        "AND period_start = DATE '2013-04-01' ORDER BY area_code",
    ) == [(469.0,), (1293.0,), (517.0,), (341.0,), (498.0,)]


def test_a_file_failing_the_contract_is_held_back_and_the_rest_is_published(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_street_file(raw, "2014-01", [street_row(), street_row(lsoa_name="Oxford 001A")])
    # A quarter whose only file holds no Oxfordshire rows fails the contract ("at least 1 row").
    write_street_file(raw, "2014-04", [street_row(month="2014-04", lsoa_name="Wycombe 010B")])
    result = refresh(raw, wh, instance)
    assert result.success
    flagged = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.asset_key.to_user_string(), e.check_name, e.severity) for e in flagged] == [
        ("staging/police_uk_street", "great_expectations_contract", dg.AssetCheckSeverity.WARN)
    ]
    assert "1 file(s) held back, the rest staged: police_uk/2014-04/2014-04-thames-valley" in (
        flagged[0].description or ""
    )
    assert query(wh, "SELECT count(*) FROM police_street_crime") == [(2,)]
    assert query(
        wh,
        "SELECT source_file, status, rows_read, rows_loaded, rows_set_aside, message "
        "FROM load_log WHERE status <> 'loaded'",
    ) == [
        (
            "police_uk/2014-04/2014-04-thames-valley-street.csv",
            "quarantined",
            1,
            0,
            1,
            "held back: expected at least 1 row(s) loaded from each file (a file with no rows in "
            "the scope's districts is suspect): found 0",
        )
    ]
    assert query(wh, "SELECT reason_code FROM set_aside WHERE source_file LIKE '%2014-04%'") == [
        ("outside_area",)
    ]


def test_published_file_is_read_only_for_analysts_and_replaced_on_the_next_refresh(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_street_file(raw, "2014-01", [street_row()])
    assert refresh(raw, wh, instance).success
    assert warehouse.published_path(wh).stat().st_mode & 0o777 == 0o444
    write_street_file(raw, "2014-02", [street_row(month="2014-02")] * 3)
    assert refresh(raw, wh, instance).success
    assert query(wh, "SELECT month, count(*) FROM police_street_crime GROUP BY 1 ORDER BY 1") == [
        (dt.date(2014, 1, 1), 1),
        (dt.date(2014, 2, 1), 3),
    ]
    assert not list((wh / ".build").glob("*.duckdb"))


def test_the_command_line_run_works_with_both_folders_anywhere(
    real_raw_dir: Path, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "OSCP_RAW_DIR": str(real_raw_dir),
        "OSCP_WAREHOUSE_DIR": str(tmp_path / "elsewhere"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    completed = subprocess.run(
        [sys.executable, "-m", "oscp_pipeline.cli", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    police_line = next(line for line in completed.stdout.splitlines() if "police_uk " in line)
    assert police_line.split() == ["police_uk", "3", "9,488", "9,471", "17"]
    assert f"Warehouse: {tmp_path / 'elsewhere' / 'oscp.duckdb'}" in completed.stdout
    with duckdb.connect(str(tmp_path / "elsewhere" / "oscp.duckdb"), read_only=True) as c:
        assert c.sql("SELECT count(*) FROM police_street_crime").fetchall() == [(9471,)]


def test_a_refresh_writes_the_excel_scorecard_and_the_biannual_report(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    from openpyxl import load_workbook

    raw, wh = tmp_path / "raw", tmp_path / "wh"
    for month in ("2014-01", "2014-02", "2014-03"):
        write_street_file(raw, month, [street_row(month=month)] * 3)
    assert refresh(raw, wh, instance).success
    excel = wh / "reports" / "oscp-scorecard-2013-14-Q4.xlsx"
    html = wh / "reports" / "oscp-report-2013-14-Q4.html"
    workbook = load_workbook(excel)
    assert {"County", "CSPs", "Districts", "Notes"} <= set(workbook.sheetnames)
    assert "2013-14 Q4" in str(workbook["County"]["A1"].value)
    assert "2013-14" in html.read_text(encoding="utf-8")
    assert not list((wh / "reports").glob("tmp*"))


def test_a_crime_type_not_yet_published_is_not_applicable_not_zero(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    """data.police.uk first published criminal damage in September 2011 and bicycle theft in May
    2013: before that a month's files have no such rows because the category did not exist,
    so its figure is not applicable, not 0, and all crime adds up the categories that did. A
    month of the category with no rows in a district is a real 0, and an archive that does hold
    rows of it before then is counted as it is."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_street_file(
        raw,
        "2011-07",
        [
            street_row("a", "2011-07", crime_type="Burglary"),
            street_row("b", "2011-07", crime_type="Other crime"),
        ],
    )
    write_street_file(raw, "2011-10", [street_row("c", "2011-10", crime_type="Burglary")])
    write_street_file(
        raw,
        "2011-08",
        [street_row("d", "2011-08", "Oxford 001A", crime_type="Criminal damage and arson")],
    )
    assert refresh(raw, wh, instance).success

    def figures(measure: str) -> list[tuple]:
        return query(
            wh,
            f"""SELECT period_start, value_status, count(*), sum(value) FROM observations
                WHERE measure_id = 'police_uk.{measure}' GROUP BY ALL ORDER BY ALL""",
        )

    assert figures("criminal_damage_and_arson") == [
        (dt.date(2011, 7, 1), "not_applicable", 5, None),
        (dt.date(2011, 8, 1), "reported", 5, 1.0),
        (dt.date(2011, 10, 1), "reported", 5, 0.0),
    ]
    assert figures("bicycle_theft") == [
        (dt.date(2011, month, 1), "not_applicable", 5, None) for month in (7, 8, 10)
    ]
    assert figures("all_crime") == [
        (dt.date(2011, 7, 1), "reported", 5, 2.0),
        (dt.date(2011, 8, 1), "reported", 5, 1.0),
        (dt.date(2011, 10, 1), "reported", 5, 1.0),
    ]
    assert query(
        wh,
        """SELECT break_date FROM series_break
           WHERE measure_id = 'police_uk.other_crime' ORDER BY 1""",
    ) == [(dt.date(2011, 9, 1),), (dt.date(2013, 5, 1),)]


def oscp_run(
    raw: Path, wh: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """``oscp run`` on these folders, in this process: its exit code and what it printed."""
    monkeypatch.setenv("OSCP_RAW_DIR", str(raw))
    monkeypatch.setenv("OSCP_WAREHOUSE_DIR", str(wh))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    capsys.readouterr()
    code = main(["run"])
    return code, capsys.readouterr().out


def published_2013_14_q4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, Path]:
    """Raw and warehouse folders after ``oscp run`` published one street row a month of
    January-March 2014."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    for month in ("2014-01", "2014-02", "2014-03"):
        write_street_file(raw, month, [street_row(month=month)])
    assert oscp_run(raw, wh, monkeypatch, capsys)[0] == 0
    return raw, wh


def test_a_report_failing_after_the_publish_is_not_called_an_unchanged_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    raw, wh = published_2013_14_q4(tmp_path, monkeypatch, capsys)
    # A file where the reports folder should be: the reports cannot be written.
    shutil.rmtree(wh / "reports")
    (wh / "reports").write_text("not a folder")
    write_street_file(raw, "2014-04", [street_row(month="2014-04")] * 2)

    code, out = oscp_run(raw, wh, monkeypatch, capsys)

    assert code == 1
    # The run did publish the new quarter...
    assert query(wh, "SELECT count(*) FROM police_street_crime") == [(5,)]
    # ...and says so, naming what failed after it.
    assert "Warehouse published by this run, by source:" in out
    assert "unchanged by this run" not in out
    assert "left as it was before this run" not in out
    assert "Step reports__excel_scorecard failed:" in out
    assert (
        "Refresh FAILED after publishing: the warehouse was published by this run, but "
        "reports__" in out
    )
    assert "Report:" not in out


def test_reports_are_readable_by_every_account_and_only_this_runs_are_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    raw, wh = published_2013_14_q4(tmp_path, monkeypatch, capsys)
    for month in ("2014-07", "2014-08", "2014-09"):  # the next half year arrives
        write_street_file(raw, month, [street_row(month=month)])

    code, out = oscp_run(raw, wh, monkeypatch, capsys)

    assert code == 0
    reports = wh / "reports"
    assert [line for line in out.splitlines() if line.startswith("Report:")] == [
        f"Report:    {reports / 'oscp-scorecard-2014-15-Q2.xlsx'}",
        f"Report:    {reports / 'oscp-report-2014-15-Q2.html'}",
    ]
    # The earlier quarter's reports are still in the folder, but were not written by this run.
    assert (reports / "oscp-scorecard-2013-14-Q4.xlsx").exists()
    modes = {path.name: path.stat().st_mode & 0o777 for path in reports.iterdir()}
    assert set(modes.values()) == {warehouse.PUBLISHED_MODE} == {0o444}


def test_a_lone_first_quarter_gets_no_empty_biannual_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With only 2014-15 Q1 loaded, the latest half or full year ended is 2013-14, of which the
    warehouse holds nothing: no report is written, and the run says why."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    for month in ("2014-04", "2014-05", "2014-06"):
        write_street_file(raw, month, [street_row(month=month)])

    code, out = oscp_run(raw, wh, monkeypatch, capsys)

    assert code == 0
    assert sorted(p.name for p in (wh / "reports").iterdir()) == ["oscp-scorecard-2014-15-Q1.xlsx"]
    assert (
        "note: No bi-annual report written: it would cover the financial year to 2013-14 Q4 "
        "(the latest half or full year ended by 2014-15 Q1), and the scorecard has no figures "
        "for 2013-14 Q4"
    ) in out


def test_partner_extracts_with_only_an_unfinished_quarter_of_street_files_are_refreshed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    copy_tree(SAMPLE_RAW_DIR / "tvp_hate_crime", raw / "tvp_hate_crime")
    this_month = dt.date.today().strftime("%Y-%m")
    write_street_file(raw, this_month, [street_row(month=this_month)])

    code, out = oscp_run(raw, wh, monkeypatch, capsys)

    assert code == 0
    this_quarter = periods.fy_quarter_label(dt.date.today())
    assert f"note: {this_quarter} is not over yet; not refreshed" in out
    assert (
        "No finished quarter has street-level files; refreshing the other sources and the "
        "warehouse" in out
    )
    assert "No street-level files found" not in out
    assert query(wh, "SELECT count(*) > 0 FROM tvp_hate_crime") == [(True,)]
