"""The scorecard's statistics, checked against figures worked out by hand."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import pytest

from oscp_pipeline.scorecard import stats
from oscp_pipeline.scorecard.build import base_cells, roll_up, scorecard_rows

AREAS: dict[str, dict[str, Any]] = {
    "C": {"area_type": "county", "area_name": "County", "csp_code": None, "county_code": None},
    "P": {"area_type": "csp", "area_name": "P CSP", "csp_code": None, "county_code": "C"},
    "D1": {"area_type": "district", "area_name": "D1", "csp_code": "P", "county_code": "C"},
    "D2": {"area_type": "district", "area_name": "D2", "csp_code": "P", "county_code": "C"},
    "Q": {"area_type": "csp", "area_name": "Q CSP", "csp_code": None, "county_code": "C"},
    "D3": {"area_type": "district", "area_name": "D3", "csp_code": "Q", "county_code": "C"},
    "U": {"area_type": "unallocated", "area_name": "Unknown", "csp_code": None, "county_code": "C"},
}


def indicator(**overrides: Any) -> dict[str, Any]:
    return {
        "indicator_id": "x",
        "indicator_name": "X",
        "polarity": "lower_is_better",
        "area_levels": "district,csp,county",
        "min_history": 8,
        "suppression": "none",
        **overrides,
    }


def quarters_from(first: dt.date, values: list[float | None]) -> dict[dt.date, Any]:
    out = {}
    year, month = first.year, first.month
    for value in values:
        out[dt.date(year, month, 1)] = ("reported", value)
        month += 3
        if month > 12:
            year, month = year + 1, month - 12
    return out


def rows_for(
    values: list[float | None],
    first: dt.date = dt.date(2011, 4, 1),
    targets: dict[tuple[str, str], float] | None = None,
    population: dict[tuple[str, int], tuple[int, bool]] | None = None,
    breaks: dict[str, list[tuple[dt.date, str]]] | None = None,
    **overrides: Any,
) -> dict[str, dict[str, Any]]:
    """Scorecard rows of indicator x in district D1, keyed by fy_quarter."""
    cells = {("x", "D1", q): cell for q, cell in quarters_from(first, values).items()}
    rows = scorecard_rows(
        cells,
        {"x": indicator(**overrides)},
        {"x": ["m"]},
        targets or {},
        AREAS,
        population or {},
        breaks or {},
    )
    return {r["fy_quarter"]: r for r in rows if r["area_code"] == "D1"}


# --- Poisson comparison -----------------------------------------------------------------------


def two_sided_binomial(k: int, n: int) -> float:
    """Hand formula: 2 * P(X <= k) for X ~ Binomial(n, 1/2), k below n/2."""
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


def test_poisson_comparison_10_against_25_is_significant() -> None:
    # n = 35; P(X <= 10) = sum C(35, i) / 2^35, i = 0..10 = 0.00835...; two-sided 0.0167 < 0.05.
    p = stats.poisson_comparison_p_value(10, 25)
    assert p == pytest.approx(two_sided_binomial(10, 35))
    assert p == pytest.approx(0.0167, abs=0.0001)
    assert stats.direction(10, 25, p, "lower_is_better") == "improving"
    assert stats.direction(25, 10, p, "lower_is_better") == "deteriorating"
    assert stats.direction(25, 10, p, "higher_is_better") == "improving"
    assert stats.direction(25, 10, p, "monitor_only") == "increase"


def test_poisson_comparison_20_against_24_is_not_significant() -> None:
    # n = 44; 2 * P(X <= 20) = 0.65 > 0.05.
    p = stats.poisson_comparison_p_value(20, 24)
    assert p == pytest.approx(two_sided_binomial(20, 44))
    assert p == pytest.approx(0.651, abs=0.001)
    assert stats.direction(20, 24, p, "lower_is_better") == "stable"


def test_two_zero_counts_have_no_p_value_and_are_stable() -> None:
    assert stats.poisson_comparison_p_value(0, 0) is None
    assert stats.direction(0, 0, None, "lower_is_better") == "stable"


# --- change -----------------------------------------------------------------------------------


def test_change_pct_is_never_infinite_or_a_silent_zero() -> None:
    assert stats.change_pct(5, 0) is None  # last year zero: no percentage
    assert stats.change_pct(5, None) is None  # last year missing
    assert stats.change_pct(None, 5) is None
    assert stats.change_pct(0, 4) == -100.0  # (0 - 4) / 4
    assert stats.change_pct(12, 10) == 20.0  # (12 - 10) / 10
    assert stats.change_pct(10, 30) == -66.7  # -20 / 30 = -66.67


def test_zero_and_missing_last_year_in_the_scorecard() -> None:
    # 2011-12 Q1..Q4 = 0, 1, 2, 3; 2012-13 Q1 = 6 (last year 0), Q2 = None -> not loaded.
    rows = rows_for([0, 1, 2, 3, 6])
    zero = rows["2012-13 Q1"]
    assert (zero["value_same_quarter_last_year"], zero["change"], zero["change_pct"]) == (
        0,
        6,
        None,
    )
    first = rows["2011-12 Q1"]
    assert (first["value_same_quarter_last_year"], first["change"], first["change_pct"]) == (
        None,
        None,
        None,
    )
    assert first["direction"] is None and first["p_value"] is None


# --- control limits ---------------------------------------------------------------------------


def test_control_limits_are_centre_plus_or_minus_three_root_centre() -> None:
    assert stats.control_limits(16) == (4.0, 28.0)  # 16 -/+ 3 * 4
    assert stats.control_limits(4) == (0.0, 10.0)  # 4 - 6 < 0 -> 0; 4 + 6
    assert stats.exception(28, 4, 28) is None  # exactly on the upper limit
    assert stats.exception(4, 4, 28) is None  # exactly on the lower limit
    assert stats.exception(29, 4, 28) == "high"
    assert stats.exception(3, 4, 28) == "low"


def test_a_quarter_exactly_on_the_control_limit_is_not_an_exception() -> None:
    # Eight earlier quarters of 16: centre 16, limits 16 -/+ 12 = 4 and 28 (2 years: no
    # seasonal adjustment, each quarter of the year has only 2 earlier values).
    on_limit = rows_for([16] * 8 + [28])["2013-14 Q1"]
    assert (on_limit["control_lower"], on_limit["control_upper"]) == (4.0, 28.0)
    assert on_limit["sufficient_history"] is True
    assert on_limit["exception"] is None
    assert rows_for([16] * 8 + [29])["2013-14 Q1"]["exception"] == "high"
    assert rows_for([16] * 8 + [4])["2013-14 Q1"]["exception"] is None
    assert rows_for([16] * 8 + [3])["2013-14 Q1"]["exception"] == "low"


def test_seasonal_centre_scales_the_mean_by_the_quarter_index() -> None:
    # Three years of Q1..Q4 = 10, 20, 30, 40: mean 25; quarter means 10, 20, 30, 40 (mean 25);
    # Q2 index 20 / 25 = 0.8 -> centre 25 * 0.8 = 20.
    history = [(q, 10.0 * q) for _ in range(3) for q in (1, 2, 3, 4)]
    assert stats.seasonal_centre(history, 2) == pytest.approx(20.0)
    # Two years only: no seasonal adjustment, the plain mean.
    assert stats.seasonal_centre(history[:8], 2) == pytest.approx(25.0)


# --- history, RAG -----------------------------------------------------------------------------


def test_short_history_has_grey_rag_no_trend_no_exception_and_says_so() -> None:
    # Five quarters, a target and a big rise: still grey, no direction, no exception test.
    rows = rows_for([10, 10, 10, 10, 100], targets={("x", "2012-13"): -2.0})
    row = rows["2012-13 Q1"]
    assert row["sufficient_history"] is False
    assert row["target_change_pct"] == -2.0
    assert (row["rag"], row["direction"], row["exception"]) == ("grey", None, None)
    assert (row["control_lower"], row["control_upper"], row["p_value"]) == (None, None, None)
    assert "fewer than 8 quarters of history" in row["notes"]


@pytest.mark.parametrize(
    ("change", "target", "polarity", "sufficient", "expected"),
    [
        (-5.0, -2.0, "lower_is_better", True, "green"),  # beat the -2% target
        (-2.0, -2.0, "lower_is_better", True, "green"),  # exactly on target: achieved
        (-1.0, -2.0, "lower_is_better", True, "amber"),  # missed, but down on last year
        (3.0, -2.0, "lower_is_better", True, "red"),  # missed and up on last year
        (0.0, -2.0, "lower_is_better", True, "red"),  # missed and no better
        (3.0, 2.0, "higher_is_better", True, "green"),
        (1.0, 2.0, "higher_is_better", True, "amber"),
        (-1.0, 2.0, "higher_is_better", True, "red"),
        (-5.0, None, "lower_is_better", True, "grey"),  # no target
        (-5.0, -2.0, "monitor_only", True, "grey"),
        (-5.0, -2.0, "lower_is_better", False, "grey"),  # too little history
        (None, -2.0, "lower_is_better", True, "grey"),  # no comparable last year
    ],
)
def test_rag(
    change: float | None, target: float | None, polarity: str, sufficient: bool, expected: str
) -> None:
    assert stats.rag(change, target, polarity, sufficient) == expected


def test_rag_in_the_scorecard_uses_the_year_to_date_change() -> None:
    # 2011-12 and 2012-13: 100 a quarter (8 quarters). 2013-14 Q1 = 90: YTD 90 vs 100 = -10%
    # (target -5%: green); Q2 = 108: YTD 198 vs 200 = -1% (amber); Q3 = 120: 318 vs 300 = +6%
    # (red).
    rows = rows_for([100] * 8 + [90, 108, 120], targets={("x", "2013-14"): -5.0})
    assert [rows[f"2013-14 Q{q}"]["change_ytd_pct"] for q in (1, 2, 3)] == [-10.0, -1.0, 6.0]
    assert [rows[f"2013-14 Q{q}"]["rag"] for q in (1, 2, 3)] == ["green", "amber", "red"]
    assert rows["2012-13 Q4"]["rag"] == "grey"  # no target for 2012-13


# --- YTD, rolling 12 months, baseline, rate ---------------------------------------------------


def test_year_to_date_rolling_twelve_months_and_baseline() -> None:
    # 2011-12 Q1..Q4 = 10, 20, 30, 40; 2012-13 = 11, 21, 31, 41; 2013-14 = 12, 22, 32, 42;
    # 2014-15 Q1 = 15, Q2 = 25.
    values = [10, 20, 30, 40, 11, 21, 31, 41, 12, 22, 32, 42, 15, 25]
    rows = rows_for(values)
    q2 = rows["2014-15 Q2"]
    assert q2["value_ytd"] == 15 + 25  # 40
    assert q2["value_ytd_last_year"] == 12 + 22  # 34
    assert q2["change_ytd"] == 6
    assert q2["change_ytd_pct"] == 17.6  # 6 / 34 = 17.65%
    assert q2["value_rolling_12m"] == 32 + 42 + 15 + 25  # 114
    assert q2["baseline"] == pytest.approx((22 + 21 + 20) / 3)  # same quarter, 3 years: 21
    assert rows["2013-14 Q2"]["baseline"] is None  # only two earlier years
    assert rows["2011-12 Q3"]["value_rolling_12m"] is None  # fewer than four quarters
    assert rows["2011-12 Q3"]["value_ytd"] == 10 + 20 + 30
    assert rows["2011-12 Q3"]["value_ytd_last_year"] is None


def test_rate_per_thousand_uses_the_matching_mid_year_and_flags_estimates() -> None:
    population = {("D1", 2011): (20_000, False), ("D1", 2012): (25_000, True)}
    rows = rows_for([50, 50, 50, 50, 50], population=population)
    census = rows["2011-12 Q4"]  # January-March 2012 is in FY 2011-12: mid-2011 population
    assert (census["population"], census["population_is_estimate"]) == (20_000, False)
    assert census["rate_per_1000"] == 2.5  # 1000 * 50 / 20,000
    assert "estimated" not in (census["notes"] or "")
    estimated = rows["2012-13 Q1"]
    assert (estimated["population"], estimated["population_is_estimate"]) == (25_000, True)
    assert estimated["rate_per_1000"] == 2.0  # 1000 * 50 / 25,000
    assert "estimated mid-2012 population" in estimated["notes"]


def test_series_break_is_flagged_with_its_description() -> None:
    breaks = {"m": [(dt.date(2013, 4, 1), "Definition widened")]}
    rows = rows_for([5] * 16, breaks=breaks)
    # 2013-14 Q2 compares with 2012-13 Q2 (July 2012): the break (April 2013) lies between.
    assert rows["2013-14 Q2"]["series_break"] is True
    assert (
        "Series break since the same quarter last year: Definition widened"
        in (rows["2013-14 Q2"]["notes"])
    )
    assert rows["2013-14 Q1"]["series_break"] is True  # the break is the quarter's first day
    assert rows["2012-13 Q4"]["series_break"] is False
    assert rows["2014-15 Q1"]["series_break"] is False  # both quarters after the break
    assert rows["2014-15 Q2"]["series_break"] is False  # both years to date after it too


def test_a_break_inside_the_year_to_date_compared_is_flagged() -> None:
    """2013-14 Q3's quarter is compared with October-December 2012, after a June 2012 break,
    but its year to date (which the RAG rates) with April-December 2012, which spans it."""
    breaks = {"m": [(dt.date(2012, 6, 1), "Definition widened")]}
    rows = rows_for([5] * 16, breaks=breaks)
    q3 = rows["2013-14 Q3"]
    assert q3["series_break"] is True
    assert (
        "Series break since the start of the year to date compared (April 2012): "
        "Definition widened" in q3["notes"]
    )
    assert rows["2013-14 Q1"]["notes"].count("since the same quarter last year") == 1
    assert rows["2014-15 Q3"]["series_break"] is False


def test_history_before_a_series_break_judges_nothing_after_it() -> None:
    """A definition widened on 1 April 2013 raises the level from 50 to 100: judged against
    the narrower quarters every later quarter would be an exceptional rise. History restarts at
    the break, so the new level needs its own min_history quarters first."""
    breaks = {"m": [(dt.date(2013, 4, 1), "Definition widened")]}
    rows = rows_for([50] * 8 + [100] * 12, breaks=breaks, min_history=4)
    for label in ("2013-14 Q1", "2013-14 Q4"):
        row = rows[label]
        assert (row["sufficient_history"], row["exception"], row["control_upper"]) == (
            False,
            None,
            None,
        )
        assert (
            "fewer than 4 quarters of history since the series break of 1 April 2013"
            in row["notes"]
        )
    settled = rows["2014-15 Q1"]  # four quarters at 100 since the break
    assert settled["sufficient_history"] is True
    assert settled["control_lower"] == pytest.approx(100 - 3 * math.sqrt(100))
    assert settled["exception"] is None


def test_nothing_is_tested_or_rated_across_a_series_break() -> None:
    """With history enough since a break, a quarter compared with one before the break gets no
    direction, and a year to date spanning it no RAG, though both changes are still given."""
    breaks = {"m": [(dt.date(2012, 6, 1), "Definition widened")]}
    values = [20] * 5 + [200] * 15  # the break in 2012-13 Q1, history from 2012-13 Q2
    targets = {("x", "2013-14"): -5.0, ("x", "2014-15"): -5.0}
    rows = rows_for(values, targets=targets, breaks=breaks, min_history=1)
    q1 = rows["2013-14 Q1"]  # against 2012-13 Q1, the break quarter itself
    assert q1["sufficient_history"] is True and q1["change"] == 180.0
    assert (q1["direction"], q1["p_value"], q1["rag"]) == (None, None, "grey")
    assert "not like for like: no significance test or RAG" in q1["notes"]
    q3 = rows["2013-14 Q3"]  # quarters both after it, the years to date not
    assert (q3["direction"], q3["change_ytd"], q3["rag"]) == ("stable", 180.0, "grey")
    assert "no significance test on the year to date, and no RAG" in q3["notes"]
    assert rows["2014-15 Q1"]["rag"] == "red"  # rated again: level, so no better than last year


def test_a_negative_net_figure_is_not_tested_as_a_count() -> None:
    """Home Office figures net off cancelled crimes: a quarter of -1 must not stop the build."""
    rows = rows_for([3, 2, 4, 3, 2, 1, 3, 2, 5, -1, 2, 3], min_history=4)
    negative = rows["2013-14 Q2"]
    assert (negative["value"], negative["change"]) == (-1.0, -2.0)
    assert (negative["p_value"], negative["direction"], negative["exception"]) == (None,) * 3
    assert (
        "A negative figure (more crimes cancelled than recorded) is not a count"
        in (negative["notes"])
    )
    after = rows["2013-14 Q3"]
    assert after["p_value"] is not None and after["control_upper"] is not None
    assert stats.poisson_comparison_p_value(-1, 4) is None


def test_a_negative_quarter_last_year_gives_no_change_pct_or_rag() -> None:
    """3 against -2 last year is no 250% fall: no %, no test, no RAG; this quarter, a count,
    still gets its exception test."""
    values = [3, 2, 4, 3, -2, 2, 3, 2, 3, 2, 4, 3]  # 2012-13 Q1 is -2
    rows = rows_for(values, targets={("x", "2013-14"): -5.0}, min_history=4)
    q1 = rows["2013-14 Q1"]
    assert (q1["value"], q1["value_same_quarter_last_year"], q1["change"]) == (3.0, -2.0, 5.0)
    assert (q1["change_pct"], q1["change_ytd_pct"], q1["p_value"], q1["direction"]) == (None,) * 4
    assert q1["rag"] == "grey"
    assert q1["control_upper"] is not None
    assert "The same quarter last year is negative" in q1["notes"]
    assert "is not a count" not in q1["notes"]


def test_a_quarter_after_a_break_without_a_figure_still_counts_history_from_the_break() -> None:
    """A not-available quarter after a break has no value, but its history is still the
    quarters since the break; a quarter the measure existed in only in part keeps the whole
    series' history (it is never tested), so no 'since the break' note is put on it."""
    breaks = {"m": [(dt.date(2013, 4, 1), "Definition widened")]}
    cells = {
        ("x", "D1", q): cell for q, cell in quarters_from(dt.date(2011, 4, 1), [5] * 12).items()
    }
    cells[("x", "D1", dt.date(2013, 7, 1))] = ("not_available", None)
    ended = {"m": [(dt.date(2013, 11, 21), "Series ends")]}
    cells_ended = dict(cells)
    cells_ended[("x", "D1", dt.date(2013, 7, 1))] = ("reported", 5.0)
    cells_ended[("x", "D1", dt.date(2013, 10, 1))] = ("partly_not_applicable", 2.0)

    def by_quarter(cells_in: dict, breaks_in: dict) -> dict[str, dict[str, Any]]:
        made = scorecard_rows(
            cells_in, {"x": indicator(min_history=4)}, {"x": ["m"]}, {}, AREAS, {}, breaks_in
        )
        return {r["fy_quarter"]: r for r in made if r["area_code"] == "D1"}

    missing = by_quarter(cells, breaks)["2013-14 Q2"]
    assert missing["sufficient_history"] is False
    part = by_quarter(cells_ended, ended)["2013-14 Q3"]
    assert part["sufficient_history"] is True
    assert "since the series break" not in (part["notes"] or "")


