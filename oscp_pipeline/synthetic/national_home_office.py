"""SYNTHETIC Home Office police recorded crime by CSP for every CSP of England and Wales.

The benchmark measures the Home Office reader at national scope, where it loads every CSP of
the ONS lookup: the table needs the published size and layout (every CSP, 16 quarters, about
130 offence codes: some 650,000 rows, 81 MB). Every count is invented; what is real is the
shape: the published header, UTF-8 without BOM, CRLF line ends, years written 2013/14, quarters
1 to 4, CSP names as the ONS lookup writes them (``CSP..NM``, quoted where they hold a comma)
with their police force area (``PFA..NM``) as Force Name, and a file name giving the years
covered. The offences are the Oxfordshire sample's (``synthetic.home_office_prc``) followed by
plausible others, among them the rest of the codes the scorecard groups
(``reference/offence_groups.csv``); codes and descriptions beyond the sample's are not a copy of
the Home Office list.

Each CSP, quarter and offence has a row, zeros included, so the size is exactly CSPs x
quarters x offences. Counts are Poisson around the offence's level scaled by the CSP's size
(its number of districts, varied at random), with the sample's seasons and its 2013-14 trends;
about one row in 250 of a rare offence is a negative adjustment, as in real releases. Each
financial year has its own random stream from (seed, year), so a year is the same whatever
range of years is asked for.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from oscp_pipeline.synthetic import home_office_prc as sample

FIRST_YEAR = 2013  # 2013/14, the first year of the benchmark's street data
YEARS = 4
# Offences a quarter in an average CSP, as a share of the levels below (those of a county of
# five districts, as the sample writes them): about 2,900 a quarter in all, which is England
# and Wales' 3.7 million recorded crimes a year over 314 CSPs.
AVERAGE_CSP_SHARE = 0.3
# A rare offence's row is an adjustment this often; "rare": fewer than this many expected.
ADJUSTMENT_RATE = 0.004
RARE_BELOW = 2.0

# (group, subgroup): (code, description, offences a quarter in a county of five districts).
OTHER_OFFENCES: dict[tuple[str, str], tuple[tuple[str, str, float], ...]] = {
    ("Violence against the person", "Homicide"): (
        ("4.1", "Manslaughter", 0.1),
        ("4.2", "Infanticide", 0.02),
    ),
    ("Violence against the person", "Death or serious injury - unlawful driving"): (
        ("4.4", "Causing death by careless driving under the influence of drink or drugs", 0.1),
        ("4.6", "Causing death by careless or inconsiderate driving", 0.6),
        ("4.8", "Causing death or serious injury by driving: unlicensed drivers", 0.2),
        ("37.1", "Causing death by aggravated vehicle taking", 0.05),
    ),
    ("Violence against the person", "Violence with injury"): (
        ("2", "Attempted murder", 2),
        ("4.3", "Intentional destruction of a viable unborn child", 0.05),
        ("4.7", "Causing or allowing death of a child or vulnerable person", 0.05),
        ("8F", "Inflicting grievous bodily harm without intent", 60),
        ("8G", "Racially or religiously aggravated inflicting grievous bodily harm", 1),
        ("11A", "Cruelty to children or young persons", 15),
    ),
    ("Violence against the person", "Violence without injury"): (
        ("3A", "Conspiracy to murder", 0.1),
        ("3B", "Threats to kill", 30),
        ("8M", "Racially or religiously aggravated harassment", 10),
        ("8Q", "Stalking", 5),
        ("12", "Abandoning a child under the age of two years", 0.1),
        ("13", "Child abduction", 2),
        ("14", "Procuring illegal abortion", 0.02),
        ("36", "Kidnapping", 6),
        ("104", "Assault without injury on a constable", 40),
        ("105B", "Racially or religiously aggravated assault without injury", 12),
    ),
    ("Sexual offences", "Rape"): (
        ("19D", "Rape of a female aged under 16", 12),
        ("19E", "Rape of a female child under 13", 8),
        ("19F", "Rape of a male aged 16 and over", 3),
        ("19G", "Rape of a male aged under 16", 2),
        ("19H", "Rape of a male child under 13", 3),
    ),
    ("Sexual offences", "Other sexual offences"): (
        ("17A", "Sexual assault on a male aged 13 and over", 6),
        ("17B", "Sexual assault on a male child under 13", 5),
        ("20A", "Sexual assault on a female aged 13 and over", 60),
        ("20B", "Sexual assault on a female child under 13", 12),
        ("21", "Sexual activity involving a child under 13", 6),
        ("22A", "Causing sexual activity without consent", 3),
        ("22B", "Sexual activity involving a child under 16", 15),
        ("23", "Incest or familial sexual offences", 2),
        ("70", "Sexual activity etc. with a person with a mental disorder", 1),
        ("71", "Abuse of children through sexual exploitation", 1.5),
        ("72", "Trafficking for sexual exploitation", 0.3),
        ("73", "Abuse of position of trust of a sexual nature", 1),
        ("74", "Gross indecency with a child", 0.5),
        ("88A", "Sexual grooming", 2),
        ("88C", "Other miscellaneous sexual offences", 3),
        ("88E", "Exposure and voyeurism", 20),
    ),
    ("Robbery", "Robbery of business property"): (("34A", "Robbery of business property", 10),),
    ("Burglary", "Non-domestic burglary"): (
        ("30B", "Attempted burglary in a building other than a dwelling", 60),
        ("31", "Aggravated burglary in a building other than a dwelling", 0.5),
    ),
    ("Theft offences", "Theft from the person"): (("39", "Theft from the person", 120),),
    ("Theft offences", "Bicycle theft"): (
        ("44", "Theft or unauthorised taking of a pedal cycle", 400),
    ),
    ("Theft offences", "All other theft offences"): (
        ("35", "Blackmail", 3),
        ("40", "Theft in a dwelling other than from an automatic machine or meter", 150),
        ("41", "Theft by an employee", 20),
        ("42", "Theft of mail", 3),
        ("43", "Dishonest use of electricity", 2),
        ("47", "Theft from automatic machine or meter", 5),
        ("54", "Handling stolen goods", 15),
    ),
    ("Criminal damage and arson", "Arson"): (("56A", "Arson endangering life", 4),),
    ("Criminal damage and arson", "Criminal damage"): (
        ("58E", "Racially or religiously aggravated criminal damage to a dwelling", 1),
        ("58F", "Racially or religiously aggravated criminal damage to a building", 1),
        ("58G", "Racially or religiously aggravated criminal damage to a vehicle", 0.5),
        ("58H", "Racially or religiously aggravated other criminal damage", 0.5),
        ("58J", "Threat or possession with intent to commit criminal damage", 20),
    ),
    ("Drug offences", "Possession of drugs"): (
        ("92B", "Possession of controlled drugs (excluding cannabis)", 60),
    ),
    ("Drug offences", "Trafficking of drugs"): (("92E", "Other drug offences", 5),),
    ("Possession of weapons offences", "Possession of weapons offences"): (
        ("10B", "Possession of firearms offences", 4),
        ("10C", "Possession of other weapons", 10),
        ("10D", "Possession of firearms with intent", 0.5),
        ("81", "Other firearms offences", 2),
        ("90", "Other knives offences", 2),
    ),
    ("Public order offences", "Public order offences"): (
        ("66", "Other offences against the State or public order", 30),
    ),
    ("Miscellaneous crimes against society", "Miscellaneous crimes against society"): (
        ("15", "Concealing an infant death close to birth", 0.02),
        ("24", "Exploitation of prostitution", 0.3),
        ("25", "Abduction of female", 0.05),
        ("26", "Bigamy", 0.1),
        ("27", "Soliciting for the purpose of prostitution", 0.5),
        ("33", "Going equipped for stealing", 6),
        ("38", "Profiting from or concealing knowledge of the proceeds of crime", 8),
        ("60", "Forgery or use of false drug prescription", 0.5),
        ("61", "Other forgery", 4),
        ("61A", "Possession of false documents", 3),
        ("67", "Perjury", 0.3),
        ("75", "Betting, gaming and lotteries", 0.05),
        ("76", "Aiding suicide", 0.05),
        ("78", "Immigration offences", 0.3),
        ("79", "Perverting the course of justice", 8),
        ("80", "Absconding from lawful custody", 0.5),
        ("82", "Customs and revenue offences", 0.1),
        ("83", "Bail offences", 0.5),
        ("84", "Trade descriptions", 0.2),
        ("85", "Health and safety offences", 0.05),
        ("86", "Obscene publications", 8),
        ("87", "Protection from eviction", 0.2),
        ("91", "Public health offences", 0.1),
        ("94", "Planning laws", 0.05),
        ("95", "Disclosure, obstruction, false or misleading statements", 1.5),
        ("99", "Other indictable or triable-either-way offences", 4),
        ("802", "Dangerous driving", 10),
        ("814", "Fraud, forgery associated with vehicle or driver records", 2),
    ),
}


@dataclass(frozen=True)
class Offence:
    code: str
    description: str
    group: str
    subgroup: str
    level: float  # offences a quarter in a county of five districts
    change: float  # yearly change from 2013-14 on


# The sample's offences first, so that a table of a few offences still has the scorecard's.
OFFENCES: tuple[Offence, ...] = (
    *(Offence(*offence) for offence in sample.OFFENCES),
    *(
        Offence(code, description, group, subgroup, level, 0.0)
        for (group, subgroup), offences in OTHER_OFFENCES.items()
        for code, description, level in offences
    ),
)


@dataclass(frozen=True)
class Csp:
    name: str  # as the ONS lookup writes it
    force: str  # its police force area
    districts: int


@dataclass(frozen=True)
class GeneratedTable:
    """What was written, for the benchmark's description of it."""

    path: Path
    csps: int
    quarters: int
    offences: int
    rows: int
    adjustments: int
    bytes: int


