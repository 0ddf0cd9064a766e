import datetime as dt

import pytest

from oscp_pipeline import periods


@pytest.mark.parametrize(
    ("day", "label", "quarter_start"),
    [
        (dt.date(2013, 4, 1), "2013-14 Q1", dt.date(2013, 4, 1)),
        (dt.date(2013, 6, 30), "2013-14 Q1", dt.date(2013, 4, 1)),
        (dt.date(2013, 7, 1), "2013-14 Q2", dt.date(2013, 7, 1)),
        (dt.date(2013, 12, 31), "2013-14 Q3", dt.date(2013, 10, 1)),
        (dt.date(2014, 1, 1), "2013-14 Q4", dt.date(2014, 1, 1)),
        (dt.date(2014, 3, 31), "2013-14 Q4", dt.date(2014, 1, 1)),
        (dt.date(1999, 5, 5), "1999-00 Q1", dt.date(1999, 4, 1)),
    ],
)
def test_financial_quarter_of_a_day(day: dt.date, label: str, quarter_start: dt.date) -> None:
    assert periods.fy_quarter_label(day) == label
    assert periods.quarter_start(day) == quarter_start
    assert periods.quarter_start_of_label(label) == quarter_start


def test_financial_year_labels_round_trip_and_reject_mismatched_halves() -> None:
    assert periods.financial_year_of_label("2013-14") == 2013
    assert periods.financial_year_label(2013) == "2013-14"
    with pytest.raises(ValueError, match="does not follow"):
        periods.financial_year_of_label("2013-15")
    with pytest.raises(ValueError, match="YYYY-YY"):
        periods.financial_year_of_label("2013/14")


def test_adding_months_crosses_the_calendar_year() -> None:
    assert periods.add_months(dt.date(2013, 12, 1), 1) == dt.date(2014, 1, 1)


@pytest.mark.parametrize(
    ("latest", "half_year_end"),
    [
        (dt.date(2013, 7, 1), dt.date(2013, 7, 1)),  # 2013-14 Q2: half year
        (dt.date(2013, 10, 1), dt.date(2013, 7, 1)),  # Q3: still the half year
        (dt.date(2014, 1, 1), dt.date(2014, 1, 1)),  # Q4: full year
        (dt.date(2014, 4, 1), dt.date(2014, 1, 1)),  # next Q1: the full year just ended
    ],
)
def test_the_report_covers_the_latest_complete_half_or_full_year(
    latest: dt.date, half_year_end: dt.date
) -> None:
    assert periods.latest_half_year_end(latest) == half_year_end
