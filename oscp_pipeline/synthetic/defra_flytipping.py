"""SYNTHETIC DEFRA fly-tipping tables: incidents reported by local authorities in England.

DEFRA republishes its local authority table every year, covering earlier years again, and in
two forms: an XLSX workbook (a ``Cover`` sheet, then sheet ``LA_incidents`` with banner rows
above the header) and a plain CSV. Two releases are simulated here so that a loader meets both
forms, overlapping years with slightly revised figures, ``:`` for "not available", ``*Total``
aggregate rows and LA names with a stray trailing space. All figures are invented.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Font

from oscp_pipeline.synthetic.workbooks import reproducible_xlsx_bytes

YEARS: tuple[str, ...] = ("2011-12", "2012-13", "2013-14", "2014-15")
XLSX_YEARS = YEARS[:3]
CSV_YEARS = YEARS[1:]
XLSX_NAME = "flytipping_LA_incidents_2011-12_to_2013-14.xlsx"
CSV_NAME = "flytipping_LA_incidents_2012-13_to_2014-15.csv"
SHEET_NAME = "LA_incidents"
NOT_AVAILABLE = ":"
TOTAL = "*Total"
ENGLAND_REGION = "*Total England"
REPORTING_BASIS = "All incidents"
TRAILING_SPACE_YEAR = "2013-14"  # the CSV year whose LA names carry a stray trailing space
# Fixed timestamps keep the XLSX byte-identical from run to run.
WORKBOOK_TIMESTAMP = dt.datetime(2014, 11, 20, 9, 30, 0)

LAND_COLUMNS: tuple[str, ...] = (
    "Highway Incidents",
    "Footpath / Bridleway Incidents",
    "Back Alleyway Incidents",
    "Railway Incidents",
    "Council Land Incidents",
    "Agricultural Incidents",
    "Private / Residential Incidents",
    "Commercial / Industrial Incidents",
    "Watercourse / Bank Incidents",
    "Other (unidentified) Incidents",
)
WASTE_COLUMNS: tuple[str, ...] = (
    "Animal Carcass Incidents",
    "Green Incidents",
    "Vehicle Parts Incidents",
    "White Goods Incidents",
    "Other Electrical Incidents",
    "Tyres Incidents",
    "Asbestos Incidents",
    "Clinical Incidents",
    "Constr / Demol / Excav Incidents",
    "Black Bags - Commercial Incidents",
    "Black Bags - Household Incidents",
    "Chemical Drums Oil Fuel Incidents",
    "Other Household Waste Incidents",
    "Other Commercial Waste Incidents",
    "Other Identifiable Incidents",
)
TOTAL_COLUMN = "Total Incidents"
COST_COLUMN = "Total Incidents Clearance Costs (£)"
RATE_COLUMN = "Incidents per 1,000 people"
COUNT_COLUMNS: tuple[str, ...] = (TOTAL_COLUMN, *LAND_COLUMNS, *WASTE_COLUMNS)
HEADER: tuple[str, ...] = (
    "Year",
    "ONS Code",
    "LA Name",
    "Region",
    *COUNT_COLUMNS,
    COST_COLUMN,
    RATE_COLUMN,
    "Reporting basis",
)

# Typical national shares: where fly-tips are found, and what is dumped.
LAND_SHARES = (0.46, 0.07, 0.07, 0.003, 0.12, 0.02, 0.12, 0.03, 0.01, 0.097)
WASTE_SHARES = (
    0.005,
    0.06,
    0.015,
    0.03,
    0.03,
    0.02,
    0.005,
    0.002,
    0.05,
    0.05,
    0.18,
    0.003,
    0.44,
    0.06,
    0.05,
)
URBAN_LAND_TILT = (1.0, 0.5, 2.5, 1.0, 1.2, 0.2, 1.0, 1.0, 0.6, 1.0)


@dataclass(frozen=True)
class Authority:
    """A local authority: real name and GSS code, invented fly-tipping levels."""

    code: str
    name: str
    region: str
    population_2011: int
    incidents: tuple[int, int]  # plausible range of yearly total incidents
    urban: bool


OXFORDSHIRE: tuple[Authority, ...] = (
    Authority("E07000177", "Cherwell", "South East", 141868, (400, 490), False),
    Authority("E07000178", "Oxford", "South East", 151906, (1000, 1300), True),
    Authority("E07000179", "South Oxfordshire", "South East", 134257, (470, 640), False),
    Authority("E07000180", "Vale of White Horse", "South East", 120988, (320, 400), False),
    Authority("E07000181", "West Oxfordshire", "South East", 104779, (480, 530), False),
)
OTHER_AUTHORITIES: tuple[Authority, ...] = (
    Authority("E07000004", "Aylesbury Vale", "South East", 174100, (900, 1200), False),
    Authority("E07000005", "Chiltern", "South East", 92600, (300, 420), False),
    Authority("E07000007", "Wycombe", "South East", 171600, (800, 1100), False),
    Authority("E06000037", "West Berkshire", "South East", 153800, (600, 850), False),
    Authority("E06000038", "Reading", "South East", 155700, (1600, 2200), True),
    Authority("E06000039", "Slough", "South East", 140200, (2200, 3000), True),
    Authority("E06000041", "Wokingham", "South East", 154400, (350, 500), False),
    Authority("E06000042", "Milton Keynes", "South East", 248800, (2300, 3100), True),
    Authority("E06000043", "Brighton and Hove", "South East", 273400, (1800, 2600), True),
    Authority("E06000035", "Medway", "South East", 263900, (2000, 2800), True),
    Authority("E06000030", "Swindon", "South West", 209200, (2600, 3400), True),
    Authority("E06000054", "Wiltshire", "South West", 471000, (3200, 4200), False),
    Authority("E07000079", "Cotswold", "South West", 82900, (450, 650), False),
    Authority("E06000023", "Bristol, City of", "South West", 428200, (3800, 5200), True),
    Authority("E07000155", "South Northamptonshire", "East Midlands", 85200, (400, 600), False),
    Authority("E07000154", "Northampton", "East Midlands", 212100, (2800, 3800), True),
    Authority("E06000016", "Leicester", "East Midlands", 329800, (5500, 7500), True),
    Authority("E07000221", "Stratford-on-Avon", "West Midlands", 120500, (800, 1100), False),
    Authority("E08000025", "Birmingham", "West Midlands", 1073000, (9000, 13000), True),
    Authority("E08000026", "Coventry", "West Midlands", 317000, (2300, 3300), True),
    Authority("E09000007", "Camden", "London", 220300, (8000, 11000), True),
    Authority("E09000025", "Newham", "London", 308000, (22000, 30000), True),
    Authority("E08000003", "Manchester", "North West", 503100, (11000, 15000), True),
    Authority("E08000035", "Leeds", "Yorkshire and The Humber", 751500, (7000, 10000), True),
    Authority("E06000032", "Luton", "East of England", 203200, (3200, 4400), True),
    Authority("E07000008", "Cambridge", "East of England", 123900, (600, 900), True),
)
AUTHORITIES = OXFORDSHIRE + OTHER_AUTHORITIES

# (year, ONS code, column) cells published as ':' in each release.
XLSX_NOT_AVAILABLE: tuple[tuple[str, str, str], ...] = (
    ("2011-12", "E07000178", "Asbestos Incidents"),  # Oxford: the one Oxfordshire gap
    ("2011-12", "E07000079", "Animal Carcass Incidents"),
    ("2012-13", "E09000025", "Clinical Incidents"),
    ("2012-13", "E08000035", "Asbestos Incidents"),
    ("2013-14", "E08000025", "Chemical Drums Oil Fuel Incidents"),
)
CSV_NOT_AVAILABLE: tuple[tuple[str, str, str], ...] = (
    ("2012-13", "E09000025", "Clinical Incidents"),
    ("2013-14", "E08000025", "Chemical Drums Oil Fuel Incidents"),
    ("2014-15", "E08000003", "Tyres Incidents"),
    ("2014-15", "E06000032", "Clinical Incidents"),
)


@dataclass(frozen=True)
class Revision:
    """A change the later release makes to a year the earlier release already published."""

    year: str
    code: str
    land: dict[str, int]  # column -> change; the changes sum to the change in the total
    waste: dict[str, int]


CSV_REVISIONS: tuple[Revision, ...] = (
    Revision(
        "2013-14",
        "E07000179",  # South Oxfordshire: three late reports added
        {"Highway Incidents": 2, "Private / Residential Incidents": 1},
        {"Other Household Waste Incidents": 2, "Green Incidents": 1},
    ),
    Revision(
        "2012-13",
        "E07000177",  # Cherwell: incidents reclassified, total unchanged
        {"Highway Incidents": -4, "Footpath / Bridleway Incidents": 4},
        {"Black Bags - Household Incidents": -2, "Other Household Waste Incidents": 2},
    ),
    Revision(
        "2013-14",
        "E06000038",  # Reading: duplicates removed
        {"Highway Incidents": -4, "Back Alleyway Incidents": -2},
        {"Other Household Waste Incidents": -6},
    ),
    Revision(
        "2012-13",
        "E09000025",  # Newham: late return
        {"Highway Incidents": 30, "Back Alleyway Incidents": 11},
        {"Black Bags - Household Incidents": 25, "Other Household Waste Incidents": 16},
    ),
)

Cell = int | str


@dataclass
class LaRow:
    """One authority-year: counts, clearance cost in pence and mid-year population."""

    year: str
    code: str
    name: str
    region: str
    counts: dict[str, Cell]
    cost_pence: int
    population: int


@dataclass(frozen=True)
class ReleaseSummary:
    """What went into one release file, for the run report."""

    path: Path
    data_rows: int
    oxfordshire_totals: dict[str, dict[str, int]]  # year -> district -> total incidents


def _split(total: int, shares: np.ndarray, rng: np.random.Generator) -> list[int]:
    """Split a total across categories so the parts add up exactly."""
    return [int(n) for n in rng.multinomial(total, shares)]


def _totals_path(authority: Authority, rng: np.random.Generator) -> list[int]:
    """Four yearly totals inside the authority's range, generally rising."""
    low, high = authority.incidents
    values = np.sort(rng.uniform(low, high, size=len(YEARS)))
    if rng.random() < 0.3:  # some authorities dip for a year
        i = int(rng.integers(1, len(YEARS)))
        values[i - 1], values[i] = values[i], values[i - 1]
    return [round(float(v)) for v in values]


