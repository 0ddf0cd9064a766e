"""SYNTHETIC data.police.uk street files for all 43 forces of England and Wales, at national scale.

The benchmark of national ingestion needs the volume of the real archive (about half a million
rows a month, six million a year) in its exact published layout: one CSV per force per month,
``YYYY-MM/YYYY-MM-<force>-street.csv``, UTF-8 without BOM, CRLF line ends, the published header,
quotes only where a value needs them (none does). Every record is invented; what is real is the
shape: the 43 territorial forces with their data.police.uk slugs and names, volumes in proportion
to each force's recorded crime, LSOA names made of real local authority district names plus
ONS-style codes (``Cherwell 001A``), the May 2013 crime type scheme with the older one before it,
about a third anti-social behaviour with blank Crime ID and outcome, about 6% ``No Location`` rows
with blank LSOA and coordinates, a few repeated crime rows, and about 1% of rows snapped into a
neighbouring force's LSOA.

Districts come from the ONS "Local Authority District to Community Safety Partnerships to Police
Force Areas" lookup (the file ``$OSCP_AREA_LOOKUP`` names, as for the pipeline's national scope,
else the January 2017 edition beside the project; 348 districts), read in place and never copied.
Without it each force falls back to the few districts written below, so every force still has
real district names, though fewer of them; the benchmark's results say which was used.

Generation is vectorised (numpy draws, Arrow columns, Arrow's CSV writer): a year takes well under
a minute. Each force-month has its own random stream from (seed, month, force), so the same seed
gives byte-identical files whatever range of months or set of forces is asked for. Run::

    python -m oscp_pipeline.synthetic.national --out bench/data/national --months 12
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from oscp_pipeline.synthetic.geography import LANDMARKS, STREET_NAMES

# Bump when the bytes written for a given seed change, so cached benchmark data is regenerated.
GENERATOR_VERSION = 1
DEFAULT_SEED = 20130401
DEFAULT_START = "2013-04"
ROWS_PER_MONTH = 500_000
# The ONS LAD -> CSP -> PFA lookup: OSCP_AREA_LOOKUP names it (as for the national scope), else
# the copy kept beside the project, read in place.
LOOKUP_VARIABLE = "OSCP_AREA_LOOKUP"
SHARED_LOOKUP = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "real"
    / "LAD17_CSP17_PFA17_lookup_Jan2017.csv"
)
LSOAS_IN_ENGLAND_AND_WALES = 34_753


@dataclass(frozen=True)
class Force:
    """A territorial police force as data.police.uk publishes it.

    ``weight`` is its recorded crime in 2013-14 in thousands (rounded), which sets its share of
    the rows; ``longitude``/``latitude`` is roughly the middle of its area and ``spread`` how far
    its districts lie from it, in degrees.
    """

    slug: str
    name: str
    pfa_code: str
    weight: float
    longitude: float
    latitude: float
    spread: float
    fallback_districts: tuple[str, ...]


# slug | name in "Reported by" | PFA code | recorded crime 2013-14, thousands | longitude |
# latitude | spread
FORCE_TABLE = """
avon-and-somerset|Avon and Somerset Constabulary|E23000036|86|-2.75|51.25|0.25
bedfordshire|Bedfordshire Police|E23000026|33|-0.45|52.05|0.12
cambridgeshire|Cambridgeshire Constabulary|E23000023|44|0.05|52.4|0.2
cheshire|Cheshire Constabulary|E23000006|47|-2.55|53.2|0.15
city-of-london|City of London Police|E23000034|5|-0.092|51.515|0.004
cleveland|Cleveland Police|E23000013|37|-1.2|54.57|0.06
cumbria|Cumbria Constabulary|E23000002|20|-2.9|54.55|0.3
derbyshire|Derbyshire Constabulary|E23000018|50|-1.6|53.05|0.2
devon-and-cornwall|Devon & Cornwall Police|E23000035|69|-4.3|50.55|0.45
dorset|Dorset Police|E23000039|32|-2.25|50.75|0.18
durham|Durham Constabulary|E23000008|31|-1.75|54.7|0.15
dyfed-powys|Dyfed-Powys Police|W15000004|17|-3.9|52.1|0.4
essex|Essex Police|E23000028|92|0.55|51.8|0.2
gloucestershire|Gloucestershire Constabulary|E23000037|29|-2.2|51.85|0.18
greater-manchester|Greater Manchester Police|E23000005|178|-2.25|53.5|0.12
gwent|Gwent Police|W15000002|34|-3.0|51.7|0.12
hampshire|Hampshire Constabulary|E23000030|107|-1.25|51.0|0.25
hertfordshire|Hertfordshire Constabulary|E23000027|51|-0.25|51.8|0.15
humberside|Humberside Police|E23000012|58|-0.5|53.75|0.25
kent|Kent Police|E23000032|94|0.75|51.2|0.25
lancashire|Lancashire Constabulary|E23000003|85|-2.6|53.85|0.2
leicestershire|Leicestershire Police|E23000021|56|-1.15|52.65|0.15
lincolnshire|Lincolnshire Police|E23000020|37|-0.25|53.1|0.3
merseyside|Merseyside Police|E23000004|90|-2.95|53.42|0.1
metropolitan|Metropolitan Police Service|E23000001|710|-0.12|51.5|0.12
norfolk|Norfolk Constabulary|E23000024|42|1.0|52.65|0.25
north-wales|North Wales Police|W15000001|34|-3.6|53.1|0.25
north-yorkshire|North Yorkshire Police|E23000009|34|-1.5|54.1|0.3
northamptonshire|Northamptonshire Police|E23000022|39|-0.9|52.3|0.15
northumbria|Northumbria Police|E23000007|83|-1.8|55.1|0.25
nottinghamshire|Nottinghamshire Police|E23000019|72|-1.05|53.1|0.15
south-wales|South Wales Police|W15000003|82|-3.45|51.6|0.2
south-yorkshire|South Yorkshire Police|E23000011|92|-1.35|53.5|0.12
staffordshire|Staffordshire Police|E23000015|55|-2.05|52.85|0.18
suffolk|Suffolk Constabulary|E23000025|34|1.05|52.2|0.2
surrey|Surrey Police|E23000031|42|-0.4|51.25|0.12
sussex|Sussex Police|E23000033|86|-0.3|50.95|0.25
thames-valley|Thames Valley Police|E23000029|143|-1.0|51.7|0.3
warwickshire|Warwickshire Police|E23000017|27|-1.55|52.3|0.15
west-mercia|West Mercia Police|E23000016|63|-2.6|52.4|0.3
west-midlands|West Midlands Police|E23000014|159|-1.9|52.48|0.12
west-yorkshire|West Yorkshire Police|E23000010|162|-1.6|53.75|0.15
wiltshire|Wiltshire Police|E23000038|29|-1.9|51.3|0.2
"""
# A few real districts of each force, spelt as LSOA names spell them, for when the ONS
# lookup is not at hand.
FALLBACK_DISTRICTS = """
avon-and-somerset|Bristol;Bath and North East Somerset;Taunton Deane
bedfordshire|Luton;Bedford;Central Bedfordshire
cambridgeshire|Cambridge;Peterborough;Fenland
cheshire|Cheshire East;Cheshire West and Chester;Warrington
city-of-london|City of London
cleveland|Middlesbrough;Hartlepool;Stockton-on-Tees
cumbria|Carlisle;Barrow-in-Furness;South Lakeland
derbyshire|Derby;Chesterfield;High Peak
devon-and-cornwall|Plymouth;Exeter;Cornwall
dorset|Bournemouth;Poole;Weymouth and Portland
durham|County Durham;Darlington
dyfed-powys|Carmarthenshire;Pembrokeshire;Powys
essex|Southend-on-Sea;Chelmsford;Colchester
gloucestershire|Gloucester;Cheltenham;Stroud
greater-manchester|Manchester;Salford;Stockport
gwent|Newport;Caerphilly;Torfaen
hampshire|Southampton;Portsmouth;Basingstoke and Deane
hertfordshire|St Albans;Watford;Stevenage
humberside|Kingston upon Hull;East Riding of Yorkshire;North Lincolnshire
kent|Medway;Maidstone;Canterbury
lancashire|Blackpool;Preston;Lancaster
leicestershire|Leicester;Charnwood;Rutland
lincolnshire|Lincoln;Boston;South Kesteven
merseyside|Liverpool;Wirral;St. Helens
metropolitan|Westminster;Lambeth;Croydon
norfolk|Norwich;Great Yarmouth;King's Lynn and West Norfolk
north-wales|Wrexham;Conwy;Gwynedd
north-yorkshire|York;Harrogate;Scarborough
northamptonshire|Northampton;Kettering;Corby
northumbria|Newcastle upon Tyne;Sunderland;Northumberland
nottinghamshire|Nottingham;Mansfield;Bassetlaw
south-wales|Cardiff;Swansea;Rhondda Cynon Taf
south-yorkshire|Sheffield;Doncaster;Rotherham
staffordshire|Stoke-on-Trent;Stafford;Tamworth
suffolk|Ipswich;Waveney;St Edmundsbury
surrey|Guildford;Woking;Elmbridge
sussex|Brighton and Hove;Crawley;Eastbourne
thames-valley|Cherwell;Oxford;South Oxfordshire;Vale of White Horse;West Oxfordshire
warwickshire|Warwick;Rugby;Nuneaton and Bedworth
west-mercia|Worcester;Shropshire;Herefordshire
west-midlands|Birmingham;Coventry;Wolverhampton
west-yorkshire|Leeds;Bradford;Wakefield
wiltshire|Swindon;Wiltshire
"""


def _forces() -> tuple[Force, ...]:
    fallback = dict(line.split("|") for line in FALLBACK_DISTRICTS.strip().splitlines())
    forces = []
    for line in FORCE_TABLE.strip().splitlines():
        slug, name, code, weight, longitude, latitude, spread = line.split("|")
        forces.append(
            Force(
                slug,
                name,
                code,
                float(weight),
                float(longitude),
                float(latitude),
                float(spread),
                tuple(fallback[slug].split(";")),
            )
        )
    return tuple(forces)


FORCES = _forces()

ASB = "Anti-social behaviour"
NO_LOCATION = "No Location"
# Shares of all rows (current scheme), near the national mix of 2013-14.
CRIME_TYPE_MIX: dict[str, float] = {
    ASB: 33.0,
    "Violence and sexual offences": 12.5,
    "Other theft": 9.5,
    "Criminal damage and arson": 9.0,
    "Burglary": 7.8,
    "Vehicle crime": 6.5,
    "Shoplifting": 5.8,
    "Drugs": 3.6,
    "Public order": 3.2,
    "Bicycle theft": 1.6,
    "Theft from the person": 1.6,
    "Other crime": 1.5,
    "Robbery": 1.0,
    "Possession of weapons": 0.4,
}
CURRENT_SCHEME_FROM = dt.date(2013, 5, 1)
# Before May 2013: the published types the current ones were folded into, with the share.
OLD_SCHEME: dict[str, tuple[tuple[str, float], ...]] = {
    "Violence and sexual offences": (("Violent crime", 0.93), ("Other crime", 0.07)),
    "Bicycle theft": (("Other theft", 1.0),),
    "Theft from the person": (("Other theft", 1.0),),
    "Public order": (("Public disorder and weapons", 1.0),),
    "Possession of weapons": (("Public disorder and weapons", 1.0),),
}
# Last outcome of a crime, weighted as in the published Oxfordshire files for early 2014.
OUTCOME_MIX: dict[str, float] = {
    "Investigation complete; no suspect identified": 4640,
    "Under investigation": 830,
    "Offender given a caution": 462,
    "Court result unavailable": 236,
    "Local resolution": 232,
    "Offender given penalty notice": 194,
    "Offender given community sentence": 155,
    "Offender given a drugs possession warning": 135,
    "Offender fined": 122,
    "Offender sent to prison": 121,
    "Defendant found not guilty": 108,
    "Awaiting court outcome": 104,
    "Offender given conditional discharge": 82,
    "Suspect charged as part of another case": 72,
    "Court case unable to proceed": 56,
    "Unable to prosecute suspect": 36,
    "Offender given suspended prison sentence": 36,
    "Offender otherwise dealt with": 12,
    "Offender ordered to pay compensation": 8,
    "Formal action is not in the public interest": 6,
}
NO_LOCATION_RATE = 0.06
NEIGHBOUR_RATE = 0.01
IDENTICAL_DUPLICATE_RATE = 0.0015  # of crime rows: the whole row published twice
OUTCOME_DUPLICATE_RATE = 0.0002  # of crime rows: published twice with another outcome
SEASONAL_AMPLITUDE = 0.08  # rows peak in July, bottom out in January
POINTS_PER_LSOA = 8  # anonymised map points: fixed per LSOA, so identical ASB rows occur
POINT_WEIGHTS = 0.7 ** np.arange(POINTS_PER_LSOA)
LOCATIONS = tuple(
    f"On or near {name}" for name in (*STREET_NAMES, *(landmark for landmark, _ in LANDMARKS))
)
# ONS LSOA names use the district's short name: "Bristol 001A", not "Bristol, City of 001A".
NAME_SUFFIXES = (", City of", ", County of")


@dataclass(frozen=True)
class NationalGeography:
    """Synthetic LSOAs of every force, in code order, and where their map points are."""

    source: str  # "ONS lookup <file name>" or "fallback districts"
    district_count: int
    lsoa_force: np.ndarray  # force index of each LSOA
    lsoa_codes: pa.Array
    lsoa_names: pa.Array
    lsoa_weights: np.ndarray
    point_longitudes: pa.Array  # formatted, POINTS_PER_LSOA per LSOA, LSOA-major
    point_latitudes: pa.Array
    point_locations: np.ndarray  # index into LOCATIONS, POINTS_PER_LSOA per LSOA
    neighbour: np.ndarray  # nearest other force, by force index

    def lsoas_of(self, force_index: int) -> np.ndarray:
        return np.flatnonzero(self.lsoa_force == force_index)


def default_lookup() -> Path:
    configured = os.environ.get(LOOKUP_VARIABLE, "").strip()
    return Path(configured) if configured else SHARED_LOOKUP


def districts_by_force(lookup: Path | None) -> tuple[str, dict[str, list[str]]]:
    """District names (as LSOA names spell them) for each force slug, and where they came from.

    Read from the ONS lookup when it exists (any edition: LAD17CD, LAD21CD, ...), in district
    code order; otherwise the fallback.
    """
    if lookup is not None and lookup.is_file():
        slugs = {force.pfa_code: force.slug for force in FORCES}
        found: dict[str, list[tuple[str, str]]] = {force.slug: [] for force in FORCES}
        with lookup.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []

            def column(prefix: str, suffix: str) -> str:
                return next(h for h in header if h.startswith(prefix) and h.endswith(suffix))

            code, name, force = column("LAD", "CD"), column("LAD", "NM"), column("PFA", "CD")
            for row in reader:
                short_name = row[name].strip()
                for suffix in NAME_SUFFIXES:
                    short_name = short_name.removesuffix(suffix)
                if row[force] in slugs:
                    found[slugs[row[force]]].append((row[code], short_name))
        if all(found.values()):
            return f"ONS lookup {lookup.name}", {
                slug: [name for _, name in sorted(rows)] for slug, rows in found.items()
            }
    return "fallback districts", {force.slug: list(force.fallback_districts) for force in FORCES}


def build_geography(seed: int, lookup: Path | None = None) -> NationalGeography:
    """LSOAs for every force, about as many as England and Wales have, split over districts."""
    source, districts = districts_by_force(lookup or default_lookup())
    total_weight = sum(force.weight for force in FORCES)
    codes: list[str] = []
    names: list[str] = []
    owners: list[int] = []
    longitudes: list[np.ndarray] = []
    latitudes: list[np.ndarray] = []
    serial = {"E": 0, "W": 0}
    for force_index, force in enumerate(FORCES):
        rng = np.random.default_rng([seed, 0, force_index])
        force_names = districts[force.slug]
        lsoa_total = round(LSOAS_IN_ENGLAND_AND_WALES * force.weight / total_weight)
        shares = rng.dirichlet(np.full(len(force_names), 4.0))
        counts = np.maximum(3, np.round(shares * lsoa_total).astype(int))
        country = force.pfa_code[0]
        for district, count in zip(force_names, counts.tolist(), strict=True):
            centre = (
                force.longitude + rng.normal(0.0, force.spread * 1.6),
                force.latitude + rng.normal(0.0, force.spread),
            )
            msoa, letter = 1, 0
            size = int(rng.integers(3, 7))
            for _ in range(count):
                serial[country] += 1
                codes.append(f"{country}01{serial[country]:06d}")
                names.append(f"{district} {msoa:03d}{chr(ord('A') + letter)}")
                owners.append(force_index)
                letter += 1
                if letter == size:
                    msoa, letter, size = msoa + 1, 0, int(rng.integers(3, 7))
            spread = max(force.spread / 4, 0.003)
            longitudes.append(centre[0] + rng.normal(0.0, spread * 1.6, count))
            latitudes.append(centre[1] + rng.normal(0.0, spread, count))
    rng = np.random.default_rng([seed, 0, len(FORCES)])
    lsoa_lon = np.repeat(np.concatenate(longitudes), POINTS_PER_LSOA)
    lsoa_lat = np.repeat(np.concatenate(latitudes), POINTS_PER_LSOA)
    point_lon = np.clip(lsoa_lon + rng.normal(0.0, 0.006, lsoa_lon.size), -6.3, 1.75)
    point_lat = np.clip(lsoa_lat + rng.normal(0.0, 0.004, lsoa_lat.size), 49.9, 55.8)
    centres = np.array([(force.longitude, force.latitude) for force in FORCES])
    distances = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
    np.fill_diagonal(distances, np.inf)
    return NationalGeography(
        source=source,
        district_count=sum(len(names) for names in districts.values()),
        lsoa_force=np.array(owners),
        lsoa_codes=pa.array(codes, pa.string()),
        lsoa_names=pa.array(names, pa.string()),
        lsoa_weights=rng.lognormal(0.0, 0.8, len(codes)),
        point_longitudes=pa.array([f"{value:.6f}" for value in point_lon.tolist()], pa.string()),
        point_latitudes=pa.array([f"{value:.6f}" for value in point_lat.tolist()], pa.string()),
        point_locations=rng.integers(0, len(LOCATIONS), lsoa_lon.size),
        neighbour=distances.argmin(axis=1),
    )


def published_mix(month: dt.date) -> dict[str, float]:
    """Row shares by published crime type: the current scheme from May 2013, the old before."""
    if month >= CURRENT_SCHEME_FROM:
        return dict(CRIME_TYPE_MIX)
    mix: dict[str, float] = {}
    for crime_type, share in CRIME_TYPE_MIX.items():
        for published, part in OLD_SCHEME.get(crime_type, ((crime_type, 1.0),)):
            mix[published] = mix.get(published, 0.0) + share * part
    return mix


def _hex_ids(rng: np.random.Generator, is_crime: np.ndarray) -> pa.Array:
    """64-character lowercase hex Crime IDs where ``is_crime``, blank elsewhere (ASB)."""
    count = int(is_crime.sum())
    raw = np.frombuffer(rng.bytes(32 * count), np.uint8).reshape(count, 32)
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    text = np.empty((count, 64), np.uint8)
    text[:, 0::2] = digits[raw >> 4]
    text[:, 1::2] = digits[raw & 15]
    offsets = np.concatenate([[0], np.cumsum(is_crime.astype(np.int32) * 64)]).astype(np.int32)
    return pa.StringArray.from_buffers(
        len(is_crime), pa.py_buffer(offsets), pa.py_buffer(text.tobytes())
    )


def _pick(values: Sequence[str], indices: np.ndarray) -> pa.Array:
    """A string column from a small vocabulary and each row's index into it."""
    return pa.array(values, pa.string()).take(pa.array(indices))