def read_csps(lookup: Path) -> list[Csp]:
    """Every CSP of the ONS lookup (any edition: CSP17NM, CSP21NM, ...), by force and name."""
    with lookup.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []

        def column(prefix: str) -> str:
            return next(h for h in header if h.startswith(prefix) and h.endswith("NM"))

        csp, force = column("CSP"), column("PFA")
        districts: dict[tuple[str, str], int] = {}
        for row in reader:
            key = (row[force].strip(), row[csp].strip())
            districts[key] = districts.get(key, 0) + 1
    return [Csp(name, force, count) for (force, name), count in sorted(districts.items())]


def file_name(first_year: int, years: int) -> str:
    """The release's name, giving the years it covers as the Home Office names its tables."""
    last = first_year + years - 1
    return (
        f"prc-csp-open-data-table-{first_year}-{(first_year + 1) % 100:02d}-to-"
        f"{last}-{(last + 1) % 100:02d}.csv"
    )


def _levels(offences: Sequence[Offence], year: int, quarter: int) -> np.ndarray:
    """Offences expected a quarter in an average CSP: the sample's seasons and trends."""
    trend = np.array([(1 + o.change) ** max(0, year - 2012) for o in offences])
    level = np.array([o.level for o in offences])
    return level * trend * sample.SEASON[quarter - 1] * AVERAGE_CSP_SHARE