def test_a_baseline_spanning_a_series_break_is_not_given() -> None:
    breaks = {"m": [(dt.date(2013, 4, 1), "Definition widened")]}
    rows = rows_for([50] * 8 + [100] * 16, breaks=breaks, min_history=4)
    assert rows["2015-16 Q1"]["baseline"] is None  # 2012-13 Q1 is before the break
    assert rows["2016-17 Q1"]["baseline"] == 100.0


def test_a_part_quarter_is_never_compared_with_a_whole_one() -> None:
    """A crime type first published in May 2013 counts two months in 2013-14 Q1 (April is not
    applicable): 2014-15 Q1's 90 against its 60 is the missing month, not a 50% rise."""
    values: list[float | None] = [None] * 8 + [60] + [90] * 15  # to 2016-17 Q4
    cells = {("x", "D1", q): cell for q, cell in quarters_from(dt.date(2011, 4, 1), values).items()}
    for quarter in list(cells)[:8]:
        cells[quarter] = ("not_applicable", None)
    cells[("x", "D1", dt.date(2013, 4, 1))] = ("partly_not_applicable", 60.0)
    rows = {
        r["fy_quarter"]: r
        for r in scorecard_rows(
            cells,
            {"x": indicator(min_history=2)},
            {"x": ["m"]},
            {("x", "2014-15"): -5.0},
            AREAS,
            {},
            {},
        )
        if r["area_code"] == "D1"
    }

    q1 = rows["2014-15 Q1"]
    assert (q1["value"], q1["value_same_quarter_last_year"]) == (90.0, 60.0)
    assert (q1["change"], q1["change_pct"], q1["direction"], q1["p_value"]) == (None,) * 4
    assert (q1["change_ytd"], q1["change_ytd_pct"], q1["rag"]) == (None, None, "grey")
    assert "The same quarter last year counts only the months the measure existed" in q1["notes"]
    assert "The years to date compared include a quarter that counts only part" in q1["notes"]
    q3 = rows["2014-15 Q3"]  # its year to date last year starts with the part quarter
    assert q3["change_pct"] == 0.0 and q3["direction"] == "stable"
    assert (q3["change_ytd_pct"], q3["rag"]) == (None, "grey")
    assert rows["2015-16 Q1"]["change_ytd_pct"] == 0.0  # whole quarters on both sides again
    assert rows["2016-17 Q1"]["baseline"] is None  # 2013-14 Q1 is one of its three years
    assert rows["2016-17 Q2"]["baseline"] == 90.0
    assert rows["2013-14 Q1"]["change"] is None  # the part quarter itself is not compared
    rolling_note = "The rolling 12 months include a quarter that counts only part"
    assert rows["2013-14 Q4"]["value_rolling_12m"] == 330.0  # April 2013 not applicable
    assert rolling_note in rows["2013-14 Q4"]["notes"]
    assert rows["2014-15 Q1"]["value_rolling_12m"] == 360.0
    assert rolling_note not in rows["2014-15 Q1"]["notes"]


