"""Headline findings are generated from the scorecard's flags, not written for a period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import SAMPLE_RAW_DIR
from test_refresh import refresh

from oscp_pipeline import warehouse
from oscp_pipeline.reports.findings import SECTIONS, headline_findings, report_period

H1_2013_14 = dt.date(2013, 9, 30)
FY_2014_15 = dt.date(2015, 3, 31)


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse_dir = tmp_path_factory.mktemp("findings") / "wh"
    result = refresh(SAMPLE_RAW_DIR, warehouse_dir, dg.DagsterInstance.ephemeral())
    assert result.success
    return warehouse_dir


@pytest.fixture
def sample(sample_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with warehouse.read_only(sample_warehouse) as connection:
        yield connection


@pytest.fixture
def editable_copy(sample_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory copy of the tables the findings read, to change the data under test."""
    connection = duckdb.connect()
    path = warehouse.published_path(sample_warehouse)
    connection.execute(f"ATTACH '{path}' AS wh (READ_ONLY)")
    for table in (
        "scorecard",
        "dim_area",
        "dim_indicator",
        "dim_indicator_measure",
        "series_break",
    ):
        connection.execute(f"CREATE TABLE {table} AS SELECT * FROM wh.{table}")
    connection.execute("DETACH wh")
    yield connection
    connection.close()


def texts(connection: duckdb.DuckDBPyConnection, day: dt.date = H1_2013_14) -> list[str]:
    return [f.text for f in headline_findings(connection, day)]


def test_sample_2013_14_half_year_findings(sample: duckdb.DuckDBPyConnection) -> None:
    found = texts(sample)
    # The sample's domestic abuse rises in 2013-14 come with the widened definition of 1 April
    # 2013: compared across it and judged on the quarters before it, they would read as
    # exceptional rises. With fewer than 8 quarters since the break, nothing is claimed.
    assert (
        "Domestic abuse crimes, domestic abuse incidents and Stop Hate UK have too few quarters "
        "for reliable trends" in found
    )
    assert not any("Domestic abuse" in text and "increased" in text for text in found)
    assert (
        "Of the district CSP priorities, only all crime, burglary and criminal damage are "
        "reducing; vehicle crime and ASB increased" in found
    )
    assert "Among the ASB data sets, fly tipping and domestic noise increased" in found


def test_the_sample_findings_follow_the_warehouse_flags(sample: duckdb.DuckDBPyConnection) -> None:
    flags = sample.execute(
        """SELECT indicator_id, fy_quarter, direction, exception, sufficient_history, notes
           FROM scorecard WHERE area_type = 'county' AND financial_year = '2013-14'
           AND quarter_start <= DATE '2013-07-01'"""
    ).fetchall()
    by_key = {(i, q): (d, e, h, n) for i, q, d, e, h, n in flags}
    for indicator in ("domestic_abuse_crimes", "domestic_abuse_incidents"):
        direction, exception, sufficient, notes = by_key[(indicator, "2013-14 Q2")]
        assert (direction, exception, sufficient) == (None, None, False)
        assert "fewer than 8 quarters of history since the series break of 1 April 2013" in notes
    assert by_key[("stop_hate_uk_reports", "2013-14 Q2")][2] is False
    assert by_key[("asb_incidents", "2013-14 Q2")][0] == "deteriorating"
    details = {f.section: f.details for f in headline_findings(sample, H1_2013_14)}
    asb = [d for d in details["district_csp_priorities"] if d.startswith("Police-recorded anti")]
    assert asb and "significant: Q2 up" in asb[0] and "exceptionally high in Q2" in asb[0]


def test_different_data_give_different_findings(editable_copy: duckdb.DuckDBPyConnection) -> None:
    connection = editable_copy
    # Domestic abuse (as if its definition had not changed) falls by 30% in both quarters,
    # exceptionally low in Q2; vehicle crime, distraction burglary, ASB and violence with injury
    # fall significantly; Stop Hate UK has a comparable history.
    connection.execute("DELETE FROM series_break WHERE measure_id LIKE 'tvp_domestic_abuse.%'")
    connection.execute(
        """
        UPDATE scorecard SET
            sufficient_history = TRUE, series_break = FALSE,
            value = round(value_same_quarter_last_year * 0.7),
            value_ytd = round(value_ytd_last_year * 0.7),
            change_ytd_pct = -30.0,
            direction = CASE WHEN polarity = 'monitor_only' THEN 'decrease' ELSE 'improving' END,
            exception = CASE WHEN fy_quarter = '2013-14 Q2' AND indicator_id LIKE 'domestic%'
                             THEN 'low' END
        WHERE area_type = 'county' AND fy_quarter IN ('2013-14 Q1', '2013-14 Q2')
          AND indicator_id IN ('domestic_abuse_crimes', 'domestic_abuse_incidents',
                               'vehicle_crime', 'ho_vehicle_offences',
                               'ho_distraction_burglary', 'asb_incidents',
                               'ho_violence_with_injury')
        """
    )
    connection.execute(
        """
        UPDATE scorecard SET sufficient_history = TRUE, value_ytd_last_year = value_ytd * 2,
            value_same_quarter_last_year = value * 2, direction = 'decrease'
        WHERE area_type = 'county' AND indicator_id = 'stop_hate_uk_reports'
          AND fy_quarter IN ('2013-14 Q1', '2013-14 Q2')
        """
    )
    found = texts(connection)
    assert "Domestic abuse crimes and incidents fell, with an exceptional fall in Q2" in found
    assert "District CSP priorities are all reducing" in found
    assert not any("too few quarters" in text for text in found)
    assert "Among the hate crimes and incidents, Stop Hate UK fell" in found
    assert not any("Domestic abuse crimes and incidents increased" in text for text in found)