def force_month_table(
    geography: NationalGeography,
    force_index: int,
    month: dt.date,
    seed: int,
    rows_per_month: int,
) -> pa.Table:
    """Every row of one force's street file for one month, in published order.

    Located rows come in LSOA code order, ``No Location`` rows last, as data.police.uk
    writes them.
    """
    force = FORCES[force_index]
    rng = np.random.default_rng([seed, month.year * 12 + month.month, force_index])
    seasonal = 1.0 + SEASONAL_AMPLITUDE * np.cos(2.0 * np.pi * (month.month - 7) / 12.0)
    share = force.weight / sum(f.weight for f in FORCES)
    count = int(rng.poisson(rows_per_month * share * seasonal))

    mix = published_mix(month)
    types = list(mix)
    type_weights = np.array(list(mix.values()))
    type_index = rng.choice(len(types), count, p=type_weights / type_weights.sum())
    is_crime = type_index != types.index(ASB)
    no_location = rng.random(count) < NO_LOCATION_RATE
    in_neighbour = ~no_location & (rng.random(count) < NEIGHBOUR_RATE)

    lsoa = np.full(count, -1)
    placements = (
        (force_index, ~no_location & ~in_neighbour),
        (int(geography.neighbour[force_index]), in_neighbour),
    )
    for owner, chosen in placements:
        candidates = geography.lsoas_of(owner)
        weights = geography.lsoa_weights[candidates]
        lsoa[chosen] = rng.choice(candidates, int(chosen.sum()), p=weights / weights.sum())
    point = np.where(
        no_location,
        -1,
        lsoa * POINTS_PER_LSOA
        + rng.choice(POINTS_PER_LSOA, count, p=POINT_WEIGHTS / POINT_WEIGHTS.sum()),
    )
    outcomes = list(OUTCOME_MIX)
    outcome_weights = np.array(list(OUTCOME_MIX.values()))
    outcome = rng.choice(len(outcomes), count, p=outcome_weights / outcome_weights.sum())

    # Repeated crimes: a few rows published twice, a few of them with another outcome.
    crime_rows = np.flatnonzero(is_crime)
    identical = crime_rows[rng.random(crime_rows.size) < IDENTICAL_DUPLICATE_RATE]
    changed = crime_rows[rng.random(crime_rows.size) < OUTCOME_DUPLICATE_RATE]
    ids = _hex_ids(rng, is_crime)
    repeated = np.concatenate([np.arange(count), identical, changed])
    new_outcome = np.concatenate(
        [outcome, outcome[identical], (outcome[changed] + 1) % len(outcomes)]
    )
    # Sort keys, last first: No Location rows after located ones, then LSOA, then at random.
    order = np.lexsort((rng.random(repeated.size), lsoa[repeated], no_location[repeated]))
    rows = repeated[order]
    located = ~no_location[rows]
    lsoa_rows = np.where(located, lsoa[rows], 0)
    point_rows = np.where(located, point[rows], 0)
    crime = is_crime[rows]

    def blank_unless(mask: np.ndarray, values: pa.Array) -> pa.Array:
        return pc.if_else(pa.array(mask), values, "")

    size = rows.size
    return pa.table(
        {
            "Crime ID": ids.take(pa.array(rows)),
            "Month": pa.repeat(month.strftime("%Y-%m"), size),
            "Reported by": pa.repeat(force.name, size),
            "Falls within": pa.repeat(force.name, size),
            "Longitude": blank_unless(located, geography.point_longitudes.take(point_rows)),
            "Latitude": blank_unless(located, geography.point_latitudes.take(point_rows)),
            "Location": _pick(
                (*LOCATIONS, NO_LOCATION),
                np.where(located, geography.point_locations[point_rows], len(LOCATIONS)),
            ),
            "LSOA code": blank_unless(located, geography.lsoa_codes.take(lsoa_rows)),
            "LSOA name": blank_unless(located, geography.lsoa_names.take(lsoa_rows)),
            "Crime type": _pick(types, type_index[rows]),
            "Last outcome category": _pick(
                (*outcomes, ""), np.where(crime, new_outcome[order], len(outcomes))
            ),
            "Context": pa.repeat("", size),
        }
    )


