"""Reference data shipped with the package: areas, population, crime types, series breaks.

Reference data is data, not code: the CSV files beside this module, and the indicator catalogue
``indicators.yaml``, are the single place where area codes, populations, category mappings and
indicator definitions are written down, and every reader and SQL model takes them from here.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import yaml

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


POLARITIES = ("lower_is_better", "higher_is_better", "monitor_only")
AREA_LEVELS = ("district", "csp", "county")
SUPPRESSION_RULES = ("none", "small_numbers")

INDICATOR_SCHEMA = pa.schema(
    [
        ("indicator_id", pa.string()),
        ("indicator_name", pa.string()),
        ("measure_id", pa.string()),
        ("polarity", pa.string()),
        ("unit", pa.string()),
        ("owner", pa.string()),
        ("description", pa.string()),
        ("area_levels", pa.string()),
        ("min_history", pa.int32()),
        ("suppression", pa.string()),
        ("notes", pa.string()),
    ]
)
INDICATOR_MEASURE_SCHEMA = pa.schema([("indicator_id", pa.string()), ("measure_id", pa.string())])
INDICATOR_TARGET_SCHEMA = pa.schema(
    [
        ("indicator_id", pa.string()),
        ("financial_year", pa.string()),
        ("target_change_pct", pa.float64()),
    ]
)


@cache
def indicator_catalogue() -> tuple[dict[str, Any], ...]:
    """The indicators in ``indicators.yaml``, defaults filled in and every field checked."""
    text = resources.files(__package__).joinpath("indicators.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    defaults = document.get("defaults", {})
    catalogue = []
    for indicator_id, entry in document["indicators"].items():
        item = {**defaults, **entry}
        problems = []
        if item.get("polarity") not in POLARITIES:
            problems.append(f"polarity must be one of {POLARITIES}")
        if not item.get("measures"):
            problems.append("at least one source measure is needed")
        levels = list(item.get("area_levels") or [])
        if not levels or any(level not in AREA_LEVELS for level in levels):
            problems.append(f"area_levels must be taken from {AREA_LEVELS}")
        if item.get("suppression") not in SUPPRESSION_RULES:
            problems.append(f"suppression must be one of {SUPPRESSION_RULES}")
        targets = {str(year): float(pct) for year, pct in (item.get("targets") or {}).items()}
        if any(not re.fullmatch(r"\d{4}-\d{2}", year) for year in targets):
            problems.append("target years must look like 2013-14")
        if problems:
            raise ValueError(f"indicator {indicator_id}: " + "; ".join(problems))
        catalogue.append(
            {
                "indicator_id": str(indicator_id),
                "indicator_name": item["name"],
                "description": item.get("description"),
                "measures": [str(m) for m in item["measures"]],
                "unit": item.get("unit"),
                "polarity": item["polarity"],
                "owner": item.get("owner"),
                "area_levels": [level for level in AREA_LEVELS if level in levels],
                "min_history": int(item.get("min_history", 8)),
                "suppression": item["suppression"],
                "targets": targets,
                "notes": item.get("notes"),
            }
        )
    return tuple(catalogue)


def indicator_tables() -> dict[str, pa.Table]:
    """The catalogue as three tables: indicators, their source measures, their targets."""
    catalogue = indicator_catalogue()
    indicators = [
        {
            "indicator_id": i["indicator_id"],
            "indicator_name": i["indicator_name"],
            "measure_id": i["measures"][0],
            "polarity": i["polarity"],
            "unit": i["unit"],
            "owner": i["owner"],
            "description": i["description"],
            "area_levels": ",".join(i["area_levels"]),
            "min_history": i["min_history"],
            "suppression": i["suppression"],
            "notes": i["notes"],
        }
        for i in catalogue
    ]
    measures = [
        {"indicator_id": i["indicator_id"], "measure_id": m}
        for i in catalogue
        for m in i["measures"]
    ]
    targets = [
        {"indicator_id": i["indicator_id"], "financial_year": year, "target_change_pct": pct}
        for i in catalogue
        for year, pct in sorted(i["targets"].items())
    ]
    return {
        "indicators": pa.Table.from_pylist(indicators, schema=INDICATOR_SCHEMA),
        "indicator_measures": pa.Table.from_pylist(measures, schema=INDICATOR_MEASURE_SCHEMA),
        "indicator_targets": pa.Table.from_pylist(targets, schema=INDICATOR_TARGET_SCHEMA),
    }
