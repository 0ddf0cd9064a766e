"""SYNTHETIC Home Office police recorded crime by CSP, in the open data table's layout.

One table covering 2011-12 to 2014-15 for the five ONS CSPs of Oxfordshire and two neighbours,
quarterly by offence code, with a few negative adjustments as real releases have. Counts are
invented around realistic Oxfordshire levels and follow the 2013-14 pattern the partnership
reported: most district priorities falling, vehicle offences, distraction burglary and public
order offences rising.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

FOLDER = "home_office_prc"
FILE_NAME = "prc-csp-open-data-table-2011-12-to-2014-15.csv"
HEADER = [
    "Financial Year",
    "Financial Quarter",
    "Force Name",
    "CSP Name",
    "Offence Description",
    "Offence Group",
    "Offence Subgroup",
    "Offence Code",
    "Number of Offences",
]

# CSP name as the ONS writes it, and its share of Oxfordshire's recorded crime.
CSP_SHARES = {
    "Cherwell": 0.22,
    "Oxford": 0.38,
    "South Oxfordshire": 0.15,
    "Vale of White Horse": 0.14,
    "West Oxfordshire": 0.11,
}
NEIGHBOURS = {"Aylesbury Vale": 0.9, "Wycombe": 0.8}  # relative to an average Oxfordshire CSP

# code, description, group, subgroup, county-wide offences per quarter in 2011-12,
# yearly change from 2013-14 on (the pattern the partnership reported).
OFFENCES: tuple[tuple[str, str, str, str, float, float], ...] = (
    ("28A", "Burglary in a dwelling", "Burglary", "Domestic burglary", 330, -0.08),
    ("28B", "Attempted burglary in a dwelling", "Burglary", "Domestic burglary", 60, -0.08),
    ("28C", "Distraction burglary in a dwelling", "Burglary", "Domestic burglary", 12, 0.35),
    (
        "28D",
        "Attempted distraction burglary in a dwelling",
        "Burglary",
        "Domestic burglary",
        5,
        0.35,
    ),
    ("29", "Aggravated burglary in a dwelling", "Burglary", "Domestic burglary", 3, -0.05),
    (
        "30A",
        "Burglary in a building other than a dwelling",
        "Burglary",
        "Non-domestic burglary",
        400,
        -0.06,
    ),
    ("45", "Theft from a vehicle", "Vehicle offences", "Vehicle offences", 450, 0.09),
    (
        "48",
        "Theft or unauthorised taking of a motor vehicle",
        "Vehicle offences",
        "Vehicle offences",
        120,
        0.07,
    ),
    ("126", "Interfering with a motor vehicle", "Vehicle offences", "Vehicle offences", 40, 0.1),
    ("37.2", "Aggravated vehicle taking", "Vehicle offences", "Vehicle offences", 5, 0.05),
    (
        "9A",
        "Public fear alarm or distress",
        "Public order offences",
        "Public order offences",
        250,
        0.12,
    ),
    (
        "9B",
        "Racially or religiously aggravated public fear alarm or distress",
        "Public order offences",
        "Public order offences",
        30,
        0.12,
    ),
    ("62A", "Violent disorder", "Public order offences", "Public order offences", 3, 0.1),
    ("1", "Murder", "Violence against the person", "Homicide", 0.4, 0.0),
    (
        "4.10",
        "Causing death or serious injury by dangerous driving",
        "Violence against the person",
        "Death or serious injury - unlawful driving",
        2,
        0.0,
    ),
    (
        "5D",
        "Assault with intent to cause serious harm",
        "Violence against the person",
        "Violence with injury",
        40,
        -0.04,
    ),
    ("5E", "Endangering life", "Violence against the person", "Violence with injury", 5, -0.04),
    (
        "8N",
        "Assault with injury",
        "Violence against the person",
        "Violence with injury",
        700,
        -0.05,
    ),
    (
        "8P",
        "Racially or religiously aggravated assault with injury",
        "Violence against the person",
        "Violence with injury",
        15,
        -0.05,
    ),
    (
        "105A",
        "Assault without injury",
        "Violence against the person",
        "Violence without injury",
        500,
        -0.03,
    ),
    ("8L", "Harassment", "Violence against the person", "Violence without injury", 200, 0.04),
    (
        "58A",
        "Criminal damage to a dwelling",
        "Criminal damage and arson",
        "Criminal damage",
        250,
        -0.07,
    ),
    (
        "58B",
        "Criminal damage to a building other than a dwelling",
        "Criminal damage and arson",
        "Criminal damage",
        120,
        -0.07,
    ),
    (
        "58C",
        "Criminal damage to a vehicle",
        "Criminal damage and arson",
        "Criminal damage",
        350,
        -0.07,
    ),
    ("58D", "Other criminal damage", "Criminal damage and arson", "Criminal damage", 150, -0.07),
    ("56B", "Arson not endangering life", "Criminal damage and arson", "Arson", 60, -0.05),
    ("46", "Shoplifting", "Theft offences", "Shoplifting", 900, 0.02),
    ("49", "Other theft", "Theft offences", "All other theft offences", 1500, -0.04),
    ("34B", "Robbery of personal property", "Robbery", "Robbery of personal property", 50, -0.06),
    ("92C", "Possession of cannabis", "Drug offences", "Possession of drugs", 350, -0.05),
    ("92A", "Trafficking in controlled drugs", "Drug offences", "Trafficking of drugs", 50, -0.02),
    (
        "10A",
        "Possession of article with blade or point",
        "Possession of weapons offences",
        "Possession of weapons offences",
        25,
        0.0,
    ),
    ("19C", "Rape of a female aged 16 and over", "Sexual offences", "Rape", 40, 0.05),
)

FINANCIAL_YEARS = (2011, 2012, 2013, 2014)
SEASON = (1.05, 1.08, 0.97, 0.90)  # Q1 to Q4: summer high, winter low


def _expected(base: float, change: float, year: int, quarter: int) -> float:
    """Flat to 2012-13, then the reported yearly change compounding from 2013-14."""
    years_of_change = max(0, year - 2012)
    return base * (1 + change) ** years_of_change * SEASON[quarter - 1]


def generate(out_dir: Path, seed: int) -> str:
    """Write the table; returns a one-line summary."""
    rng = np.random.default_rng([seed, 7301])
    rows: list[list[str]] = []
    adjustments = 0
    for year in FINANCIAL_YEARS:
        label = f"{year}/{(year + 1) % 100:02d}"
        for quarter in (1, 2, 3, 4):
            csps = {**CSP_SHARES, **{n: 0.2 * w for n, w in NEIGHBOURS.items()}}
            for csp, share in csps.items():
                for code, description, group, subgroup, base, change in OFFENCES:
                    count = int(rng.poisson(_expected(base, change, year, quarter) * share))
                    if count == 0 and rng.random() < 0.5:
                        continue  # the published table omits many zero rows
                    if base < 20 and rng.random() < 0.03:
                        count = -int(rng.integers(1, 3))  # an adjustment to an earlier quarter
                        adjustments += 1
                    rows.append(
                        [
                            label,
                            str(quarter),
                            "Thames Valley",
                            csp,
                            description,
                            group,
                            subgroup,
                            code,
                            str(count),
                        ]
                    )
    folder = out_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / FILE_NAME).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return f"1 file, {len(rows)} rows, {adjustments} negative adjustments"