def build_true_rows(seed: int) -> dict[tuple[str, str], LaRow]:
    """Every authority-year as it would finally stand, keyed by (year, ONS code)."""
    rng = np.random.default_rng([seed, 2])
    rows: dict[tuple[str, str], LaRow] = {}
    for authority in AUTHORITIES:
        land_base = np.array(LAND_SHARES) * (np.array(URBAN_LAND_TILT) if authority.urban else 1)
        land_shares = rng.dirichlet(land_base / land_base.sum() * 150)
        waste_shares = rng.dirichlet(np.array(WASTE_SHARES) / sum(WASTE_SHARES) * 150)
        cost_per_incident = rng.uniform(45.0, 80.0)
        for position, (year, total) in enumerate(
            zip(YEARS, _totals_path(authority, rng), strict=True)
        ):
            counts: dict[str, Cell] = {TOTAL_COLUMN: total}
            counts.update(zip(LAND_COLUMNS, _split(total, land_shares, rng), strict=True))
            counts.update(zip(WASTE_COLUMNS, _split(total, waste_shares, rng), strict=True))
            cost = total * cost_per_incident * rng.uniform(0.9, 1.1) * 100
            population = round(authority.population_2011 * 1.007**position)
            rows[(year, authority.code)] = LaRow(
                year,
                authority.code,
                authority.name,
                authority.region,
                counts,
                round(float(cost)),
                population,
            )
    return rows


