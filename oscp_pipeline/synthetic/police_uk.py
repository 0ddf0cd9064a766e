"""SYNTHETIC data.police.uk street-level crime files, Thames Valley, April 2011 to March 2015.

One CSV per month, ``police_uk/YYYY-MM/YYYY-MM-thames-valley-street.csv``, byte for byte in the
published layout (UTF-8 without BOM, CRLF, the published header). Only the Oxfordshire part of
the force is simulated, plus the quirks a loader must survive: ``No Location`` rows, rows in
LSOAs just over the county border, repeated Crime IDs, identical anti-social behaviour rows and
the change of crime type scheme in May 2013. Every record is invented.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from oscp_pipeline.synthetic.geography import OXFORDSHIRE_DISTRICTS, Geography, Lsoa

FORCE = "Thames Valley Police"
FORCE_SLUG = "thames-valley"
HEADER = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
FIRST_MONTH = (2011, 4)
MONTH_COUNT = 48  # April 2011 to March 2015
SCHEME_CHANGE_INDEX = 25  # 2013-05, the first month of the current crime type scheme
REFERENCE_INDEX = 34  # 2014-02, the month the base levels below describe
ASB = "Anti-social behaviour"
NO_LOCATION = "No Location"

OLD_SCHEME: tuple[str, ...] = (
    ASB,
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Public disorder and weapons",
    "Robbery",
    "Shoplifting",
    "Vehicle crime",
    "Violent crime",
)
NEW_SCHEME: tuple[str, ...] = (
    ASB,
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)

# County-wide monthly level at 2014-02 with seasonality removed, so that January to March 2014
# come out near the published Oxfordshire counts. Values: (level, seasonal amplitude, yearly
# trend). Amplitude a gives a peak/trough ratio of (1 + a) / (1 - a), peaking in July.
TYPE_MODEL: dict[str, tuple[float, float, float]] = {
    ASB: (790.0, 0.23, 0.0),  # ASB has its own level by financial year, see _asb_level
    "Bicycle theft": (205.0, 0.25, 0.02),
    "Burglary": (220.0, -0.06, -0.05),
    "Criminal damage and arson": (365.0, 0.07, -0.04),
    "Drugs": (178.0, 0.05, 0.0),
    "Other crime": (25.0, 0.0, 0.02),
    "Other theft": (540.0, 0.06, 0.0),
    "Possession of weapons": (13.5, 0.05, 0.02),
    "Public order": (128.0, 0.08, 0.25),
    "Robbery": (17.3, -0.05, -0.02),
    "Shoplifting": (265.0, 0.0, 0.04),
    "Theft from the person": (66.0, 0.0, 0.0),
    "Vehicle crime": (222.0, 0.04, 0.13),
    "Violence and sexual offences": (427.0, 0.08, -0.06),
}
# Recorded crime falls a little each year; vehicle crime and public order rise against it, as
# the partnership reported for 2013-14.
CRIME_TREND = -0.03
TREND_END_INDEX = 37  # 2014-05: recorded crime levels off after spring 2014
# Deseasonalised monthly ASB at the middle of each financial year from 2011-12: down in 2012-13,
# up again in 2013-14 (one of the priorities that rose that year).
ASB_BY_YEAR = (900.0, 740.0, 840.0, 850.0)

# Sexual offences were in "Other crime" until April 2013 and then joined violence.
SEXUAL_OFFENCE_SHARE = 0.07

# Oxford has most of the county's bicycle thefts and pickpocketing: tilt its share for these.
OXFORD_TILT = {"Bicycle theft": 1.5, "Theft from the person": 1.35}

NO_LOCATION_RATE = 0.06
BORDER_RATE = 0.01
DUPLICATE_RATE = 0.002
DUPLICATE_DIFFERENT_OUTCOME = 0.25

# Finalised outcomes and their relative weights, by crime family.
_NO_SUSPECT = "Investigation complete; no suspect identified"
_UNABLE = "Unable to prosecute suspect"
_CAUTION = "Offender given a caution"
_LOCAL = "Local resolution"
_COURT_UNAVAILABLE = "Court result unavailable"
_PRISON = "Offender sent to prison"
_FINED = "Offender fined"
_PUBLIC_INTEREST = "Formal action is not in the public interest"
_COMMUNITY = "Offender given community sentence"
_SUSPENDED = "Offender given suspended prison sentence"
_DISCHARGE = "Offender given conditional discharge"
_NOT_GUILTY = "Defendant found not guilty"
_PENALTY = "Offender given penalty notice"
_DRUGS_WARNING = "Offender given a drugs possession warning"
UNDER_INVESTIGATION = "Under investigation"
AWAITING_COURT = "Awaiting court outcome"

_PROPERTY_OUTCOMES = {
    _NO_SUSPECT: 70,
    _UNABLE: 12,
    _CAUTION: 3,
    _LOCAL: 3,
    _COURT_UNAVAILABLE: 3,
    _PRISON: 2,
    _FINED: 1,
    _PUBLIC_INTEREST: 1,
    _COMMUNITY: 2,
    _SUSPENDED: 1,
    _DISCHARGE: 1,
    _NOT_GUILTY: 1,
}
OUTCOME_WEIGHTS: dict[str, dict[str, float]] = {
    "property": _PROPERTY_OUTCOMES,
    "Shoplifting": {
        _NO_SUSPECT: 25,
        _UNABLE: 10,
        _CAUTION: 15,
        _FINED: 10,
        _PENALTY: 10,
        _LOCAL: 8,
        _COMMUNITY: 5,
        _COURT_UNAVAILABLE: 7,
        _PRISON: 3,
        _DISCHARGE: 5,
        _PUBLIC_INTEREST: 2,
    },
    "Drugs": {
        _CAUTION: 30,
        _DRUGS_WARNING: 25,
        _FINED: 8,
        _PENALTY: 8,
        _UNABLE: 8,
        _COMMUNITY: 4,
        _PRISON: 3,
        _COURT_UNAVAILABLE: 5,
        _NO_SUSPECT: 5,
        _PUBLIC_INTEREST: 4,
    },
    "violence": {
        _UNABLE: 40,
        _NO_SUSPECT: 15,
        _CAUTION: 8,
        _LOCAL: 8,
        _COURT_UNAVAILABLE: 6,
        _PRISON: 4,
        _COMMUNITY: 4,
        _SUSPENDED: 3,
        _NOT_GUILTY: 3,
        _FINED: 1,
        _PUBLIC_INTEREST: 3,
    },
    "order": {
        _UNABLE: 25,
        _NO_SUSPECT: 15,
        _CAUTION: 12,
        _PENALTY: 10,
        _FINED: 8,
        _LOCAL: 6,
        _PRISON: 4,
        _COMMUNITY: 4,
        _COURT_UNAVAILABLE: 6,
        _DISCHARGE: 3,
        _PUBLIC_INTEREST: 2,
    },
    "Robbery": {
        _NO_SUSPECT: 40,
        _UNABLE: 25,
        _PRISON: 12,
        _COURT_UNAVAILABLE: 8,
        _COMMUNITY: 3,
        _SUSPENDED: 3,
        _NOT_GUILTY: 3,
        _CAUTION: 2,
    },
    "Other crime": {
        _UNABLE: 30,
        _NO_SUSPECT: 25,
        _CAUTION: 10,
        _COURT_UNAVAILABLE: 10,
        _PRISON: 6,
        _FINED: 5,
        _COMMUNITY: 4,
        _SUSPENDED: 3,
        _PUBLIC_INTEREST: 4,
        _NOT_GUILTY: 3,
    },
}
_OUTCOME_FAMILY = {
    "Shoplifting": "Shoplifting",
    "Drugs": "Drugs",
    "Robbery": "Robbery",
    "Other crime": "Other crime",
    "Violent crime": "violence",
    "Violence and sexual offences": "violence",
    "Public disorder and weapons": "order",
    "Public order": "order",
    "Possession of weapons": "order",
}
ALL_OUTCOMES: tuple[str, ...] = (
    *sorted({o for weights in OUTCOME_WEIGHTS.values() for o in weights}),
    UNDER_INVESTIGATION,
    AWAITING_COURT,
)

# Some crimes cluster at landmarks: shoplifting in shops, vehicle crime in car parks.
LANDMARK_PULL: dict[str, dict[str, float]] = {
    "Shoplifting": {"Supermarket": 40.0, "Shopping Area": 30.0, "Petrol Station": 6.0},
    "Vehicle crime": {"Parking Area": 6.0},
    "Bicycle theft": {"Parking Area": 2.0, "Further/Higher Educational Building": 4.0},
    ASB: {"Supermarket": 2.0, "Sports/Recreation Area": 2.0, "Nightclub": 3.0},
    "Violent crime": {"Nightclub": 4.0},
    "Violence and sexual offences": {"Nightclub": 4.0},
}


@dataclass(frozen=True)
class FileSummary:
    """What went into one street file, for the run report."""

    path: Path
    rows: int
    crime_rows: int
    asb_rows: int
    no_location_rows: int
    border_rows: int
    duplicate_rows: int
    oxfordshire_rows_by_district: dict[str, int]


def month_label(index: int) -> str:
    """``YYYY-MM`` for a month index counted from April 2011."""
    year, month = divmod(FIRST_MONTH[1] - 1 + index, 12)
    return f"{FIRST_MONTH[0] + year:04d}-{month + 1:02d}"


def _seasonal(amplitude: float, calendar_month: int) -> float:
    """Seasonal factor peaking in July and bottoming out in January."""
    return 1.0 + amplitude * math.cos(2.0 * math.pi * (calendar_month - 7) / 12.0)


def _asb_level(index: int) -> float:
    """Deseasonalised ASB level, interpolated between the mid-year levels of ASB_BY_YEAR."""
    position = min(max((index - 6) / 12.0, 0.0), len(ASB_BY_YEAR) - 1.0)
    lower = int(position)
    upper = min(lower + 1, len(ASB_BY_YEAR) - 1)
    fraction = position - lower
    return ASB_BY_YEAR[lower] + (ASB_BY_YEAR[upper] - ASB_BY_YEAR[lower]) * fraction


def expected_current_scheme(index: int) -> dict[str, float]:
    """County-wide expected rows per current-scheme type in one month."""
    calendar_month = int(month_label(index)[5:])
    years = (min(index, TREND_END_INDEX) - REFERENCE_INDEX) / 12.0
    expected = {}
    for crime_type, (level, amplitude, trend) in TYPE_MODEL.items():
        if crime_type == ASB:
            base = _asb_level(index)
        else:
            base = level * (1.0 + (CRIME_TREND + trend) * years)
        expected[crime_type] = base * _seasonal(amplitude, calendar_month)
    return expected


def expected_published(index: int) -> dict[str, float]:
    """Expected rows per published type, folding into the old scheme before May 2013."""
    current = expected_current_scheme(index)
    if index >= SCHEME_CHANGE_INDEX:
        return current
    violence = current["Violence and sexual offences"]
    return {
        ASB: current[ASB],
        "Burglary": current["Burglary"],
        "Criminal damage and arson": current["Criminal damage and arson"],
        "Drugs": current["Drugs"],
        "Other crime": current["Other crime"] + SEXUAL_OFFENCE_SHARE * violence,
        "Other theft": current["Other theft"]
        + current["Bicycle theft"]
        + current["Theft from the person"],
        "Public disorder and weapons": current["Public order"] + current["Possession of weapons"],
        "Robbery": current["Robbery"],
        "Shoplifting": current["Shoplifting"],
        "Vehicle crime": current["Vehicle crime"],
        "Violent crime": (1.0 - SEXUAL_OFFENCE_SHARE) * violence,
    }


def district_shares(crime_type: str) -> np.ndarray:
    """District shares for one crime type: the county split, tilted towards Oxford for some."""
    shares = np.array([d.share for d in OXFORDSHIRE_DISTRICTS])
    tilt = OXFORD_TILT.get(crime_type)
    if tilt:
        shares = shares.copy()
        shares[1] *= tilt
    return shares / shares.sum()


def _pick_point(lsoa: Lsoa, crime_type: str, rng: np.random.Generator) -> int:
    """Index of the map point a record in this LSOA is snapped to."""
    pull = LANDMARK_PULL.get(crime_type, {})
    weights = np.array(
        [p.weight * pull.get(p.location.removeprefix("On or near "), 1.0) for p in lsoa.points]
    )
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def _outcome(crime_type: str, index: int, rng: np.random.Generator) -> str:
    """Last outcome for a crime: recent months are still largely under investigation."""
    months_ago = MONTH_COUNT - 1 - index
    open_share = 0.02 + 0.55 * math.exp(-months_ago / 2.0)
    court_share = 0.01 + 0.06 * math.exp(-months_ago / 4.0)
    draw = rng.random()
    if draw < open_share:
        return UNDER_INVESTIGATION
    if draw < open_share + court_share:
        return AWAITING_COURT
    weights = OUTCOME_WEIGHTS[_OUTCOME_FAMILY.get(crime_type, "property")]
    names = list(weights)
    probabilities = np.array([weights[n] for n in names], dtype=float)
    return names[int(rng.choice(len(names), p=probabilities / probabilities.sum()))]


def _crime_id(rng: np.random.Generator) -> str:
    """A 64-character lowercase hex ID, shaped like the published SHA-256 IDs."""
    return rng.bytes(32).hex()


@dataclass
class _Record:
    """One row before writing, with the keys used to order it."""

    fields: list[str]
    sort_group: int  # 0 located rows, 1 No Location rows (written last, as published)
    sort_code: str
    sort_key: float


def _located_record(
    lsoa: Lsoa, crime_type: str, month: str, index: int, rng: np.random.Generator
) -> _Record:
    point = lsoa.points[_pick_point(lsoa, crime_type, rng)]
    is_asb = crime_type == ASB
    fields = [
        "" if is_asb else _crime_id(rng),
        month,
        FORCE,
        FORCE,
        f"{point.longitude:.6f}",
        f"{point.latitude:.6f}",
        point.location,
        lsoa.code,
        lsoa.name,
        crime_type,
        "" if is_asb else _outcome(crime_type, index, rng),
        "",
    ]
    return _Record(fields, 0, lsoa.code, float(rng.random()))


def _no_location_record(
    crime_type: str, month: str, index: int, rng: np.random.Generator
) -> _Record:
    is_asb = crime_type == ASB
    fields = [
        "" if is_asb else _crime_id(rng),
        month,
        FORCE,
        FORCE,
        "",
        "",
        NO_LOCATION,
        "",
        "",
        crime_type,
        "" if is_asb else _outcome(crime_type, index, rng),
        "",
    ]
    return _Record(fields, 1, "", float(rng.random()))


def _draw_types(expected: dict[str, float], count: int, rng: np.random.Generator) -> list[str]:
    """``count`` crime types drawn in proportion to the month's expected mix."""
    names = list(expected)
    probabilities = np.array([expected[n] for n in names])
    picks = rng.choice(len(names), size=count, p=probabilities / probabilities.sum())
    return [names[int(i)] for i in picks]