WRITE_OPTIONS = pa_csv.WriteOptions(
    quoting_style="none", quoting_header="none", eol="\r\n", batch_size=65_536
)


@dataclass(frozen=True)
class MonthSummary:
    """What was written for one month."""

    month: str
    files: int
    rows: int
    bytes: int


def write_month(
    out_dir: Path,
    geography: NationalGeography,
    month: dt.date,
    seed: int,
    rows_per_month: int = ROWS_PER_MONTH,
    forces: Sequence[str] | None = None,
) -> MonthSummary:
    """Write one month folder whole: built beside the target and renamed into place, so a
    folder that exists is complete (the benchmark's cache relies on it)."""
    label = month.strftime("%Y-%m")
    target = out_dir / label
    scratch = out_dir / f".{label}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    rows = 0
    files = 0
    for force_index, force in enumerate(FORCES):
        if forces is not None and force.slug not in forces:
            continue
        table = force_month_table(geography, force_index, month, seed, rows_per_month)
        # quoting_style="none" refuses any value that would need quotes: none does, as published.
        pa_csv.write_csv(table, scratch / f"{label}-{force.slug}-street.csv", WRITE_OPTIONS)
        rows += table.num_rows
        files += 1
    size = sum(path.stat().st_size for path in scratch.iterdir())
    shutil.rmtree(target, ignore_errors=True)
    os.replace(scratch, target)
    return MonthSummary(label, files, rows, size)


