"""Quarterly partitions that line up with UK financial quarters (Q1 starts on 1 April).

Partition keys are the quarter's first day (``2013-07-01``); ``periods.fy_quarter_label`` turns
one into the label analysts use (``2013-14 Q2``), shown in run tags and asset metadata.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

# data.police.uk starts in December 2010; the first whole financial year is 2011-12, and a
# partition for 2010-11 Q4 keeps the earliest published months addressable.
FIRST_QUARTER = "2010-10-01"

FINANCIAL_QUARTERS = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1,4,7,10 *",
    fmt="%Y-%m-%d",
    timezone="Europe/London",
    start=FIRST_QUARTER,
)


def partition_key(quarter_start: dt.date) -> str:
    return quarter_start.isoformat()
