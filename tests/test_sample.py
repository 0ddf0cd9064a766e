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
    assert len(quarters) == 28
    spans = {q[0]: q[1:] for q in quarters}
    assert spans.pop("stop_hate_uk_reports") == (10, "2012-13 Q3", "2014-15 Q4")  # began Oct 2012
    assert set(spans.values()) == {(16, "2011-12 Q1", "2014-15 Q4")}
    # Each OSCP area level adds up: 5 districts + 4 CSPs + the county per indicator and quarter;
    # Home Office data are published by CSP (4 CSPs + the county); Stop Hate UK and the force's
    # hate crime and domestic abuse extracts also have figures whose district is not known.
    per_cell = """SELECT indicator_id LIKE 'ho_%', source_id IN ('stop_hate_uk', 'tvp_hate_crime',
                         'tvp_domestic_abuse'), count(*)
                  FROM scorecard
                  JOIN (SELECT DISTINCT indicator_id, source_id FROM dim_indicator_measure
                        JOIN dim_measure USING (measure_id)) USING (indicator_id)
                  GROUP BY indicator_id, source_id, quarter_start"""
    assert set(query(wh, per_cell)) == {(False, False, 10), (True, False, 5), (False, True, 11)}
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


def test_the_sample_scorecard_gives_the_domestic_abuse_rise_untested_across_its_break(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    assert refresh(SAMPLE_RAW_DIR, tmp_path / "wh", instance).success
    wh = tmp_path / "wh"
    [row] = query(
        wh,
        """SELECT value, value_same_quarter_last_year, change, p_value, direction, exception,
                  control_upper, sufficient_history, series_break, rag, notes
           FROM scorecard WHERE indicator_id = 'domestic_abuse_crimes'
           AND area_type = 'county' AND fy_quarter = '2013-14 Q2'""",
    )
    value, last_year, change, p_value, direction, exception, upper, *flags, notes = row
    assert (value, last_year, change) == (1299, 915, 384)
    # The rise comes with the definition widened on 1 April 2013: against the narrower quarters
    # before it, it would be a significant, exceptional rise. Nothing is tested across the
    # break, and one quarter since it is too short a history for control limits.
    assert (p_value, direction, exception, upper) == (None, None, None, None)
    assert flags == [False, True, "grey"]  # sufficient history, series break, RAG
    assert "fewer than 8 quarters of history since the series break of 1 April 2013" in notes
    assert "Domestic abuse definition widened" in notes

    stop_hate = query(
        wh,
        """SELECT DISTINCT sufficient_history, rag, direction, exception FROM scorecard
           WHERE indicator_id = 'stop_hate_uk_reports' AND financial_year = '2013-14'""",
    )
    assert stop_hate == [(False, "grey", None, None)]
    assert query(
        wh,
        """SELECT count(*) FROM scorecard WHERE indicator_id = 'stop_hate_uk_reports'
           AND financial_year = '2013-14'
           AND notes NOT LIKE '%fewer than 8 quarters of history%'""",
    ) == [(0,)]
    # Two districts' hate incident returns lack a month in January-March 2013: unknown, not zero.
    assert query(
        wh,
        """SELECT area_code, value, value_status FROM scorecard
           WHERE indicator_id = 'hate_incidents' AND fy_quarter = '2012-13 Q4'
           AND area_type = 'county'""",
    ) == [("E10000025", None, "not_available")]
    latest = query(wh, "SELECT DISTINCT fy_quarter FROM scorecard_latest")
    assert latest == [("2014-15 Q4",)]