def month_range(start: str, months: int) -> list[dt.date]:
    first = dt.date.fromisoformat(f"{start}-01")
    return [
        dt.date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
        for i in range(months)
    ]


def generate(
    out_dir: Path,
    months: int,
    start: str = DEFAULT_START,
    seed: int = DEFAULT_SEED,
    rows_per_month: int = ROWS_PER_MONTH,
    forces: Sequence[str] | None = None,
    lookup: Path | None = None,
    keep_existing: bool = False,
) -> list[MonthSummary]:
    """Write ``months`` month folders from ``start`` under ``out_dir`` (the archive layout).

    With ``keep_existing``, month folders already present are left as they are: a cache of
    earlier output of the same seed and settings.
    """
    unknown = set(forces or ()) - {force.slug for force in FORCES}
    if unknown:
        raise ValueError(f"unknown force slug(s): {sorted(unknown)}")
    geography = build_geography(seed, lookup)
    summaries = []
    for month in month_range(start, months):
        if keep_existing and (out_dir / month.strftime("%Y-%m")).is_dir():
            continue
        summaries.append(write_month(out_dir, geography, month, seed, rows_per_month, forces))
    return summaries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m oscp_pipeline.synthetic.national",
        description="Write SYNTHETIC national-scale data.police.uk street files (no real data).",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the YYYY-MM folders")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--start", default=DEFAULT_START, help="first month, YYYY-MM")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--rows-per-month", type=int, default=ROWS_PER_MONTH)
    parser.add_argument("--forces", nargs="*", help="force slugs (default: all 43)")
    parser.add_argument(
        "--lookup",
        type=Path,
        default=None,
        help=f"ONS LAD lookup CSV (default: ${LOOKUP_VARIABLE})",
    )
    args = parser.parse_args(argv)
    source, districts = districts_by_force(args.lookup or default_lookup())
    print(f"{sum(len(names) for names in districts.values())} districts ({source})")
    for summary in generate(
        args.out, args.months, args.start, args.seed, args.rows_per_month, args.forces, args.lookup
    ):
        print(f"{summary.month}: {summary.files} files, {summary.rows:,} rows, {summary.bytes:,} B")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