def _apply_revision(row: LaRow, revision: Revision, rng: np.random.Generator) -> LaRow:
    """The row as the later release publishes it, keeping land and waste sums equal to total."""
    land_change, waste_change = sum(revision.land.values()), sum(revision.waste.values())
    if land_change != waste_change:
        raise ValueError(f"revision of {revision.code} {revision.year} does not balance")
    counts = dict(row.counts)
    for column, change in (*revision.land.items(), *revision.waste.items()):
        value = counts[column]
        if not isinstance(value, int) or value + change < 0:
            raise ValueError(f"cannot revise {column} of {revision.code} {revision.year}")
        counts[column] = value + change
    total = counts[TOTAL_COLUMN]
    assert isinstance(total, int)
    counts[TOTAL_COLUMN] = total + land_change
    cost = row.cost_pence + round(land_change * float(rng.uniform(45.0, 80.0)) * 100)
    return replace(row, counts=counts, cost_pence=cost)


def build_release(
    truth: dict[tuple[str, str], LaRow],
    years: tuple[str, ...],
    not_available: tuple[tuple[str, str, str], ...],
    revisions: tuple[Revision, ...],
    rng: np.random.Generator,
) -> list[LaRow]:
    """The authority rows of one release: its years, its revisions and its ':' cells."""
    rows = []
    for year in years:
        for authority in AUTHORITIES:
            row = truth[(year, authority.code)]
            row = replace(row, counts=dict(row.counts))
            for revision in revisions:
                if (revision.year, revision.code) == (year, authority.code):
                    row = _apply_revision(row, revision, rng)
            for gap_year, gap_code, column in not_available:
                if (gap_year, gap_code) == (year, authority.code):
                    if column == TOTAL_COLUMN:
                        raise ValueError("Total Incidents is always published")
                    row.counts[column] = NOT_AVAILABLE
            rows.append(row)
    return rows