# --- suppression ------------------------------------------------------------------------------


def test_secondary_suppression_withholds_the_next_smallest_district() -> None:
    # One district of three at 2: withheld; the total 19 would give it away, so the next
    # smallest (7) is withheld as well; 10 stays.
    assert stats.suppress({"T": 19, "A": 2, "B": 10, "C": 7}, [("T", ["A", "B", "C"])]) == {
        "A": "primary",
        "C": "secondary",
    }
    # Two small numbers hide each other; zero and five are not small numbers.
    assert stats.suppress({"T": 12, "A": 2, "B": 3, "C": 7}, [("T", ["A", "B", "C"])]) == {
        "A": "primary",
        "B": "primary",
    }
    assert stats.suppress({"T": 12, "A": 0, "B": 5, "C": 7}, [("T", ["A", "B", "C"])]) == {}


def test_a_zero_is_not_withheld_beside_a_small_number_while_another_part_is_left() -> None:
    # Withholding B (0) with A (2) would leave 12 - 10 = A + B = 2 in plain view: C goes instead.
    assert stats.suppress({"T": 12, "A": 2, "B": 0, "C": 10}, [("T", ["A", "B", "C"])]) == {
        "A": "primary",
        "C": "secondary",
    }
    # In subtotal S = A + B nothing else is left: the 0 is withheld, then S (the sum of two
    # withheld cells), then in G = S + X the next cell, X. The grand total G stays published.
    equations = [("S", ["A", "B"]), ("G", ["S", "X"]), ("G", ["A", "B", "X"])]
    assert stats.suppress({"G": 12, "S": 2, "A": 2, "B": 0, "X": 10}, equations) == {
        "A": "primary",
        "B": "secondary",
        "S": "total",
        "X": "secondary",
    }
    assert stats.suppress({"G": 5, "A": 2, "B": 3}, [("G", ["A", "B"])]) == {
        "A": "primary",
        "B": "primary",
    }


