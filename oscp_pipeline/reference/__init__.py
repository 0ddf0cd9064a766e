"""Reference data shipped with the package: areas, population, crime types, series breaks.

Reference data is data, not code: the CSV files beside this module are the single place where
area codes, populations and category mappings are written down, and every reader and SQL model
takes them from here.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pyarrow as pa
import pyarrow.csv as pa_csv

REFERENCE_TABLE_TYPES: dict[str, dict[str, pa.DataType]] = {
    "areas": {
        "area_code": pa.string(),
        "area_name": pa.string(),
        "area_type": pa.string(),
        "gss_code": pa.string(),
        "csp_code": pa.string(),
        "county_code": pa.string(),
        "ons_csp_code": pa.string(),
        "police_force_code": pa.string(),
        "sort_order": pa.int32(),
    },
    "population": {
        "area_code": pa.string(),
        "year": pa.int32(),
        "population": pa.int64(),
        "is_estimate": pa.bool_(),
        "source": pa.string(),
    },
    "crime_types": {
        "crime_type_published": pa.string(),
        "crime_type": pa.string(),
        "comparable_group": pa.string(),
        "published_from": pa.date32(),
        "published_to": pa.date32(),
        "note": pa.string(),
    },
    "indicators": {
        "indicator_id": pa.string(),
        "indicator_name": pa.string(),
        "measure_id": pa.string(),
        "polarity": pa.string(),
        "unit": pa.string(),
        "owner": pa.string(),
    },
    "offence_groups": {
        "measure": pa.string(),
        "offence_code": pa.string(),
        "offence_description": pa.string(),
    },
    "area_aliases": {"alias": pa.string(), "area_code": pa.string()},
    "series_breaks": {
        "source_id": pa.string(),
        "measure_id": pa.string(),
        "break_date": pa.date32(),
        "description": pa.string(),
    },
}


@cache
def load_reference_table(name: str) -> pa.Table:
    """One reference CSV as a typed Arrow table (blank cells become nulls)."""
    types = REFERENCE_TABLE_TYPES[name]
    data = resources.files(__package__).joinpath(f"{name}.csv").read_bytes()
    return pa_csv.read_csv(
        pa.py_buffer(data),
        convert_options=pa_csv.ConvertOptions(
            column_types=types, include_columns=list(types), strings_can_be_null=True
        ),
    )


def districts() -> dict[str, str]:
    """District name -> GSS code for the districts the partnership covers."""
    areas = load_reference_table("areas").to_pylist()
    return {row["area_name"]: row["area_code"] for row in areas if row["area_type"] == "district"}


def crime_type_map() -> dict[str, str]:
    """Published data.police.uk crime type -> harmonised (post-May-2013) crime type."""
    rows = load_reference_table("crime_types").to_pylist()
    return {row["crime_type_published"]: row["crime_type"] for row in rows}


def resolve_area(name: str) -> str | None:
    """The ``area_code`` a partner's area name refers to (case and spacing ignored), or None.

    Names are matched through ``area_aliases.csv``, never guessed: a new spelling is added there.
    """
    key = " ".join(name.split()).casefold()
    return _area_aliases().get(key)


@cache
def _area_aliases() -> dict[str, str]:
    rows = load_reference_table("area_aliases").to_pylist()
    return {" ".join(r["alias"].split()).casefold(): r["area_code"] for r in rows}