def _rate(total: float, population: int) -> float:
    return round(total / population * 1000.0, 2)


def _aggregate(rows: list[LaRow], year: str, region: str) -> LaRow:
    """A '*Total' row: the sum of the authority rows shown, ':' cells left out of the sum."""
    counts: dict[str, Cell] = {}
    for column in COUNT_COLUMNS:
        counts[column] = sum(v for r in rows if isinstance(v := r.counts[column], int))
    return LaRow(
        year,
        TOTAL,
        TOTAL,
        region,
        counts,
        sum(r.cost_pence for r in rows),
        sum(r.population for r in rows),
    )


def table_rows(la_rows: list[LaRow]) -> list[LaRow]:
    """The published row order: per year, England total, then each region's total and its LAs."""
    ordered: list[LaRow] = []
    for year in sorted({r.year for r in la_rows}):
        year_rows = [r for r in la_rows if r.year == year]
        ordered.append(_aggregate(year_rows, year, ENGLAND_REGION))
        for region in sorted({r.region for r in year_rows}):
            region_rows = sorted((r for r in year_rows if r.region == region), key=lambda r: r.name)
            ordered.append(_aggregate(region_rows, year, region))
            ordered.extend(region_rows)
    return ordered


def _total(row: LaRow) -> int:
    value = row.counts[TOTAL_COLUMN]
    assert isinstance(value, int)
    return value


def _csv_record(row: LaRow) -> list[str]:
    name = row.name
    if row.year == TRAILING_SPACE_YEAR and row.code != TOTAL:
        name += " "
    return [
        row.year,
        row.code,
        name,
        row.region,
        *(str(row.counts[c]) for c in COUNT_COLUMNS),
        f"{row.cost_pence / 100:.2f}",
        f"{_rate(_total(row), row.population):.2f}",
        REPORTING_BASIS,
    ]