def test_linked_sums_need_a_second_withheld_cell_in_every_one() -> None:
    # County 152 = CSPs 50 + 2 + 30 + 30 + unallocated 40 = districts 50 + 2 + 10 + 20 + 30 + 40.
    # Oxford (2, a single-district CSP) is withheld, so is its CSP (the same figure); the CSP
    # sum then needs a second CSP (South and Vale 30, first of the two 30s) and the district sum
    # a second district (South 10), which is also South and Vale's second withheld cell.
    values = {
        "county": 152.0, "cherwell": 50.0, "oxford": 2.0, "southvale": 30.0, "west": 30.0,
        "cherwell_d": 50.0, "oxford_d": 2.0, "south_d": 10.0, "vale_d": 20.0, "west_d": 30.0,
        "unallocated": 40.0,
    }  # fmt: skip
    equations = [
        ("cherwell", ["cherwell_d"]),
        ("oxford", ["oxford_d"]),
        ("southvale", ["south_d", "vale_d"]),
        ("west", ["west_d"]),
        ("county", ["cherwell", "oxford", "southvale", "west", "unallocated"]),
        ("county", ["cherwell_d", "oxford_d", "south_d", "vale_d", "west_d", "unallocated"]),
    ]
    withheld = stats.suppress(values, equations, order=list(values))
    assert withheld == {
        "oxford_d": "primary",
        "oxford": "total",
        "southvale": "secondary",
        "south_d": "secondary",
    }
    for total, parts in equations:
        assert sum(cell in withheld for cell in (total, *parts)) != 1