def generate_month(geography: Geography, seed: int, index: int) -> tuple[list[list[str]], dict]:
    """All rows of one month's street file, in file order, and counts for the run report."""
    rng = np.random.default_rng([seed, 1, index])
    month = month_label(index)
    expected = expected_published(index)
    records: list[_Record] = []
    by_district: dict[str, int] = {}
    for position, district in enumerate(OXFORDSHIRE_DISTRICTS):
        lsoas = geography.lsoas_in(district)
        lsoa_weights = np.array([lsoa.weight for lsoa in lsoas])
        lsoa_weights /= lsoa_weights.sum()
        district_rows = 0
        for crime_type, mean in expected.items():
            count = int(rng.poisson(mean * district_shares(crime_type)[position]))
            per_lsoa = rng.multinomial(count, lsoa_weights)
            for lsoa, n in zip(lsoas, per_lsoa.tolist(), strict=True):
                for _ in range(n):
                    records.append(_located_record(lsoa, crime_type, month, index, rng))
            district_rows += count
        by_district[district.name] = district_rows
    oxfordshire_rows = len(records)

    border_count = int(rng.poisson(BORDER_RATE * oxfordshire_rows))
    for crime_type in _draw_types(expected, border_count, rng):
        lsoa = geography.border[int(rng.integers(len(geography.border)))]
        records.append(_located_record(lsoa, crime_type, month, index, rng))

    no_location_count = int(rng.poisson(NO_LOCATION_RATE * oxfordshire_rows))
    for crime_type in _draw_types(expected, no_location_count, rng):
        records.append(_no_location_record(crime_type, month, index, rng))

    crimes = [r for r in records if r.fields[0]]
    duplicate_count = int(rng.binomial(len(crimes), DUPLICATE_RATE))
    originals = rng.choice(len(crimes), size=duplicate_count, replace=False)
    for original_index in sorted(originals.tolist()):
        original = crimes[original_index]
        fields = list(original.fields)
        if rng.random() < DUPLICATE_DIFFERENT_OUTCOME:
            choices = [o for o in ALL_OUTCOMES if o != fields[10]]
            fields[10] = choices[int(rng.integers(len(choices)))]
        records.append(_Record(fields, original.sort_group, original.sort_code, rng.random()))

    records.sort(key=lambda r: (r.sort_group, r.sort_code, r.sort_key))
    counts = {
        "crime_rows": sum(1 for r in records if r.fields[0]),
        "asb_rows": sum(1 for r in records if not r.fields[0]),
        "no_location_rows": no_location_count,
        "border_rows": border_count,
        "duplicate_rows": duplicate_count,
        "by_district": by_district,
    }
    return [r.fields for r in records], counts


def write_street_csv(path: Path, rows: list[list[str]]) -> None:
    """Write rows in the published layout: UTF-8 without BOM, CRLF, minimal CSV quoting."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def generate(out_dir: Path, seed: int, geography: Geography) -> list[FileSummary]:
    """Write the 48 monthly street files under ``out_dir/police_uk``."""
    summaries = []
    for index in range(MONTH_COUNT):
        month = month_label(index)
        path = out_dir / "police_uk" / month / f"{month}-{FORCE_SLUG}-street.csv"
        rows, counts = generate_month(geography, seed, index)
        write_street_csv(path, rows)
        summaries.append(
            FileSummary(
                path,
                len(rows),
                counts["crime_rows"],
                counts["asb_rows"],
                counts["no_location_rows"],
                counts["border_rows"],
                counts["duplicate_rows"],
                counts["by_district"],
            )
        )
    return summaries
