"""The scorecard's statistics as small pure functions: no Dagster, no database.

Counts of crimes and incidents are treated as Poisson: two periods are compared with the exact
conditional (binomial) test, and a quarter is an exception when it falls outside the Poisson
c-chart limits of the indicator's own earlier quarters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from scipy.stats import binomtest

SIGNIFICANCE = 0.05
SMALL_NUMBER_RANGE = (1, 4)  # counts withheld by the small_numbers rule, inclusive


def change_pct(current: float | None, previous: float | None) -> float | None:
    """Percentage change, one decimal; None when either value is missing or previous is zero
    or negative (a Home Office net figure can be: a % of it would flip the change's sign)."""
    if current is None or previous is None or previous <= 0:
        return None
    return round(100.0 * (current - previous) / previous, 1)


def poisson_comparison_p_value(current: float, previous: float) -> float | None:
    """Two-sided p-value that two Poisson counts (equal exposure) share one rate.

    Conditional on the total n = current + previous, current ~ Binomial(n, 1/2) when the rates
    are equal; the exact binomial test gives the p-value. None when both counts are zero, or
    either is negative (a net figure after cancellations is not a count).
    """
    a, b = round(current), round(previous)
    if a + b == 0 or a < 0 or b < 0:
        return None
    return float(binomtest(a, a + b, 0.5, alternative="two-sided").pvalue)


def direction(current: float, previous: float, p_value: float | None, polarity: str) -> str:
    """`improving`/`deteriorating` (or `increase`/`decrease` for monitor-only) when the change is
    significant at 95%; `stable` otherwise."""
    if p_value is None or p_value >= SIGNIFICANCE or current == previous:
        return "stable"
    rose = current > previous
    if polarity == "monitor_only":
        return "increase" if rose else "decrease"
    better = (not rose) if polarity == "lower_is_better" else rose
    return "improving" if better else "deteriorating"


def seasonal_centre(
    history: Sequence[tuple[int, float]], quarter: int, seasonal_min_years: int = 3
) -> float:
    """Centre line for a quarter from earlier (financial quarter number, value) pairs.

    The mean of the earlier quarters; when every financial quarter has at least
    ``seasonal_min_years`` earlier values, scaled by this quarter's seasonal index (mean of the
    same quarter / mean of all quarters-of-year means).
    """
    values = [value for _, value in history]
    centre = sum(values) / len(values)
    by_quarter: dict[int, list[float]] = {}
    for q, value in history:
        by_quarter.setdefault(q, []).append(value)
    if len(by_quarter) == 4 and all(len(v) >= seasonal_min_years for v in by_quarter.values()):
        means = {q: sum(v) / len(v) for q, v in by_quarter.items()}
        overall = sum(means.values()) / 4
        if overall > 0:
            centre *= means[quarter] / overall
    return centre


def control_limits(centre: float) -> tuple[float, float]:
    """Poisson c-chart limits: centre +/- 3 * sqrt(centre), the lower limit never below zero."""
    spread = 3 * math.sqrt(centre)
    return max(0.0, centre - spread), centre + spread


def exception(value: float, lower: float, upper: float) -> str | None:
    """`high` above the upper limit, `low` below the lower limit; a value on a limit is not."""
    if value > upper:
        return "high"
    if value < lower:
        return "low"
    return None


def rag(
    change_pct_value: float | None,
    target_change_pct: float | None,
    polarity: str,
    sufficient_history: bool,
) -> str:
    """Thames Valley Police RAG on the change on the same period last year.

    green: target achieved; amber: target missed but better than last year; red: target missed
    and no better than last year; grey: no target, monitor only, too little history, or no
    comparable last-year value.
    """
    if (
        polarity == "monitor_only"
        or target_change_pct is None
        or change_pct_value is None
        or not sufficient_history
    ):
        return "grey"
    if polarity == "lower_is_better":
        achieved, better = change_pct_value <= target_change_pct, change_pct_value < 0
    else:
        achieved, better = change_pct_value >= target_change_pct, change_pct_value > 0
    if achieved:
        return "green"
    return "amber" if better else "red"


def is_small_number(value: float | None) -> bool:
    low, high = SMALL_NUMBER_RANGE
    return value is not None and low <= value <= high


Equation = tuple[str, Sequence[str]]  # a published sum: (total cell, the cells adding up to it)


def suppress(
    values: Mapping[str, float | None],
    equations: Sequence[Equation],
    order: Sequence[str] | None = None,
) -> dict[str, str]:
    """Cells to withhold so that no small number can be worked out from the published figures:
    {cell: 'primary' | 'secondary' | 'total'}.

    ``values`` holds every cell of one table (None: no figure); ``equations`` say which cells
    add up to which, and one counts only when all its cells have figures. Primary: a count of 1
    to 4 in a cell that is not a total. Then, until nothing changes, for each equation: a
    subtotal (a total that is itself a part elsewhere, e.g. a CSP) or a single-part total whose
    parts are all withheld is withheld too ('total': it would show their sum beside them, or
    the one part's value); the grand total, a sum over the whole table, stays published. An
    equation with exactly one withheld cell would give it away by subtraction, so its smallest
    published part is withheld with it ('secondary'). A zero part is taken only when no other
    is left, as withholding a 0 beside a small number leaves the small number in plain view;
    ties go to the cell listed first in ``order``. Since equations share cells (a CSP is both a
    total and a part of the county), one withheld cell can call for another in a linked
    equation; cells are only ever added, so the loop ends.
    """
    totals = {total for total, _ in equations}
    subtotals = totals & {part for _, parts in equations for part in parts}
    rank = {cell: i for i, cell in enumerate(order or sorted(values))}
    known = [
        (total, list(parts))
        for total, parts in equations
        if parts and all(values.get(cell) is not None for cell in (total, *parts))
    ]
    result = {
        cell: "primary"
        for cell, value in values.items()
        if cell not in totals and is_small_number(value)
    }
    changed = True
    while changed:
        changed = False
        for total, parts in known:
            if (
                total not in result
                and (total in subtotals or len(parts) == 1)
                and all(part in result for part in parts)
            ):
                result[total] = "total"
                changed = True
            elif sum(cell in result for cell in (total, *parts)) == 1:
                chosen = min(
                    (part for part in parts if part not in result),
                    key=lambda cell: (values[cell] == 0, values[cell], rank.get(cell, 0)),
                )
                result[chosen] = "secondary"
                changed = True
    return result