def test_suppression_in_the_scorecard_keeps_the_true_value() -> None:
    # CSP P = D1 (2) + D2 (9); CSP Q = D3 (6); county = P + Q + U (20) = D1 + D2 + D3 + U.
    # D1 is a small number; in P it is alone, so D2 is withheld too; P is then a sum of
    # withheld figures and is withheld; in the county = P + Q + U that leaves P alone, so Q
    # (6, smaller than U) goes, and with it its only district D3.
    quarter = dt.date(2013, 4, 1)
    base = {("x", area, quarter): ("reported", v) for area, v in (("D1", 2), ("D2", 9), ("D3", 6))}
    base[("x", "U", quarter)] = ("reported", 20.0)
    cells = roll_up(base, AREAS)
    assert cells[("x", "P", quarter)] == ("reported", 11.0)
    assert cells[("x", "Q", quarter)] == ("reported", 6.0)
    assert cells[("x", "C", quarter)] == ("reported", 37.0)  # unallocated counts in the county
    rows = scorecard_rows(
        cells, {"x": indicator(suppression="small_numbers")}, {"x": ["m"]}, {}, AREAS, {}, {}
    )
    hidden = {r["area_code"]: (r["value"], r["suppressed"]) for r in rows}
    assert hidden == {
        "C": (37.0, False),
        "P": (11.0, True),
        "D1": (2.0, True),
        "D2": (9.0, True),
        "Q": (6.0, True),
        "D3": (6.0, True),
        "U": (20.0, False),
    }
    notes = {r["area_code"]: r["notes"] for r in rows}
    assert "Small number (1 to 4)" in notes["D1"]
    assert "the figures it adds up are all withheld" in notes["P"]
    assert "cannot be worked out from the totals" in notes["Q"]


