"""UK financial-year periods.

The partnership reports by financial year (April to March): Q1 = April-June, Q4 = January-March.
Every date-to-period decision in the pipeline goes through these functions so that a row can
never be assigned to a different quarter in one place than in another.
"""

from __future__ import annotations

import datetime as dt


def financial_year_start(day: dt.date) -> int:
    """Calendar year in which the financial year containing ``day`` starts."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_label(start_year: int) -> str:
    """Label such as ``2013-14`` for the financial year starting in April ``start_year``."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def financial_year_of_label(label: str) -> int:
    """Start year of a ``2013-14`` style label; rejects labels whose two halves disagree."""
    text = label.strip()
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit():
        raise ValueError(f"financial year {label!r} is not in the form YYYY-YY")
    start = int(text[:4])
    if (start + 1) % 100 != int(text[5:]):
        raise ValueError(f"financial year {label!r}: {text[5:]} does not follow {start}")
    return start


def quarter_start(day: dt.date) -> dt.date:
    """First day of the calendar/financial quarter containing ``day`` (Jan, Apr, Jul or Oct)."""
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def fiscal_quarter_number(day: dt.date) -> int:
    """Financial quarter 1-4 of ``day`` (April-June is 1)."""
    return (day.month - 4) % 12 // 3 + 1


def fy_quarter_label(day: dt.date) -> str:
    """Label such as ``2013-14 Q2`` for the quarter containing ``day``."""
    return f"{financial_year_label(financial_year_start(day))} Q{fiscal_quarter_number(day)}"


def quarter_start_of_label(label: str) -> dt.date:
    """First day of the quarter named by a ``2013-14 Q2`` label."""
    year_part, _, quarter_part = label.strip().partition(" ")
    start_year = financial_year_of_label(year_part)
    if quarter_part not in {"Q1", "Q2", "Q3", "Q4"}:
        raise ValueError(f"quarter {label!r} must end in Q1, Q2, Q3 or Q4")
    month = 4 + 3 * (int(quarter_part[1]) - 1)
    return dt.date(start_year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def add_months(day: dt.date, months: int) -> dt.date:
    """First of the month ``months`` after the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def latest_half_year_end(latest_quarter_start: dt.date) -> dt.date:
    """Start of the latest quarter, not after the given one, that ends a half or full year.

    The bi-annual report covers Q1-Q2 (half year) or Q1-Q4 (full year) of a financial year, so
    it is produced for the most recent Q2 or Q4 that is complete.
    """
    quarter = latest_quarter_start
    while fiscal_quarter_number(quarter) not in {2, 4}:
        quarter = add_months(quarter, -3)
    return quarter
