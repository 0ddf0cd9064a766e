"""CSP and county totals of a refreshed sample warehouse: never a partial sum of the districts
that arrived, and no withheld small number that can be worked out from the published figures."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
from conftest import SAMPLE_RAW_DIR, copy_tree
from test_refresh import query, refresh

OXFORD_Q4_COMPLAINTS = "council_asb_complaints/oxford/oxford_env_health_complaints_2014-15_Q4.xlsx"


@pytest.fixture(scope="module")
def oxford_q4_missing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample warehouse refreshed without Oxford's 2014-15 Q4 complaints file (every other
    source, the hate crime ones included, exactly as in the sample)."""
    root = tmp_path_factory.mktemp("totals")
    raw = copy_tree(SAMPLE_RAW_DIR, root / "raw")
    (raw / OXFORD_Q4_COMPLAINTS).unlink()
    result = refresh(raw, root / "wh", dg.DagsterInstance.ephemeral())
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["county_equals_sum_of_districts"].passed
    blocking = [
        name
        for name, e in evaluations.items()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    assert blocking == []
    return root / "wh"


def test_a_council_quarter_not_delivered_leaves_the_county_and_its_csp_not_available(
    oxford_q4_missing: Path,
) -> None:
    rows = query(
        oxford_q4_missing,
        """
        SELECT area_name, area_type, value, value_status, change_pct, value_ytd,
               value_rolling_12m, rag, direction, exception
        FROM scorecard
        WHERE indicator_id = 'domestic_noise_complaints' AND fy_quarter = '2014-15 Q4'
          AND area_type <> 'district'
        ORDER BY area_code
        """,
    )
    missing = (None, "not_available", None, None, None, "grey", None, None)
    assert rows == [
        ("Oxfordshire", "county", *missing),  # not 109 + 72 + 74 + 78 = 333 (-46.5%)
        ("Cherwell", "csp", 109.0, "reported", -8.4, 481.0, 481.0, "grey", "stable", None),
        ("Oxford", "csp", *missing),
        ("West Oxfordshire", "csp", 78.0, "reported", 6.8, 365.0, 365.0, "grey", "stable", None),
        ("South and Vale", "csp", 146.0, "reported", -8.2, 703.0, 703.0, "grey", "stable", None),
    ]
    notes = query(
        oxford_q4_missing,
        """
        SELECT DISTINCT notes FROM scorecard
        WHERE indicator_id IN ('domestic_noise_complaints', 'domestic_waste_complaints')
          AND fy_quarter = '2014-15 Q4' AND area_code IN ('E10000025', 'E22000308')
        """,
    )
    assert notes == [("Not available: a month or an area of this quarter was not supplied",)]
    # The quarter before is complete: the county is the sum of all five districts.
    assert query(
        oxford_q4_missing,
        """
        SELECT value_status, value = (
            SELECT sum(value) FROM scorecard
            WHERE indicator_id = 'domestic_noise_complaints' AND fy_quarter = '2014-15 Q3'
              AND area_type = 'district')
        FROM scorecard
        WHERE indicator_id = 'domestic_noise_complaints' AND fy_quarter = '2014-15 Q3'
          AND area_type = 'county'
        """,
    ) == [("reported", True)]


def test_no_published_total_lacks_a_part(oxford_q4_missing: Path) -> None:
    # Every CSP or county figure has all its districts (and, for the county, the unallocated
    # count of indicators that have one) with a figure in the same quarter: the parts are every
    # area in dim_area of a type the indicator has rows for, whether or not it has a row then.
    incomplete = query(
        oxford_q4_missing,
        """
        WITH parts AS (
            SELECT DISTINCT s.indicator_id, a.area_code, a.area_type, a.csp_code, a.county_code
            FROM scorecard AS s JOIN dim_area AS a ON a.area_type = s.area_type
            WHERE s.area_type IN ('district', 'unallocated')
        )
        SELECT t.indicator_id, t.area_code, t.quarter_start
        FROM scorecard AS t
        JOIN parts AS p ON p.indicator_id = t.indicator_id
            AND (p.csp_code = t.area_code OR (t.area_type = 'county'
                                              AND p.county_code = t.area_code))
        LEFT JOIN scorecard AS s ON s.indicator_id = t.indicator_id
            AND s.area_code = p.area_code AND s.quarter_start = t.quarter_start
        WHERE t.value IS NOT NULL AND s.value IS NULL
        """,
    )
    assert incomplete == []
    counts = query(
        oxford_q4_missing,
        """
        SELECT area_type, count(*) FROM scorecard
        WHERE value_status = 'not_available' AND fy_quarter = '2014-15 Q4'
        GROUP BY ALL ORDER BY ALL
        """,
    )
    assert counts == [("county", 2), ("csp", 2)]  # noise and waste: the county and Oxford


def published_sums(areas: dict[str, tuple[str, str | None, str | None]]) -> list[tuple]:
    """(total, parts) as a reader of the scorecard can add them up: each CSP = its districts;
    the county = its CSPs and unallocated count; the county = its districts and unallocated."""
    sums = []
    for code, (kind, _, _) in areas.items():
        if kind == "csp":
            sums.append((code, [d for d, a in areas.items() if a[1] == code]))
        if kind == "county":
            unallocated = [u for u, a in areas.items() if a[0] == "unallocated"]
            for level in ("csp", "district"):
                sums.append((code, [c for c, a in areas.items() if a[0] == level] + unallocated))
    return sums


Cells = dict[str, tuple[float | None, bool]]  # area: (value, suppressed) in one quarter


def usable(cells: Cells, sums: list[tuple]) -> list[tuple]:
    """The sums that hold in this quarter: the total and every part present have a value."""
    return [
        (total, [p for p in parts if p in cells])
        for total, parts in sums
        if total in cells and all(cells[c][0] is not None for c in (total, *parts) if c in cells)
    ]


def recoverable(cells: Cells, sums: list[tuple]) -> list[str]:
    """Withheld cells whose value follows from the published ones: those whose unit vector
    lies in the row space of the sums, restricted to the withheld cells."""
    hidden = sorted(c for c, (_, withheld) in cells.items() if withheld)
    holding = usable(cells, sums)
    if not hidden or not holding:
        return []
    index = {cell: i for i, cell in enumerate(hidden)}
    matrix = np.zeros((len(holding), len(hidden)))
    for row, (total, parts) in enumerate(holding):
        for cell, sign in ((total, 1), *((p, -1) for p in parts)):
            if cell in index:
                matrix[row, index[cell]] += sign
    rank = np.linalg.matrix_rank(matrix)
    return [
        cell
        for cell in hidden
        if np.linalg.matrix_rank(np.vstack([matrix, np.eye(len(hidden))[index[cell]]])) == rank
    ]


def test_no_withheld_small_number_can_be_worked_out_from_published_sums(
    oxford_q4_missing: Path,
) -> None:
    areas = {
        code: (kind, csp, county)
        for code, kind, csp, county in query(
            oxford_q4_missing,
            "SELECT area_code, area_type, csp_code, county_code FROM dim_area ORDER BY sort_order",
        )
    }
    sums = published_sums(areas)
    tables: dict[tuple[str, dt.date], Cells] = defaultdict(dict)
    for indicator, area, quarter, value, withheld in query(
        oxford_q4_missing,
        """
        SELECT indicator_id, area_code, quarter_start, value, suppressed FROM scorecard
        WHERE indicator_id IN (SELECT indicator_id FROM dim_indicator
                               WHERE suppression = 'small_numbers')
        """,
    ):
        tables[(indicator, quarter)][area] = (value, withheld)
    assert len(tables) == 8 * 16 - 6  # 7 TVP indicators x 16 quarters, Stop Hate UK 10

    one_withheld = [
        (key, total)
        for key, cells in tables.items()
        for total, parts in usable(cells, sums)
        if sum(cells[c][1] for c in (total, *parts)) == 1
    ]
    assert one_withheld == []
    assert {
        key: found for key, cells in tables.items() if (found := recoverable(cells, sums))
    } == {}

    # Every small number is withheld, no county is, and the rest is what protecting them took.
    small_shown = [
        (key, area)
        for key, cells in tables.items()
        for area, (value, withheld) in cells.items()
        if value is not None
        and 1 <= value <= 4
        and areas[area][0] in ("district", "unallocated")
        and not withheld
    ]
    assert small_shown == []
    assert not any(cells[a][1] for cells in tables.values() for a in cells if a == "E10000025")