# --- quarters from months ---------------------------------------------------------------------


def test_a_quarter_needs_every_month_and_a_missing_month_makes_it_unknown() -> None:
    def month(area: str, day: str, value: float | None, status: str = "reported") -> dict:
        return {
            "measure_id": "m",
            "area_code": area,
            "period_start": dt.date.fromisoformat(day),
            "period_grain": "month",
            "value": value,
            "value_status": status,
        }

    observations = pd.DataFrame(
        [
            month("D1", "2013-04-01", 1),
            month("D1", "2013-05-01", 2),
            month("D1", "2013-06-01", 3),
            month("D2", "2013-04-01", 4),
            month("D2", "2013-05-01", None, "not_available"),
            month("D2", "2013-06-01", 6),
            month("D3", "2013-07-01", 7),  # one month only: no complete quarter
            month("D3", "2013-04-01", 1),
            month("D3", "2013-05-01", None, "not_applicable"),
            month("D3", "2013-06-01", None, "not_applicable"),
        ]
    )
    cells = base_cells(observations, {"x": ["m"]})
    q1 = dt.date(2013, 4, 1)
    assert cells == {
        ("x", "D1", q1): ("reported", 6.0),
        ("x", "D2", q1): ("not_available", None),
        ("x", "D3", q1): ("partly_not_applicable", 1.0),
    }
    rolled = roll_up(cells, AREAS)
    assert rolled[("x", "C", q1)] == ("not_available", None)  # one unknown district
    assert rolled[("x", "Q", q1)] == ("partly_not_applicable", 1.0)


