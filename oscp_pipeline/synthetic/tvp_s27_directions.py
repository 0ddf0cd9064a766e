"""SYNTHETIC Thames Valley Police section 27 directions to leave, April 2011 to March 2015.

One CSV per financial quarter, one row per direction (``Date Issued,District,Age Band,Gender``).
Directions were a night-time economy tool: most were given in Oxford, on Friday and Saturday
nights, with peaks in the summer and in December. Use fell through 2014 as forces prepared for
the new dispersal power, and section 27 was repealed on 20 October 2014: the 2014-15 Q3 file
holds directions up to that day only and the 2014-15 Q4 file, still sent by the force, holds
only its header. Quirks: the 2012-13 files were saved by Excel with a byte-order mark, later
files spell two districts differently, and one row has an age instead of an age band. Every
row is invented.
"""

from __future__ import annotations

import calendar
import codecs
import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import numpy as np

from oscp_pipeline import periods

FOLDER = "tvp_s27_directions"
HEADER = ("Date Issued", "District", "Age Band", "Gender")
FIRST_QUARTER = dt.date(2011, 4, 1)
QUARTER_COUNT = 16  # 2011-12 Q1 to 2014-15 Q4
LAST_DAY_OF_POWER = dt.date(2014, 10, 20)
BOM_YEAR = 2012  # financial year whose files carry a UTF-8 byte-order mark
NEW_SPELLING_FROM = dt.date(2013, 4, 1)
NEW_SPELLINGS = {"Oxford": "Oxford City", "Vale of White Horse": "Vale"}
UNLISTED_AGE_QUARTER = dt.date(2012, 7, 1)
UNLISTED_AGE = "17"

COUNTY_MONTHLY_LEVEL = 35.0
# Calendar month -> seasonal factor: summer evenings and the December party season.
SEASON = {1: 0.8, 2: 0.8, 3: 0.9, 4: 0.95, 5: 1.05, 6: 1.2,
          7: 1.3, 8: 1.25, 9: 1.0, 10: 0.95, 11: 0.95, 12: 1.35}  # fmt: skip
WEEKDAY_WEIGHTS = (0.6, 0.6, 0.8, 1.0, 2.2, 2.6, 1.0)  # Monday .. Sunday
DISTRICTS = {
    "Oxford": 0.56,
    "Cherwell": 0.17,
    "South Oxfordshire": 0.09,
    "Vale of White Horse": 0.10,
    "West Oxfordshire": 0.08,
}
AGE_BANDS = {"Under 18": 0.12, "18-24": 0.45, "25-34": 0.22, "35-44": 0.11, "45+": 0.07,
             "Unknown": 0.03}  # fmt: skip
GENDERS = {"Male": 0.84, "Female": 0.14, "Unknown": 0.02}


def _trend(month: dt.date) -> float:
    """Level relative to 2011: steady, then falling through 2014 towards the repeal."""
    if month < dt.date(2014, 1, 1):
        return 1.0 if month < dt.date(2013, 4, 1) else 0.95
    return 0.95 - 0.045 * (month.month - 1)


def _pick(options: dict[str, float], rng: np.random.Generator, size: int) -> list[str]:
    names = list(options)
    weights = np.array(list(options.values()))
    return [names[int(i)] for i in rng.choice(len(names), size=size, p=weights / weights.sum())]


def _month_rows(month: dt.date, rng: np.random.Generator) -> list[tuple[dt.date, str, str, str]]:
    """The directions of one month, up to the last day the power existed."""
    days = calendar.monthrange(month.year, month.month)[1]
    dates = [month.replace(day=day) for day in range(1, days + 1)]
    allowed = [d for d in dates if d <= LAST_DAY_OF_POWER]
    if not allowed:
        return []
    expected = COUNTY_MONTHLY_LEVEL * SEASON[month.month] * _trend(month) * len(allowed) / days
    count = int(rng.poisson(expected))
    weights = np.array([WEEKDAY_WEIGHTS[d.weekday()] for d in allowed])
    picked = sorted(
        allowed[int(i)] for i in rng.choice(len(allowed), count, p=weights / weights.sum())
    )
    return list(
        zip(
            picked,
            _pick(DISTRICTS, rng, count),
            _pick(AGE_BANDS, rng, count),
            _pick(GENDERS, rng, count),
            strict=True,
        )
    )


def _file_bytes(quarter: dt.date, rows: list[tuple[dt.date, str, str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for issued, district, age_band, gender in rows:
        if quarter >= NEW_SPELLING_FROM:
            district = NEW_SPELLINGS.get(district, district)
        writer.writerow([issued.strftime("%d/%m/%Y"), district, age_band, gender])
    data = buffer.getvalue().encode("utf-8")
    if periods.financial_year_start(quarter) == BOM_YEAR:
        return codecs.BOM_UTF8 + data
    return data


def generate(out_dir: Path, seed: int) -> str:
    """Write the sixteen quarterly files under ``out_dir/tvp_s27_directions``; returns a summary."""
    folder = out_dir / FOLDER
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = np.random.default_rng([seed, 2706])
    total = 0
    for index in range(QUARTER_COUNT):
        quarter = periods.add_months(FIRST_QUARTER, 3 * index)
        rows = [row for m in range(3) for row in _month_rows(periods.add_months(quarter, m), rng)]
        if quarter == UNLISTED_AGE_QUARTER and rows:
            position = int(rng.integers(0, len(rows)))
            issued, district, _, gender = rows[position]
            rows[position] = (issued, district, UNLISTED_AGE, gender)
        total += len(rows)
        label = periods.fy_quarter_label(quarter).replace(" ", "_")
        (folder / f"tvp_s27_directions_{label}.csv").write_bytes(_file_bytes(quarter, rows))
    return f"{QUARTER_COUNT} files, {total} rows"
