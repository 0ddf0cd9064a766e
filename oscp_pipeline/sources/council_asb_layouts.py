"""The district councils' complaint extract layouts, one declaration per layout.

Each council exports domestic noise and domestic waste complaints from its own case system, so
each sends its own layout: file type, headers, date formats, category labels, district. Every
difference is declared here, as data, and one generic reader
(``sources/council_asb_complaints.py``) reads them all. A council that changes its export, or a
new council, is a new ``CouncilLayout`` added to ``LAYOUTS``: headers with their aliases, the
date formats it writes, and its labels mapped to the canonical vocabulary below. A label missing
from a layout's map is never guessed: the row is set aside naming the label.

A council's files sit under ``<raw>/council_asb_complaints/<folder>/``, where the folder is the
OSCP area the files cover (``dim_area`` name as a slug: ``south_and_vale`` covers both of its
districts). Every file name carries the financial quarter it covers, e.g. ``..._2013-14_Q2.csv``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from oscp_pipeline.reference import load_reference_table
from oscp_pipeline.sources.base import Column, normalise_header, slug

NOISE = "noise"
WASTE = "waste"
CANONICAL_CATEGORIES: dict[str, tuple[str, ...]] = {
    NOISE: ("music", "barking_dog", "voices_party", "alarm", "diy_banging", "other_noise"),
    WASTE: ("accumulation", "bins_on_street", "side_waste", "other_waste"),
}
FILE_TYPES = ("csv", "xlsx")

# Canonical column names a layout's columns may use; the reader knows what each one means.
REFERENCE, DATE_RECEIVED, SERVICE, CATEGORY, DISTRICT, WARD, DETAILS = (
    "reference",
    "date_received",
    "service",
    "category",
    "district",
    "ward",
    "details",
)
REQUIRED_COLUMNS = (REFERENCE, DATE_RECEIVED, CATEGORY)
KNOWN_COLUMNS = (*REQUIRED_COLUMNS, SERVICE, DISTRICT, WARD, DETAILS)
# The columns the reader loads or checks; a set-aside row's record keeps only these. The ward
# (or parish) and an officer's notes are typed by hand and never loaded.
READ_COLUMNS = (REFERENCE, DATE_RECEIVED, SERVICE, CATEGORY, DISTRICT)

# A case reference, in every layout: a short code of letters, digits and - / _ . that holds a
# digit ('EH/13/00001', 'OXF-2013-Q1-0061', 'SV1310001', '40000'). It is loaded into the
# complaint table, so anything else (a name or an address typed into the column) sets the row
# aside without being quoted.
REFERENCE_LENGTH = 30
CASE_REFERENCE = re.compile(
    rf"(?=[^0-9]*[0-9])[A-Za-z0-9][A-Za-z0-9/_.-]{{0,{REFERENCE_LENGTH - 1}}}"
)
REFERENCE_SHAPE = (
    f"up to {REFERENCE_LENGTH} letters, digits and - / _ . (no spaces), starting with a letter "
    "or digit and holding a digit, e.g. 'EH/13/00001'"
)


def is_case_reference(text: str) -> bool:
    """Whether ``text`` (stripped) is shaped like a council case reference (``CASE_REFERENCE``)."""
    return CASE_REFERENCE.fullmatch(text.strip()) is not None


@dataclass(frozen=True)
class TotalsLine:
    """A trailing line holding the number of complaints in the file, checked and not loaded.

    The line's non-blank cells are one label cell matching ``label`` (ignoring case) and the
    count, either in a cell of its own (``Total,,,,57``, in whatever column) or after the label
    in the same cell (``TOTAL complaints: 57``).
    """

    label: str
    example: str

    def match(self, cells: Sequence[str]) -> int | None:
        """The complaint count the line states, or None when the line is not a totals line."""
        filled = [cell.strip() for cell in cells if cell.strip()]
        labels = [cell for cell in filled if re.match(self.label, cell, re.IGNORECASE)]
        if len(labels) != 1:
            return None
        after_label = re.sub(self.label, "", labels[0], count=1, flags=re.IGNORECASE)
        numbers = re.findall(r"\d+", after_label)
        others = [cell for cell in filled if cell != labels[0]]
        if not all(cell.isdigit() for cell in others) or len(numbers) + len(others) != 1:
            return None
        return int((numbers or others)[0])


@dataclass(frozen=True)
class CouncilLayout:
    """Everything one council's extract layout declares; the generic reader does the rest.

    ``council`` is the OSCP area the files cover, named as in ``dim_area``. ``district`` fixes
    the district of every row (the name of a district of that area); when it is ``None`` the
    layout must have a ``district`` column naming one. ``services`` maps the labels of an
    optional service column to ``noise``/``waste``; the category map decides the service, and a
    service column that disagrees with it sets the row aside.
    """

    layout_id: str
    title: str
    council: str
    file_glob: str
    file_type: str
    columns: tuple[Column, ...]
    date_formats: tuple[str, ...]
    categories: Mapping[str, tuple[str, str]]
    services: Mapping[str, str] = field(default_factory=dict)
    district: str | None = None
    sheet: str | None = None
    encodings: tuple[str, ...] = ("utf-8", "utf-8-sig")
    totals_line: TotalsLine | None = None

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError(f"council layout {self.layout_id!r}: " + "; ".join(problems))

    @property
    def folder(self) -> str:
        return slug(self.council)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def districts(self) -> dict[str, str]:
        """Name -> code of the districts this layout's council area covers."""
        areas = load_reference_table("areas").to_pylist()
        codes = {a["area_code"] for a in areas if a["area_name"] == self.council}
        return {
            a["area_name"]: a["area_code"]
            for a in areas
            if a["area_type"] == "district" and (a["area_code"] in codes or a["csp_code"] in codes)
        }

    def category_of(self, label: str) -> tuple[str, str] | None:
        """(service, category) a published label maps to; case and spacing are ignored."""
        key = normalise_header(label)
        return next((v for k, v in self.categories.items() if normalise_header(k) == key), None)

    def service_of(self, label: str) -> str | None:
        key = normalise_header(label)
        return next((v for k, v in self.services.items() if normalise_header(k) == key), None)

    def problems(self) -> list[str]:
        """What makes this declaration unusable (empty when it is sound)."""
        names = [c.name for c in self.columns]
        problems = [
            f"column {n!r} is not one the reader knows" for n in names if n not in KNOWN_COLUMNS
        ]
        problems += [
            f"required column {n!r} is missing" for n in REQUIRED_COLUMNS if n not in names
        ]
        if self.file_type not in FILE_TYPES:
            problems.append(f"file type {self.file_type!r} is not one of {FILE_TYPES}")
        if (self.sheet is not None) != (self.file_type == "xlsx"):
            problems.append("a sheet is declared for, and only for, an xlsx layout")
        if (self.district is not None) == (DISTRICT in names):
            problems.append("declare either a fixed district or a district column (one only)")
        districts = self.districts()
        if not districts:
            problems.append(f"council {self.council!r} is not an OSCP area")
        if self.district is not None and self.district not in districts:
            problems.append(f"district {self.district!r} is not in {self.council}")
        if bool(self.services) != (SERVICE in names):
            problems.append("a service map is declared for, and only for, a service column")
        for label, (service, category) in self.categories.items():
            if category not in CANONICAL_CATEGORIES.get(service, ()):
                problems.append(f"category {label!r} maps to unknown ({service!r}, {category!r})")
        problems += [
            f"service {label!r} maps to unknown {service!r}"
            for label, service in self.services.items()
            if service not in CANONICAL_CATEGORIES
        ]
        return problems