def test_no_total_is_made_where_the_indicator_has_no_figure_at_all() -> None:
    """With the national scope the areas hold other CSPs too (R, outside the county): a
    partner's indicator, with figures for the partnership's districts only, has no total for
    them, not a not-available one; a national source's has. The partnership's own totals are
    kept, even one whose districts never delivered."""
    national = {
        **AREAS,
        "R": {"area_type": "csp", "area_name": "R CSP", "csp_code": None, "county_code": None},
        "D8": {"area_type": "district", "area_name": "D8", "csp_code": "R", "county_code": None},
        "D9": {"area_type": "district", "area_name": "D9", "csp_code": "R", "county_code": None},
    }
    q1, q2 = dt.date(2013, 4, 1), dt.date(2013, 7, 1)
    partner = {("partner", area, q1): ("reported", 1.0) for area in ("D1", "D2")}
    police = {("police", area, q1): ("reported", 2.0) for area in national if area[0] == "D"}
    police[("police", "D8", q2)] = ("reported", 5.0)  # D9 missing: R's q2 not available

    cells = roll_up({**partner, **police}, national)

    assert sorted(area for (ind, area, _), _ in cells.items() if ind == "partner") == [
        "C", "D1", "D2", "P", "Q",
    ]  # fmt: skip
    # D3 never delivered: its CSP, the partnership's, is not available, never a blank.
    assert cells[("partner", "Q", q1)] == ("not_available", None)
    assert cells[("partner", "C", q1)] == ("not_available", None)
    assert cells[("police", "R", q1)] == ("reported", 4.0)
    assert cells[("police", "R", q2)] == ("not_available", None)