def test_suppressed_figures_never_appear(editable_copy: duckdb.DuckDBPyConnection) -> None:
    before = headline_findings(editable_copy, H1_2013_14)
    assert any(
        "Domestic noise complaints: year to date up 14.7%" in d for f in before for d in f.details
    )
    (ytd,) = editable_copy.execute(
        """SELECT value_ytd FROM scorecard WHERE indicator_id = 'domestic_noise_complaints'
           AND area_type = 'county' AND fy_quarter = '2013-14 Q2'"""
    ).fetchone()
    editable_copy.execute(
        """UPDATE scorecard SET suppressed = TRUE WHERE indicator_id = 'domestic_noise_complaints'
           AND area_type = 'county' AND financial_year = '2013-14'"""
    )
    after = headline_findings(editable_copy, H1_2013_14)
    words = " ".join([f.text for f in after] + [d for f in after for d in f.details])
    assert "14.7" not in words and f"{ytd:,.0f}" not in words and f"{ytd:.0f}" not in words


def details_of_period(
    connection: duckdb.DuckDBPyConnection, indicator_name: str, day: dt.date
) -> str:
    (found,) = [
        d
        for f in headline_findings(connection, day)
        for d in f.details
        if d.startswith(indicator_name + ":")
    ]
    return found


def details_of(connection: duckdb.DuckDBPyConnection, indicator_name: str) -> str:
    return details_of_period(connection, indicator_name, H1_2013_14)


def test_nothing_is_quoted_from_a_year_to_date_holding_a_withheld_quarter(
    editable_copy: duckdb.DuckDBPyConnection,
) -> None:
    """Last year's Q1 withheld: this half year's change (and its test) would give it away, as
    the other quarters are printed; so would the exceptions and significance judged with it."""
    before = details_of(editable_copy, "Domestic noise complaints")
    assert "year to date up 14.7%" in before and "significant: year to date, Q1 up" in before
    assert "exceptionally high in Q1 and Q2" in before
    editable_copy.execute(
        """UPDATE scorecard SET suppressed = TRUE WHERE indicator_id = 'domestic_noise_complaints'
           AND area_type = 'county' AND fy_quarter = '2012-13 Q1'"""
    )
    after = details_of(editable_copy, "Domestic noise complaints")
    assert after.startswith(
        "Domestic noise complaints: year to date withheld to protect small numbers."
    )
    assert "%" not in after and "significant" not in after and "exceptionally" not in after
    # Fly tipping still carries the section's headline.
    assert "Among the ASB data sets, fly tipping increased" in texts(editable_copy)


def test_a_comparison_across_a_series_break_is_not_judged_and_names_only_its_break(
    editable_copy: duckdb.DuckDBPyConnection,
) -> None:
    """Street-level public order has two breaks (September 2011, May 2013): a 2014-15 year to
    date compared with 2013-14 spans only the second, and is quoted but not judged."""
    editable_copy.execute(
        """UPDATE scorecard SET sufficient_history = TRUE, direction = 'deteriorating'
           WHERE indicator_id = 'public_order' AND area_type = 'county'
           AND financial_year = '2014-15'"""
    )
    found = details_of_period(editable_copy, "Public order offences (street-level)", FY_2014_15)
    assert "year to date" in found and "%" in found
    assert "significant" not in found
    assert "Public order and Possession of weapons" in found  # the May 2013 break
    assert "Public disorder and weapons first" not in found  # the September 2011 break


def test_a_withheld_quarter_is_never_named_significant_or_exceptional(
    editable_copy: duckdb.DuckDBPyConnection,
) -> None:
    editable_copy.execute(
        """UPDATE scorecard SET suppressed = TRUE WHERE indicator_id = 'asb_incidents'
           AND area_type = 'county' AND fy_quarter = '2013-14 Q2'"""
    )
    asb = details_of(editable_copy, "Police-recorded anti-social behaviour incidents")
    assert "Q2" not in asb and "%" not in asb
    assert "withheld to protect small numbers" in asb


def test_a_year_to_date_holding_part_of_a_quarter_is_not_compared(
    editable_copy: duckdb.DuckDBPyConnection,
) -> None:
    before = details_of(editable_copy, "Section 27 directions to leave")
    assert before == (
        "Section 27 directions to leave: year to date down 13.9% on the same period last year "
        "(not significant)."
    )
    editable_copy.execute(
        """UPDATE scorecard SET value_status = 'partly_not_applicable', direction = NULL,
           exception = NULL WHERE indicator_id = 's27_directions' AND area_type = 'county'
           AND fy_quarter = '2012-13 Q2'"""
    )
    after = details_of(editable_copy, "Section 27 directions to leave")
    assert after == "Section 27 directions to leave: no comparable year to date."


def test_periods_are_half_or_full_years() -> None:
    half = report_period(dt.date(2013, 9, 30))
    assert (half.financial_year, half.quarters) == (
        "2013-14",
        (dt.date(2013, 4, 1), dt.date(2013, 7, 1)),
    )
    full = report_period(dt.date(2014, 3, 31))
    assert full.quarters[-1] == dt.date(2014, 1, 1) and len(full.quarters) == 4
    with pytest.raises(ValueError, match="Q3"):
        report_period(dt.date(2013, 12, 31))


def test_sections_name_only_catalogue_indicators(sample: duckdb.DuckDBPyConnection) -> None:
    known = {i for (i,) in sample.execute("SELECT indicator_id FROM dim_indicator").fetchall()}
    named = [i for s in SECTIONS for t in s.topics for i in t.indicator_ids]
    assert set(named) <= known
    assert len(named) == len(set(named))  # each indicator is read in one section only