CHERWELL = CouncilLayout(
    layout_id="cherwell_csv",
    title="Cherwell",
    council="Cherwell",
    file_glob="*.csv",
    file_type="csv",
    columns=(
        Column(REFERENCE, "Reference", "Cherwell case reference"),
        Column(DATE_RECEIVED, "Date Received", "Date the complaint was received", ("Received",)),
        Column(SERVICE, "Service", "Noise or Waste"),
        Column(CATEGORY, "Complaint Category", "Cherwell's complaint category"),
        Column(WARD, "Ward", "Ward of the complaint", required=False),
    ),
    date_formats=("%Y-%m-%d",),
    district="Cherwell",
    services={"Noise": NOISE, "Waste": WASTE},
    categories={
        "Music": (NOISE, "music"),
        "Dog Barking": (NOISE, "barking_dog"),
        "Voices / Parties": (NOISE, "voices_party"),
        "Intruder Alarm": (NOISE, "alarm"),
        "DIY": (NOISE, "diy_banging"),
        "Other Noise": (NOISE, "other_noise"),
        "Accumulation of Rubbish": (WASTE, "accumulation"),
        "Bins on Street": (WASTE, "bins_on_street"),
        "Side Waste": (WASTE, "side_waste"),
        "Other Waste": (WASTE, "other_waste"),
    },
)