def test_a_total_needs_every_part_the_indicator_has() -> None:
    q1, q2, q3 = dt.date(2013, 4, 1), dt.date(2013, 7, 1), dt.date(2013, 10, 1)
    base: dict[tuple[str, str, dt.date], Any] = {}
    for indicator_id, quarter, areas in (
        ("x", q1, {"D1": 1, "D2": 2, "D3": 4}),  # never an unallocated count
        ("x", q2, {"D1": 1, "D3": 4}),  # D2 not delivered
        ("x", q3, {"D3": 4}),  # nothing of CSP P
        ("y", q1, {"D1": 1, "D2": 2, "D3": 4, "U": 8}),
        ("y", q2, {"D1": 1, "D2": 2, "D3": 4}),  # the unallocated count missing
        ("z", q1, {"P": 3, "Q": 4}),  # published by CSP
        ("z", q2, {"P": 3}),
    ):
        for area, value in areas.items():
            base[(indicator_id, area, quarter)] = ("reported", float(value))
    cells = roll_up(base, AREAS)
    unknown = ("not_available", None)
    assert {key: cell for key, cell in cells.items() if key[1] in ("C", "P", "Q")} == {
        ("x", "C", q1): ("reported", 7.0),  # no unallocated part to wait for
        ("x", "P", q1): ("reported", 3.0),
        ("x", "Q", q1): ("reported", 4.0),
        ("x", "C", q2): unknown,  # not 1 + 4 = 5
        ("x", "P", q2): unknown,  # not 1
        ("x", "Q", q2): ("reported", 4.0),
        ("x", "C", q3): unknown,
        ("x", "P", q3): unknown,  # kept, so that it shows as not available
        ("x", "Q", q3): ("reported", 4.0),
        ("y", "C", q1): ("reported", 15.0),
        ("y", "P", q1): ("reported", 3.0),
        ("y", "Q", q1): ("reported", 4.0),
        ("y", "C", q2): unknown,  # not 7: the unallocated count is a part of y's county
        ("y", "P", q2): ("reported", 3.0),
        ("y", "Q", q2): ("reported", 4.0),
        ("z", "C", q1): ("reported", 7.0),
        ("z", "P", q1): ("reported", 3.0),
        ("z", "Q", q1): ("reported", 4.0),
        ("z", "C", q2): unknown,
        ("z", "P", q2): ("reported", 3.0),
    }
    x_cells = {key: cell for key, cell in cells.items() if key[0] == "x"}
    rows = scorecard_rows(
        x_cells, {"x": indicator(min_history=1)}, {"x": ["m"]}, {("x", "2013-14"): -2.0},
        AREAS, {}, {},
    )  # fmt: skip
    county = {r["fy_quarter"]: r for r in rows if r["area_code"] == "C"}["2013-14 Q2"]
    assert (county["value"], county["value_status"], county["rag"], county["direction"]) == (
        None,
        "not_available",
        "grey",
        None,
    )
    assert county["sufficient_history"] is True  # untested because unknown, not for history
    assert county["value_ytd"] is None and county["exception"] is None


def test_csp_level_data_add_to_the_county_only() -> None:
    quarter = dt.date(2013, 4, 1)
    cells = roll_up(
        {("x", "P", quarter): ("reported", 5.0), ("x", "Q", quarter): ("reported", 7.0)}, AREAS
    )
    assert cells[("x", "C", quarter)] == ("reported", 12.0)
    rows = scorecard_rows(
        cells, {"x": indicator(area_levels="csp,county")}, {"x": ["m"]}, {}, AREAS, {}, {}
    )
    assert sorted(r["area_code"] for r in rows) == ["C", "P", "Q"]


# --- the catalogue ----------------------------------------------------------------------------


def test_the_indicator_catalogue_names_only_known_measures_and_valid_settings() -> None:
    from oscp_pipeline.reference import indicator_catalogue, indicator_tables
    from oscp_pipeline.sources import measure_catalogue

    known = {m["measure_id"] for m in measure_catalogue()}
    catalogue = {i["indicator_id"]: i for i in indicator_catalogue()}
    assert all(set(i["measures"]) <= known for i in catalogue.values())
    for monitored in ("domestic_abuse_crimes", "hate_crimes", "hate_incidents"):
        assert catalogue[monitored]["polarity"] == "monitor_only"
    hate = [i for i in catalogue if i.startswith("hate_") or i == "stop_hate_uk_reports"]
    assert len(hate) == 8 and all(catalogue[i]["suppression"] == "small_numbers" for i in hate)
    assert catalogue["ho_burglary_dwelling"]["area_levels"] == ["csp", "county"]
    assert catalogue["asb_incidents"]["targets"] == {"2013-14": -2.0, "2014-15": -2.0}
    assert all(i["min_history"] == 8 for i in catalogue.values())
    tables = indicator_tables()
    assert tables["indicators"].num_rows == len(catalogue)
    assert tables["indicator_measures"].num_rows == sum(
        len(i["measures"]) for i in catalogue.values()
    )