def generate(
    out_dir: Path,
    lookup: Path,
    seed: int,
    years: int = YEARS,
    first_year: int = FIRST_YEAR,
    offences: int = len(OFFENCES),
) -> GeneratedTable:
    """Write ``out_dir/home_office_prc/<release>.csv`` for every CSP of ``lookup``, ``years``
    financial years from ``first_year`` and the first ``offences`` offences."""
    chosen = OFFENCES[:offences]
    csps = read_csps(lookup)
    sizes = np.array([csp.districts for csp in csps], dtype=float)
    sizes *= np.random.default_rng([seed, 7303]).lognormal(0.0, 0.45, len(csps))
    sizes /= sizes.mean()
    rows: list[tuple[str, ...]] = []
    adjustments = 0
    for year in range(first_year, first_year + years):
        rng = np.random.default_rng([seed, 7302, year])
        label = f"{year}/{(year + 1) % 100:02d}"
        for quarter in (1, 2, 3, 4):
            levels = _levels(chosen, year, quarter)
            for csp, size in zip(csps, sizes, strict=True):
                expected = levels * size
                counts = rng.poisson(expected)
                adjust = (expected < RARE_BELOW) & (rng.random(len(chosen)) < ADJUSTMENT_RATE)
                counts[adjust] = -rng.integers(1, 3, len(chosen))[adjust]
                adjustments += int(adjust.sum())
                rows.extend(
                    (label, str(quarter), csp.force, csp.name, o.description, o.group,
                     o.subgroup, o.code, str(count))
                    for o, count in zip(chosen, counts.tolist(), strict=True)
                )  # fmt: skip
    path = out_dir / sample.FOLDER / file_name(first_year, years)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(sample.HEADER)
        writer.writerows(rows)
    return GeneratedTable(
        path, len(csps), 4 * years, len(chosen), len(rows), adjustments, path.stat().st_size
    )
