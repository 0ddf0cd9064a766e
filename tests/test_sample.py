"""The bundled synthetic sample: made by the committed generator, and fully refreshed."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

import dagster as dg
from conftest import SAMPLE_RAW_DIR
from test_refresh import query, refresh


def test_the_committed_sample_is_exactly_what_the_seeded_generator_makes(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "oscp_pipeline.synthetic", "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    committed = sorted(p.relative_to(SAMPLE_RAW_DIR) for p in SAMPLE_RAW_DIR.rglob("*.*"))
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.*"))
    assert generated == committed
    assert len([p for p in committed if p.parts[0] == "police_uk"]) == 48
    differing = [
        str(p)
        for p in committed
        if (tmp_path / p).read_bytes() != (SAMPLE_RAW_DIR / p).read_bytes()
    ]
    assert differing == []


def test_refreshing_the_sample_loads_every_quarter_and_accounts_for_every_row(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    result = refresh(SAMPLE_RAW_DIR, tmp_path / "wh", instance)
    assert result.success
    wh = tmp_path / "wh"

    # An independent count of the raw street files with the csv module.
    rows_per_file: Counter[str] = Counter()
    no_location = 0
    for path in sorted((SAMPLE_RAW_DIR / "police_uk").glob("*/*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                rows_per_file[path.relative_to(SAMPLE_RAW_DIR).as_posix()] += 1
                no_location += row["LSOA name"] == ""
    logged = query(wh, "SELECT source_file, rows_read, rows_loaded + rows_set_aside FROM load_log")
    police_logged = {f: (r, total) for f, r, total in logged if f.startswith("police_uk/")}
    assert police_logged == {f: (n, n) for f, n in rows_per_file.items()}
    assert query(wh, "SELECT count(*) FROM set_aside WHERE reason_code = 'no_location'") == [
        (no_location,)
    ]

    quarters = query(
        wh,
        """SELECT indicator_id, count(DISTINCT fy_quarter), min(fy_quarter), max(fy_quarter)
           FROM scorecard WHERE area_type = 'county' GROUP BY 1""",
    )
    assert len(quarters) == 7
    assert {q[1:] for q in quarters} == {(16, "2011-12 Q1", "2014-15 Q4")}
    # Each OSCP area level adds up: 5 districts + 4 CSPs + the county per indicator and quarter.
    per_cell = "SELECT DISTINCT count(*) FROM scorecard GROUP BY indicator_id, quarter_start"
    assert query(wh, per_cell) == [(10,)]
    annual = query(
        wh,
        """SELECT financial_year, count(*) FROM defra_flytipping_incidents
           WHERE measure = 'total_incidents' GROUP BY 1 ORDER BY 1""",
    )
    assert annual == [("2011-12", 5), ("2012-13", 5), ("2013-14", 5), ("2014-15", 5)]


def test_observations_hold_every_source_for_every_quarter_its_files_cover(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    from oscp_pipeline.sources import SOURCES

    assert refresh(SAMPLE_RAW_DIR, tmp_path / "wh", instance).success
    wh = tmp_path / "wh"
    covered = dict(
        query(
            wh,
            """
            WITH spans AS (
                SELECT source_id, unnest(generate_series(
                    date_trunc('quarter', period_start), date_trunc('quarter', period_end),
                    INTERVAL 3 MONTH))::DATE AS quarter
                FROM load_log WHERE status = 'loaded'
            )
            SELECT source_id, list(DISTINCT quarter ORDER BY quarter) FROM spans GROUP BY 1
            """,
        )
    )
    observed = dict(
        query(
            wh,
            """
            SELECT source_id, list(DISTINCT date_trunc('quarter', period_start)::DATE
                                   ORDER BY date_trunc('quarter', period_start)::DATE)
            FROM observations WHERE period_grain IN ('month', 'quarter') GROUP BY 1
            """,
        )
    )
    quarterly_sources = {
        spec.source_id
        for spec in SOURCES
        if any(m["period_grain"] in {"month", "quarter"} for m in spec.measures())
    }
    assert set(observed) == quarterly_sources
    for source_id in quarterly_sources:
        assert observed[source_id] == covered[source_id], source_id
    assert len(observed["police_uk"]) == 16
