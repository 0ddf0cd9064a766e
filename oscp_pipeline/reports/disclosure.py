"""What a published output may print of a scorecard cell, shared by the workbook, the HTML
report and its findings.

The warehouse flags the cells to withhold (`scorecard.suppressed`) so that no small number can
be worked out from the published sums of one quarter. The outputs must not undo that from the
other figures they print, so beside a withheld value they never print:

- a change on the same quarter last year when either quarter is withheld (value and change %
  give the other quarter by division);
- a year-to-date change (or a RAG rated on it) when any quarter of this year to date or of the
  same period last year is withheld: the other quarters are printed in their own quarters'
  outputs, so the change gives the withheld one away;
- a withheld cell's direction of travel or exception flag (both are tests on its value);
- which rule withheld a cell: "a small number (1 to 4)" beside "withheld to protect another"
  bounds the cells from the totals, so every withheld cell carries one neutral note.

A change involving a quarter that counts only part of the quarter (`partly_not_applicable`) is
not like for like, so it is not printed either.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from oscp_pipeline.scope import PARTNERSHIP_AREAS_SQL
from oscp_pipeline.scorecard.build import SUPPRESSION_NOTES

WITHHELD = "*"
WITHHELD_NOTE = "Withheld to protect small numbers"

# The scorecard with, per row, whether the quarters its changes compare are withheld or count
# part of a quarter: the same quarter last year, and every quarter of both years to date.
_PUBLISHED_SCORECARD = """
WITH flagged AS (
    SELECT *,
        bool_or(suppressed) OVER year_to_date AS ytd_has_withheld,
        bool_or(value_status = 'partly_not_applicable') OVER year_to_date AS ytd_has_part
    FROM scorecard
    WINDOW year_to_date AS (
        PARTITION BY indicator_id, area_code, financial_year ORDER BY quarter_start
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
), published AS (
    SELECT s.* EXCLUDE (ytd_has_withheld, ytd_has_part),
        coalesce(ly.suppressed, FALSE) AS last_year_suppressed,
        s.value_status = 'partly_not_applicable'
            OR coalesce(ly.value_status = 'partly_not_applicable', FALSE) AS change_part_quarter,
        s.ytd_has_withheld OR coalesce(ly.ytd_has_withheld, FALSE) AS ytd_withheld,
        s.ytd_has_part OR coalesce(ly.ytd_has_part, FALSE) AS ytd_part_quarter
    FROM flagged s
    LEFT JOIN flagged ly
      ON ly.indicator_id = s.indicator_id AND ly.area_code = s.area_code
     AND ly.quarter_start = s.quarter_start - INTERVAL 1 YEAR
)
SELECT * FROM published
"""


def scorecard_rows(
    connection: duckdb.DuckDBPyConnection,
    quarters: list[dt.date],
    area_types: tuple[str, ...] | None = None,
) -> list[dict]:
    """The scorecard rows of the quarters (and area types; default all) of the partnership's
    own areas (with the national scope the warehouse holds every other area too, for analysts
    to query, not for the partnership's reports), each with the flags
    this module's functions read (`last_year_suppressed`, `change_part_quarter`,
    `ytd_withheld`, `ytd_part_quarter`), ordered by indicator, area and quarter."""
    types = None if area_types is None else list(area_types)
    relation = connection.execute(
        _PUBLISHED_SCORECARD
        + f"""
        WHERE quarter_start IN (SELECT unnest(?::DATE[]))
          AND (?::VARCHAR[] IS NULL OR area_type IN (SELECT unnest(?::VARCHAR[])))
          AND area_code IN (SELECT area_code FROM dim_area WHERE {PARTNERSHIP_AREAS_SQL})
        ORDER BY indicator_id, area_code, quarter_start
        """,
        [quarters, types, types],
    )
    names = [d[0] for d in relation.description]
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def last_year_withheld(row: dict) -> bool:
    """The cell or the same quarter last year is withheld: nothing comparing them is printed."""
    return bool(row["suppressed"] or row["last_year_suppressed"])


def change_pct(row: dict) -> float | str | None:
    """The change % on the same quarter last year as printed: WITHHELD beside a withheld
    quarter, None when either quarter counts only part of the quarter."""
    if row["change_part_quarter"]:
        return None
    if last_year_withheld(row) and None not in (row["value"], row["value_same_quarter_last_year"]):
        return WITHHELD  # even when no % can be given: a blank would say last year was 0
    return row["change_pct"]


def change_ytd_pct(row: dict) -> float | str | None:
    """The year-to-date change % as printed: WITHHELD when any quarter of either year to date
    is withheld, None when any counts only part of the quarter."""
    if row["ytd_part_quarter"]:
        return None
    if row["ytd_withheld"] and None not in (row["value_ytd"], row["value_ytd_last_year"]):
        return WITHHELD  # even when no % can be given: a blank would say last year was 0
    return row["change_ytd_pct"]


def rag(row: dict) -> str | None:
    """The RAG as printed: none beside a withheld year to date, not even grey (grey could say
    last year's was 0), and no colour rated on a year to date holding a part quarter."""
    if row["ytd_withheld"] or (row["ytd_part_quarter"] and row["rag"] != "grey"):
        return None
    return row["rag"]


def direction(row: dict) -> str | None:
    """The direction of travel as printed: none for a comparison that is not printed."""
    if last_year_withheld(row) or row["change_part_quarter"]:
        return None
    return row["direction"]


def exception(row: dict) -> str | None:
    """The exception flag as printed: none on a withheld cell."""
    return None if row["suppressed"] else row["exception"]


def notes(row: dict) -> str | None:
    """The cell's notes as printed: a withheld cell's note on why it is withheld becomes the
    one neutral note; the warehouse keeps the detailed notes for analysts."""
    text = row["notes"]
    if not text or not row["suppressed"]:
        return text
    for detailed in SUPPRESSION_NOTES.values():
        text = text.replace(detailed, WITHHELD_NOTE)
    return text