def write_csv(path: Path, rows: list[LaRow]) -> None:
    """The table as DEFRA's CSV: no banner, minimal quoting (two headers contain commas)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows(_csv_record(row) for row in rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


COVER_LINES: tuple[str, ...] = (
    "Fly-tipping incidents and actions reported by local authorities in England",
    "",
    "SYNTHETIC DATA: this workbook is a synthetic sample in the layout of the DEFRA local "
    "authority fly-tipping table. Every figure is invented; these are not official statistics "
    "and contain no real records.",
    "",
    "Notes",
    "1. ':' means the figure is not available.",
    "2. '*Total' rows sum the local authorities shown in this sample, not the whole of England.",
    "3. Years are financial years, April to March.",
    "4. Clearance costs are estimates in pounds sterling.",
    "5. Incidents per 1,000 people use mid-year population estimates.",
)


def write_xlsx(path: Path, rows: list[LaRow]) -> None:
    """The table as DEFRA's workbook: a cover sheet, then banner rows above the header."""
    workbook = Workbook()
    cover = workbook.active
    assert cover is not None
    cover.title = "Cover"
    for number, line in enumerate(COVER_LINES, start=1):
        if line:
            cover.cell(number, 1, line)
    cover.cell(1, 1).font = Font(bold=True, size=14)
    cover.column_dimensions["A"].width = 110

    sheet = workbook.create_sheet(SHEET_NAME)
    first, last = XLSX_YEARS[0], XLSX_YEARS[-1]
    banner = (
        f"Fly-tipping incidents reported by local authorities, England, {first} to {last}",
        "",
        "Source: SYNTHETIC sample in the layout of the DEFRA fly-tipping statistics for England "
        "(not official statistics)",
        "':' = not available",
    )
    for number, line in enumerate(banner, start=1):
        if line:
            sheet.cell(number, 1, line)
    sheet.cell(1, 1).font = Font(bold=True, size=12)
    header_row = len(banner) + 1
    for column, title in enumerate(HEADER, start=1):
        sheet.cell(header_row, column, title).font = Font(bold=True)
    for offset, row in enumerate(rows, start=1):
        values: list[object] = [
            row.year,
            row.code,
            row.name,
            row.region,
            *(row.counts[c] for c in COUNT_COLUMNS),
            row.cost_pence / 100,
            _rate(_total(row), row.population),
            REPORTING_BASIS,
        ]
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(header_row + offset, column, value)
            if HEADER[column - 1] == COST_COLUMN:
                cell.number_format = "#,##0.00"
    sheet.freeze_panes = sheet.cell(header_row + 1, 5)
    path.write_bytes(reproducible_xlsx_bytes(workbook, WORKBOOK_TIMESTAMP))


def _oxfordshire_totals(rows: list[LaRow]) -> dict[str, dict[str, int]]:
    codes = {a.code for a in OXFORDSHIRE}
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        if row.code in codes:
            totals.setdefault(row.year, {})[row.name] = _total(row)
    return totals


def generate(out_dir: Path, seed: int) -> list[ReleaseSummary]:
    """Write both releases under ``out_dir/defra_flytipping``."""
    folder = out_dir / "defra_flytipping"
    folder.mkdir(parents=True, exist_ok=True)
    truth = build_true_rows(seed)
    rng = np.random.default_rng([seed, 3])
    # Leeds asbestos 2012-13 is ':' in the earlier release only: filled in after a late return.
    xlsx_rows = table_rows(build_release(truth, XLSX_YEARS, XLSX_NOT_AVAILABLE, (), rng))
    csv_rows = table_rows(build_release(truth, CSV_YEARS, CSV_NOT_AVAILABLE, CSV_REVISIONS, rng))
    write_xlsx(folder / XLSX_NAME, xlsx_rows)
    write_csv(folder / CSV_NAME, csv_rows)
    return [
        ReleaseSummary(folder / XLSX_NAME, len(xlsx_rows), _oxfordshire_totals(xlsx_rows)),
        ReleaseSummary(folder / CSV_NAME, len(csv_rows), _oxfordshire_totals(csv_rows)),
    ]
