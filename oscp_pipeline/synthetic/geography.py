"""Synthetic small-area geography for Oxfordshire and the districts on its border.

The district names and GSS codes are real; everything below district level is made up. Each
district gets a set of SYNTHETIC LSOAs named as the ONS names them (``Cherwell 001A``: district
name, a three-digit MSOA number and a letter) with invented ``E01`` codes, a fixed centroid near
the district and a handful of fixed anonymised map points ("On or near High Street"). Map points
are fixed per LSOA because data.police.uk snaps every record to a fixed point, which is what makes
identical anti-social behaviour rows occur. The same seed always gives the same geography.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Degrees of longitude are shorter than degrees of latitude at 52N; scale jitter to look round.
_LONGITUDE_STRETCH = 1.6


@dataclass(frozen=True)
class District:
    """A local authority district with the parameters used to place synthetic LSOAs in it."""

    name: str
    code: str
    lsoa_count: int
    longitude: float
    latitude: float
    spread: float  # standard deviation of MSOA centroids around the district centroid, degrees
    code_block: int  # first number of the block the made-up LSOA codes are drawn from
    share: float = 0.0  # share of Oxfordshire street-level rows; zero for border districts


@dataclass(frozen=True)
class MapPoint:
    """An anonymised map point: the published location text and its fixed coordinates."""

    location: str
    longitude: float
    latitude: float
    weight: float


@dataclass(frozen=True)
class Lsoa:
    """A synthetic Lower Layer Super Output Area."""

    code: str
    name: str
    district: District
    longitude: float
    latitude: float
    weight: float  # relative amount of recorded crime and ASB, so that hot spots exist
    points: tuple[MapPoint, ...]


@dataclass(frozen=True)
class Geography:
    """The Oxfordshire LSOAs and a few LSOAs in neighbouring districts, for border rows."""

    oxfordshire: tuple[Lsoa, ...]
    border: tuple[Lsoa, ...]

    def lsoas_in(self, district: District) -> tuple[Lsoa, ...]:
        """The Oxfordshire LSOAs of one district, in code order."""
        return tuple(lsoa for lsoa in self.oxfordshire if lsoa.district == district)


CODE_BLOCK_SIZE = 300

OXFORDSHIRE_DISTRICTS: tuple[District, ...] = (
    District("Cherwell", "E07000177", 85, -1.30, 52.03, 0.080, 28400, 0.21),
    District("Oxford", "E07000178", 85, -1.25, 51.75, 0.018, 28700, 0.41),
    District("South Oxfordshire", "E07000179", 85, -1.05, 51.65, 0.085, 29000, 0.14),
    District("Vale of White Horse", "E07000180", 78, -1.45, 51.62, 0.075, 29300, 0.13),
    District("West Oxfordshire", "E07000181", 65, -1.52, 51.80, 0.075, 29600, 0.11),
)

# Neighbouring districts whose LSOAs turn up in Thames Valley street files near the county edge.
BORDER_DISTRICTS: tuple[District, ...] = (
    District("Aylesbury Vale", "E07000004", 6, -0.85, 51.85, 0.05, 17600),
    District("Cotswold", "E07000079", 3, -1.72, 51.78, 0.04, 22200),
    District("Reading", "E06000038", 3, -0.98, 51.47, 0.01, 16700),
    District("South Northamptonshire", "E07000155", 4, -1.15, 52.10, 0.04, 27600),
    District("Swindon", "E06000030", 3, -1.70, 51.60, 0.02, 15400),
    District("West Berkshire", "E06000037", 5, -1.25, 51.45, 0.05, 16300),
    District("Wycombe", "E07000007", 5, -0.85, 51.65, 0.04, 17900),
)

STREET_NAMES: tuple[str, ...] = (
    "High Street",
    "Station Road",
    "Main Street",
    "Park Road",
    "Church Road",
    "Church Street",
    "London Road",
    "Victoria Road",
    "Green Lane",
    "Manor Road",
    "Church Lane",
    "Park Avenue",
    "The Avenue",
    "The Crescent",
    "Queens Road",
    "New Road",
    "Grange Road",
    "Kings Road",
    "Kingsway",
    "Windsor Road",
    "Highfield Road",
    "Mill Lane",
    "Alexander Road",
    "York Road",
    "St. John's Road",
    "Main Road",
    "Broadway",
    "King Street",
    "The Green",
    "Springfield Road",
    "George Street",
    "Park Lane",
    "Victoria Street",
    "Albert Road",
    "Queensway",
    "New Street",
    "Queen Street",
    "West Street",
    "North Street",
    "Manchester Road",
    "The Drive",
    "Richmond Road",
    "Grove Road",
    "South Street",
    "School Lane",
    "The Grove",
    "North Road",
    "Stanley Road",
    "Chester Road",
    "Mill Road",
    "Market Place",
    "Banbury Road",
    "Woodstock Road",
    "Abingdon Road",
    "Cowley Road",
    "Iffley Road",
    "Witney Road",
    "Oxford Road",
    "Bridge Street",
    "Red Lion Street",
    "The Holt",
    "Sheep Street",
    "Orchard Close",
    "Meadow Way",
)

# Landmark map points and how often an LSOA has one.
LANDMARKS: tuple[tuple[str, float], ...] = (
    ("Supermarket", 0.35),
    ("Parking Area", 0.55),
    ("Petrol Station", 0.20),
    ("Shopping Area", 0.15),
    ("Sports/Recreation Area", 0.25),
    ("Further/Higher Educational Building", 0.06),
    ("Nightclub", 0.04),
)


def _lsoa_names(district: District, count: int, rng: np.random.Generator) -> list[str]:
    """``count`` LSOA names in ONS style: MSOAs numbered 001.. with 3 to 6 lettered LSOAs each."""
    names: list[str] = []
    msoa = 0
    while len(names) < count:
        msoa += 1
        size = min(int(rng.integers(3, 7)), count - len(names))
        names.extend(f"{district.name} {msoa:03d}{chr(ord('A') + i)}" for i in range(size))
    return names


def _sparse_lsoa_names(district: District, count: int, rng: np.random.Generator) -> list[str]:
    """A few names scattered over a district, as seen at its edge (``Wycombe 010B``)."""
    msoas = sorted(rng.choice(np.arange(1, 31), size=count, replace=False).tolist())
    return [f"{district.name} {m:03d}{chr(ord('A') + int(rng.integers(0, 5)))}" for m in msoas]


def _map_points(lon: float, lat: float, rng: np.random.Generator) -> tuple[MapPoint, ...]:
    """Fixed anonymised map points for one LSOA: a few streets plus any landmarks."""
    street_count = int(rng.integers(4, 10))
    streets = rng.choice(len(STREET_NAMES), size=street_count, replace=False)
    labels = [STREET_NAMES[int(i)] for i in streets]
    labels += [name for name, chance in LANDMARKS if rng.random() < chance]
    weights = rng.dirichlet(np.full(len(labels), 0.9))
    points = []
    for label, weight in zip(labels, weights, strict=True):
        point_lon = lon + rng.normal(0.0, 0.004 * _LONGITUDE_STRETCH)
        point_lat = lat + rng.normal(0.0, 0.004)
        points.append(
            MapPoint(f"On or near {label}", round(point_lon, 6), round(point_lat, 6), weight)
        )
    return tuple(points)


def _build_district(
    district: District, names: list[str], spread: float, rng: np.random.Generator
) -> list[Lsoa]:
    """Place the named LSOAs of one district around MSOA centres near the district centroid."""
    numbers = rng.choice(CODE_BLOCK_SIZE, size=len(names), replace=False) + district.code_block
    msoa_centres: dict[str, tuple[float, float]] = {}
    lsoas = []
    for name, number in zip(names, numbers.tolist(), strict=True):
        msoa = name[:-1]
        if msoa not in msoa_centres:
            msoa_centres[msoa] = (
                district.longitude + rng.normal(0.0, spread * _LONGITUDE_STRETCH),
                district.latitude + rng.normal(0.0, spread),
            )
        centre_lon, centre_lat = msoa_centres[msoa]
        lon = centre_lon + rng.normal(0.0, 0.008 * _LONGITUDE_STRETCH)
        lat = centre_lat + rng.normal(0.0, 0.008)
        weight = float(rng.lognormal(0.0, 0.7))
        lsoas.append(
            Lsoa(
                f"E01{number:06d}",
                name,
                district,
                round(lon, 6),
                round(lat, 6),
                weight,
                _map_points(lon, lat, rng),
            )
        )
    return sorted(lsoas, key=lambda lsoa: lsoa.code)


def build_geography(seed: int) -> Geography:
    """The synthetic geography for a seed: about 400 Oxfordshire LSOAs and a few border ones."""
    rng = np.random.default_rng([seed, 0])
    oxfordshire: list[Lsoa] = []
    for district in OXFORDSHIRE_DISTRICTS:
        names = _lsoa_names(district, district.lsoa_count, rng)
        oxfordshire.extend(_build_district(district, names, district.spread, rng))
    border: list[Lsoa] = []
    for district in BORDER_DISTRICTS:
        names = _sparse_lsoa_names(district, district.lsoa_count, rng)
        border.extend(_build_district(district, names, district.spread, rng))
    codes = [lsoa.code for lsoa in (*oxfordshire, *border)]
    if len(set(codes)) != len(codes):
        raise ValueError("synthetic LSOA code blocks overlap: codes must be unique")
    return Geography(tuple(sorted(oxfordshire, key=lambda x: x.code)), tuple(border))