OXFORD = CouncilLayout(
    layout_id="oxford_xlsx",
    title="Oxford",
    council="Oxford",
    file_glob="*.xlsx",
    file_type="xlsx",
    sheet="Complaints",
    encodings=("xlsx",),
    columns=(
        Column(REFERENCE, "Case Ref", "Oxford case reference", ("Case Reference",)),
        Column(DATE_RECEIVED, "Date Received", "Date cell, or text day/month/year"),
        Column(SERVICE, "Type", "Noise or Waste"),
        Column(CATEGORY, "Category", "Oxford's complaint category"),
        Column(WARD, "Ward", "Ward of the complaint", required=False),
        Column(
            DETAILS,
            "Details",
            "Officer's free-text notes; may name people or addresses",
            required=False,
            personal=True,
        ),
    ),
    # Date cells arrive as dates (read as ISO text); typed-in dates are day/month/year.
    date_formats=("%d/%m/%Y", "%Y-%m-%d"),
    district="Oxford",
    services={"Noise": NOISE, "Waste": WASTE},
    categories={
        "Loud music": (NOISE, "music"),
        "Barking dog": (NOISE, "barking_dog"),
        "Party": (NOISE, "voices_party"),
        "Shouting / voices": (NOISE, "voices_party"),
        "Alarm": (NOISE, "alarm"),
        "DIY / banging": (NOISE, "diy_banging"),
        "Other noise": (NOISE, "other_noise"),
        "Rubbish accumulation": (WASTE, "accumulation"),
        "Bins left out": (WASTE, "bins_on_street"),
        "Side waste": (WASTE, "side_waste"),
        "Other waste": (WASTE, "other_waste"),
    },
)

SOUTH_AND_VALE = CouncilLayout(
    layout_id="south_and_vale_csv",
    title="South and Vale",
    council="South and Vale",
    file_glob="*.csv",
    file_type="csv",
    columns=(
        Column(REFERENCE, "Case Ref", "Joint case reference"),
        Column(DISTRICT, "District", "South Oxfordshire or Vale of White Horse"),
        Column(DATE_RECEIVED, "Date Received", "Date and time the complaint was logged"),
        Column(SERVICE, "Service", "Noise or Waste"),
        Column(CATEGORY, "Complaint Type", "The joint service's complaint type"),
        Column(WARD, "Parish", "Parish of the complaint", required=False),
    ),
    date_formats=("%d/%m/%Y %H:%M", "%d/%m/%Y"),
    services={"Noise": NOISE, "Noise Nuisance": NOISE, "Waste": WASTE},
    categories={
        "Amplified music": (NOISE, "music"),
        "Dog barking": (NOISE, "barking_dog"),
        "Domestic party": (NOISE, "voices_party"),
        "Alarm (house/car)": (NOISE, "alarm"),
        "Construction/DIY": (NOISE, "diy_banging"),
        "Noise - other": (NOISE, "other_noise"),
        "Waste accumulation": (WASTE, "accumulation"),
        "Bins on highway": (WASTE, "bins_on_street"),
        "Excess side waste": (WASTE, "side_waste"),
        "Waste - other": (WASTE, "other_waste"),
    },
)

WEST_OXFORDSHIRE = CouncilLayout(
    layout_id="west_oxfordshire_csv",
    title="West Oxfordshire",
    council="West Oxfordshire",
    file_glob="*.csv",
    file_type="csv",
    # Exported from Excel on Windows; a file with no accented letter or dash reads as UTF-8.
    encodings=("cp1252", "utf-8"),
    columns=(
        Column(REFERENCE, "Complaint ID", "West Oxfordshire complaint number"),
        Column(DATE_RECEIVED, "Date Logged", "Date the complaint was logged"),
        Column(SERVICE, "Service", "Noise or Waste"),
        Column(CATEGORY, "Complaint Type", "West Oxfordshire's complaint type (with en dashes)"),
        Column(WARD, "Ward", "Ward of the complaint", required=False),
    ),
    date_formats=("%d/%m/%Y",),
    district="West Oxfordshire",
    services={"Noise": NOISE, "Waste": WASTE},
    categories={
        "Noise \u2013 music": (NOISE, "music"),
        "Noise \u2013 dog": (NOISE, "barking_dog"),
        "Noise \u2013 party/voices": (NOISE, "voices_party"),
        "Noise \u2013 alarm": (NOISE, "alarm"),
        "Noise \u2013 DIY": (NOISE, "diy_banging"),
        "Noise \u2013 other": (NOISE, "other_noise"),
        "Waste \u2013 accumulation": (WASTE, "accumulation"),
        "Waste \u2013 bins on street": (WASTE, "bins_on_street"),
        "Waste \u2013 side waste": (WASTE, "side_waste"),
        "Waste \u2013 other": (WASTE, "other_waste"),
    },
    totals_line=TotalsLine(label=r"^total\b", example="Total,,,,57"),
)

LAYOUTS: tuple[CouncilLayout, ...] = (CHERWELL, OXFORD, SOUTH_AND_VALE, WEST_OXFORDSHIRE)
