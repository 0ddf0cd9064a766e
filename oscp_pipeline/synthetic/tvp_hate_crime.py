"""SYNTHETIC Thames Valley Police hate crime extracts, April 2011 to March 2015.

One CSV per financial quarter, ``tvp_hate_2013-14_Q2.csv``, one row per month, district and
measure: ``Month,District,Measure,Total,Race,Religion or belief,Sexual orientation,Disability,
Transgender identity``. Offences are simulated one by one: each has a main strand (race for
about three in four) and about one in ten a second strand, so the strand columns add up to
5-15% more than the totals. Rows with no offences are left out, as the force's query does.

Quirks: the 2011-12 and 2012-13 extracts use the older headers ``Religion/faith`` and
``Transgender``; the 2014-15 extracts come from a new system and start with a byte-order mark;
and in 2012-13 Q4 one Vale of White Horse hate incident row has a Total one above its strands
(an offence saved without a strand). Every figure is invented.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import numpy as np

from oscp_pipeline import periods

FOLDER = "tvp_hate_crime"
FIRST_QUARTER = dt.date(2011, 4, 1)
QUARTER_COUNT = 16  # 2011-12 Q1 to 2014-15 Q4
HEADER = (
    "Month",
    "District",
    "Measure",
    "Total",
    "Race",
    "Religion or belief",
    "Sexual orientation",
    "Disability",
    "Transgender identity",
)
OLD_HEADER = (*HEADER[:5], "Religion/faith", *HEADER[6:8], "Transgender")
NEW_SYSTEM_YEAR = 2014
DISTRICTS: tuple[tuple[str, float], ...] = (  # hate crime is concentrated in Oxford
    ("Cherwell", 0.22),
    ("Oxford", 0.36),
    ("South Oxfordshire", 0.15),
    ("Vale of White Horse", 0.14),
    ("West Oxfordshire", 0.13),
)
# County-wide offences a month in 2011-12, seasonality removed, and growth a year.
MEASURES: dict[str, tuple[float, float]] = {
    "Hate crime": (50.0, 0.05),
    "Hate incident": (21.0, 0.03),
}
STRAND_SHARES = np.array([0.75, 0.06, 0.10, 0.06, 0.03])  # main strand of an offence
SECOND_STRAND = 0.10
SEASON = (0.93, 0.92, 0.97, 0.98, 1.02, 1.05, 1.10, 1.06, 1.01, 0.99, 0.98, 0.99)
MISSING_STRAND = ("2012-13 Q4", "2013-03", "Vale of White Horse", "Hate incident")


def _strand_counts(offences: int, rng: np.random.Generator) -> list[int]:
    """Offences flagged with each strand: a main strand each, a second one for some."""
    counts = np.zeros(len(STRAND_SHARES), dtype=int)
    for _ in range(offences):
        main = int(rng.choice(len(STRAND_SHARES), p=STRAND_SHARES))
        counts[main] += 1
        if rng.random() < SECOND_STRAND:
            others = STRAND_SHARES.copy()
            others[main] = 0.0
            counts[int(rng.choice(len(STRAND_SHARES), p=others / others.sum()))] += 1
    return [int(c) for c in counts]


def _quarter_rows(quarter: dt.date, rng: np.random.Generator) -> list[list[str]]:
    """The extract's rows for a quarter, leaving out rows with no offences."""
    label = periods.fy_quarter_label(quarter)
    years = (quarter - FIRST_QUARTER).days / 365.25
    rows = []
    for month in (periods.add_months(quarter, i) for i in range(3)):
        for district, share in DISTRICTS:
            for measure, (base, growth) in MEASURES.items():
                mean = base * (1 + growth) ** years * SEASON[month.month - 1] * share
                offences = int(rng.poisson(mean))
                if not offences:
                    continue
                strands = _strand_counts(offences, rng)
                if (label, f"{month:%Y-%m}", district, measure) == MISSING_STRAND:
                    offences = sum(strands) + 1
                rows.append(
                    [f"{month:%Y-%m}", district, measure, str(offences), *map(str, strands)]
                )
    return rows


def extract_bytes(quarter: dt.date, rows: list[list[str]]) -> bytes:
    """The CSV as the force's system exports it (CRLF; a byte-order mark from 2014-15)."""
    year = periods.financial_year_start(quarter)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(OLD_HEADER if year < 2013 else HEADER)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    return codecs.BOM_UTF8 + data if year >= NEW_SYSTEM_YEAR else data


def file_name(quarter: dt.date) -> str:
    year, number = periods.fy_quarter_label(quarter).split(" ")
    return f"tvp_hate_{year}_{number}.csv"


def generate(out_dir: Path, seed: int) -> str:
    """Write the sixteen quarterly extracts under ``out_dir/tvp_hate_crime``."""
    folder = out_dir / FOLDER
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = np.random.default_rng([seed, 4102])
    totals: dict[str, dict[str, int]] = {measure: {} for measure in MEASURES}
    rows_written = 0
    for index in range(QUARTER_COUNT):
        quarter = periods.add_months(FIRST_QUARTER, 3 * index)
        rows = _quarter_rows(quarter, rng)
        (folder / file_name(quarter)).write_bytes(extract_bytes(quarter, rows))
        rows_written += len(rows)
        year = periods.financial_year_label(periods.financial_year_start(quarter))
        for row in rows:
            totals[row[2]][year] = totals[row[2]].get(year, 0) + int(row[3])
    by_year = "; ".join(
        f"{measure.lower()}s " + ", ".join(f"{year} {n}" for year, n in years.items())
        for measure, years in totals.items()
    )
    return f"{QUARTER_COUNT} files, {rows_written} rows; county totals {by_year}"
