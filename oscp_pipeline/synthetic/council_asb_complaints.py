"""SYNTHETIC district council extracts of domestic noise and domestic waste complaints.

Each council sends one file a quarter in its own layout, as the partnership receives them:
Cherwell a UTF-8 CSV with ISO dates; Oxford a workbook (sheet ``Complaints`` under two title
rows) mixing date cells with typed-in day/month/year text; South Oxfordshire and Vale of White
Horse one joint CSV with a district column ("Vale" as often as the full name); West Oxfordshire
a Windows-1252 CSV with en dashes in its categories and a trailing totals line. Noise peaks in
summer and rises in 2013-14; a few rows carry the faults real extracts have (an unmapped
category, an impossible date, a repeated reference, a complaint logged in the wrong quarter, a
town for a district). Every figure, reference and note is invented.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Font

from oscp_pipeline.synthetic.workbooks import reproducible_xlsx_bytes

FOLDER = "council_asb_complaints"
FINANCIAL_YEARS = (2011, 2012, 2013, 2014)
WORKBOOK_TIMESTAMP = dt.datetime(2015, 4, 20, 9, 0, 0)

# Relative level of complaints by month, April first: noise peaks in the summer evenings.
NOISE_MONTHS = (1.0, 1.05, 1.15, 1.25, 1.2, 1.05, 0.95, 0.9, 0.95, 0.85, 0.85, 0.9)
WASTE_MONTHS = (1.0, 1.05, 1.1, 1.1, 1.05, 1.0, 0.95, 0.9, 1.0, 1.05, 0.9, 0.95)
# Domestic noise rises in 2013-14 (about +15% on 2012-13) and stays up.
NOISE_YEARS = {2011: 1.0, 2012: 0.98, 2013: 1.13, 2014: 1.11}
WASTE_YEARS = {2011: 1.0, 2012: 1.02, 2013: 1.03, 2014: 1.0}
# Complaints per quarter in an average month of 2011-12: (noise, waste).
QUARTERLY_LEVEL = {
    "Cherwell": (105, 42),
    "Oxford": (290, 112),
    "South Oxfordshire": (85, 36),
    "Vale of White Horse": (82, 32),
    "West Oxfordshire": (78, 30),
}
NOISE_SHARES = {
    "music": 0.34,
    "barking_dog": 0.2,
    "voices_party": 0.2,
    "alarm": 0.07,
    "diy_banging": 0.11,
    "other_noise": 0.08,
}
WASTE_SHARES = {"accumulation": 0.4, "bins_on_street": 0.25, "side_waste": 0.25, "other_waste": 0.1}

WARDS = {
    "Cherwell": ("Banbury Ruscote", "Banbury Grimsbury", "Bicester West", "Kidlington South"),
    "Oxford": ("Carfax", "Cowley Marsh", "Iffley Fields", "Jericho and Osney", "Blackbird Leys"),
    "South Oxfordshire": ("Didcot Ladygrove", "Henley North", "Thame South", "Wallingford"),
    "Vale of White Horse": ("Abingdon Caldecott", "Wantage Charlton", "Faringdon", "Botley"),
    "West Oxfordshire": ("Witney Central", "Carterton South", "Chipping Norton", "Eynsham"),
}


@dataclass(frozen=True)
class Complaint:
    """One invented complaint, before a council writes it in its own layout."""

    received: dt.datetime
    district: str
    service: str
    category: str
    ward: str


def _complaints(
    districts: tuple[str, ...], year: int, quarter: int, rng: np.random.Generator
) -> list[Complaint]:
    """A quarter's complaints for the districts, in the order they were received."""
    complaints = []
    for offset in range(3):
        month_index = 3 * (quarter - 1) + offset  # 0 = April
        first = dt.date(year + (3 + month_index) // 12, (3 + month_index) % 12 + 1, 1)
        days = ((first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - first).days
        for district in districts:
            noise_level, waste_level = QUARTERLY_LEVEL[district]
            expected = {
                "noise": noise_level / 3 * NOISE_MONTHS[month_index] * NOISE_YEARS[year],
                "waste": waste_level / 3 * WASTE_MONTHS[month_index] * WASTE_YEARS[year],
            }
            for service, shares in (("noise", NOISE_SHARES), ("waste", WASTE_SHARES)):
                for _ in range(int(rng.poisson(expected[service]))):
                    category = str(rng.choice(list(shares), p=list(shares.values())))
                    received = dt.datetime.combine(
                        first + dt.timedelta(days=int(rng.integers(days))),
                        dt.time(int(rng.integers(8, 23)), int(rng.integers(60))),
                    )
                    ward = str(rng.choice(WARDS[district]))
                    complaints.append(Complaint(received, district, service, category, ward))
    return sorted(complaints, key=lambda c: (c.received, c.district, c.category))


def _quarter_name(year: int, quarter: int) -> str:
    return f"{year}-{(year + 1) % 100:02d}_Q{quarter}"


def _csv_bytes(header: list[str], rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


# Cherwell: UTF-8 CSV, ISO dates, its own category names.
CHERWELL_LABELS = {
    "music": "Music",
    "barking_dog": "Dog Barking",
    "voices_party": "Voices / Parties",
    "alarm": "Intruder Alarm",
    "diy_banging": "DIY",
    "other_noise": "Other Noise",
    "accumulation": "Accumulation of Rubbish",
    "bins_on_street": "Bins on Street",
    "side_waste": "Side Waste",
    "other_waste": "Other Waste",
}


def _cherwell(folder: Path, year: int, quarter: int, rng: np.random.Generator) -> int:
    complaints = _complaints(("Cherwell",), year, quarter, rng)
    rows = [
        [
            f"EH/{year % 100:02d}/{number:05d}",
            c.received.date().isoformat(),
            c.service.title(),
            CHERWELL_LABELS[c.category],
            c.ward,
        ]
        for number, c in enumerate(complaints, start=1000 * quarter)
    ]
    if (year, quarter) == (2013, 3):  # bonfire season: a category Cherwell has just started
        for number, day in enumerate((3, 5, 5, 6), start=9001):
            received = dt.date(2013, 11, day).isoformat()
            rows.append([f"EH/13/{number:05d}", received, "Noise", "Fireworks", "Bicester West"])
    if (year, quarter) == (2012, 4):  # a December complaint logged after the quarter closed
        rows.insert(0, ["EH/12/03999", "2012-12-28", "Noise", "Music", "Banbury Ruscote"])
    header = ["Reference", "Date Received", "Service", "Complaint Category", "Ward"]
    name = f"cherwell_noise_waste_complaints_{_quarter_name(year, quarter)}.csv"
    (folder / name).write_bytes(_csv_bytes(header, rows, "utf-8"))
    return len(rows)


# Oxford: a workbook with two title rows; officers type some dates in, day first.
OXFORD_LABELS = {
    "music": "Loud music",
    "barking_dog": "Barking dog",
    "voices_party": "Party",
    "alarm": "Alarm",
    "diy_banging": "DIY / banging",
    "other_noise": "Other noise",
    "accumulation": "Rubbish accumulation",
    "bins_on_street": "Bins left out",
    "side_waste": "Side waste",
    "other_waste": "Other waste",
}
OXFORD_NOTES = {
    "music": "Amplified music from neighbouring property late at night",
    "barking_dog": "Dog left alone barking for long periods",
    "voices_party": "Gathering in garden, shouting after midnight",
    "alarm": "House alarm sounding for over an hour",
    "diy_banging": "Drilling and hammering early morning",
    "other_noise": "Humming from extractor unit",
    "accumulation": "Bags of rubbish piled in front garden",
    "bins_on_street": "Wheelie bins left on pavement all week",
    "side_waste": "Extra bags left beside bin on collection day",
    "other_waste": "Garden waste dumped by bin store",
}


def _oxford(folder: Path, year: int, quarter: int, rng: np.random.Generator) -> int:
    complaints = _complaints(("Oxford",), year, quarter, rng)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Complaints"
    label = _quarter_name(year, quarter).replace("_", " ")
    sheet.cell(1, 1, "Oxford City Council: Environmental Health noise and waste complaints")
    sheet.cell(1, 1).font = Font(bold=True, size=12)
    sheet.cell(2, 1, f"Quarter {label} (SYNTHETIC sample, not real records)")
    header = ["Case Ref", "Date Received", "Type", "Category", "Ward", "Details"]
    for column, title in enumerate(header, start=1):
        sheet.cell(3, column, title).font = Font(bold=True)
    rows: list[list[object]] = []
    for number, c in enumerate(complaints, start=1):
        received: object = c.received.date()
        if rng.random() < 0.15:  # typed in by hand, day first
            received = c.received.strftime("%d/%m/%Y")
        reference = f"OXF-{year}-Q{quarter}-{number:04d}"
        row = [reference, received, c.service.title(), OXFORD_LABELS[c.category], c.ward]
        rows.append([*row, OXFORD_NOTES[c.category]])
    if (year, quarter) == (2012, 2):  # a date typed in that does not exist
        rows.insert(40, ["OXF-2012-Q2-9001", "31/09/2012", "Noise", "Party", "Carfax", ""])
    if (year, quarter) == (2013, 1):  # a case keyed in twice
        rows.insert(61, list(rows[60]))
    for offset, row in enumerate(rows, start=4):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(offset, column, value)
            if isinstance(value, dt.date):
                cell.number_format = "DD/MM/YYYY"
    sheet.column_dimensions["B"].width = 14
    name = f"oxford_env_health_complaints_{_quarter_name(year, quarter)}.xlsx"
    (folder / name).write_bytes(reproducible_xlsx_bytes(workbook, WORKBOOK_TIMESTAMP))
    return len(rows)


# South and Vale: one joint CSV; the Vale is often written "Vale"; dates with a time.
SOUTH_AND_VALE_LABELS = {
    "music": "Amplified music",
    "barking_dog": "Dog barking",
    "voices_party": "Domestic party",
    "alarm": "Alarm (house/car)",
    "diy_banging": "Construction/DIY",
    "other_noise": "Noise - other",
    "accumulation": "Waste accumulation",
    "bins_on_street": "Bins on highway",
    "side_waste": "Excess side waste",
    "other_waste": "Waste - other",
}


def _south_and_vale(folder: Path, year: int, quarter: int, rng: np.random.Generator) -> int:
    complaints = _complaints(("South Oxfordshire", "Vale of White Horse"), year, quarter, rng)
    rows = []
    for number, c in enumerate(complaints, start=1):
        district = c.district
        if district == "Vale of White Horse" and rng.random() < 0.4:
            district = "Vale"
        rows.append(
            [
                f"SV{year % 100:02d}{quarter}{number:04d}",
                district,
                c.received.strftime("%d/%m/%Y %H:%M"),
                c.service.title(),
                SOUTH_AND_VALE_LABELS[c.category],
                c.ward,
            ]
        )
    if (year, quarter) == (2014, 1):  # a town entered where the district belongs
        rows[10][1] = "Didcot"
    header = ["Case Ref", "District", "Date Received", "Service", "Complaint Type", "Parish"]
    name = f"south_and_vale_complaints_{_quarter_name(year, quarter)}.csv"
    (folder / name).write_bytes(_csv_bytes(header, rows, "utf-8"))
    return len(rows)


# West Oxfordshire: Excel's CSV on Windows (cp1252), en dashes, and a totals line at the end.
WEST_LABELS = {
    "music": "Noise \u2013 music",
    "barking_dog": "Noise \u2013 dog",
    "voices_party": "Noise \u2013 party/voices",
    "alarm": "Noise \u2013 alarm",
    "diy_banging": "Noise \u2013 DIY",
    "other_noise": "Noise \u2013 other",
    "accumulation": "Waste \u2013 accumulation",
    "bins_on_street": "Waste \u2013 bins on street",
    "side_waste": "Waste \u2013 side waste",
    "other_waste": "Waste \u2013 other",
}


def _west_oxfordshire(folder: Path, year: int, quarter: int, rng: np.random.Generator) -> int:
    complaints = _complaints(("West Oxfordshire",), year, quarter, rng)
    first_id = 40000 + 2000 * (year - FINANCIAL_YEARS[0]) + 500 * (quarter - 1)
    rows = [
        [
            str(number),
            c.received.strftime("%d/%m/%Y"),
            c.service.title(),
            WEST_LABELS[c.category],
            c.ward,
        ]
        for number, c in enumerate(complaints, start=first_id)
    ]
    header = ["Complaint ID", "Date Logged", "Service", "Complaint Type", "Ward"]
    rows.append(["Total", "", "", "", str(len(rows))])
    name = f"wodc_noise_waste_{_quarter_name(year, quarter)}.csv"
    (folder / name).write_bytes(_csv_bytes(header, rows, "cp1252"))
    return len(rows)


COUNCILS: tuple[tuple[str, Callable[[Path, int, int, np.random.Generator], int]], ...] = (
    ("cherwell", _cherwell),
    ("oxford", _oxford),
    ("south_and_vale", _south_and_vale),
    ("west_oxfordshire", _west_oxfordshire),
)


def generate(out_dir: Path, seed: int) -> str:
    """Write every council's quarterly files; returns a one-line summary."""
    files = rows = 0
    for index, (council, write) in enumerate(COUNCILS):
        rng = np.random.default_rng([seed, 5101, index])
        folder = out_dir / FOLDER / council
        folder.mkdir(parents=True, exist_ok=True)
        for year in FINANCIAL_YEARS:
            for quarter in (1, 2, 3, 4):
                rows += write(folder, year, quarter, rng)
                files += 1
    return f"{files} files, {rows} rows"
