"""The area the pipeline reports on: configuration, not code.

The default scope is the Oxfordshire partnership: its five districts, four CSPs and the county,
as written in ``reference/areas.csv``. The national scope adds every local authority district in
England and Wales, with its Community Safety Partnership and police force area, from the ONS
"Local Authority District to Community Safety Partnerships to Police Force Areas" lookup. That
lookup is published by ONS under the Open Government Licence and is not shipped with the
pipeline: ``OSCP_AREA_LOOKUP`` names the downloaded CSV.

Street-level police rows are given a district by LSOA name in either scope; a row whose district
is outside the scope is set aside (``outside_area``) and counted. National open data published
per district follows the scope too: DEFRA fly-tipping rows are kept for the scope's districts by
ONS code, and other authorities (e.g. those created after the lookup's edition) are set aside as
``outside_area``. Partner extracts always cover the partnership's own districts, whatever the
scope.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from oscp_pipeline.reference import REFERENCE_TABLE_TYPES, load_reference_table

SCOPE_VARIABLE = "OSCP_SCOPE"
LOOKUP_VARIABLE = "OSCP_AREA_LOOKUP"
SCOPES = ("oxfordshire", "national")
# Columns of the ONS lookup; the year suffix changes between editions (LAD17CD, LAD21CD, ...).
LOOKUP_PREFIXES = {
    "district_code": "LAD",
    "district_name": "LAD",
    "csp_code": "CSP",
    "csp_name": "CSP",
    "force_code": "PFA",
    "force_name": "PFA",
}
NATIONAL_SORT_START = 1000


# In ``dim_area``, whatever the scope, the partnership's own areas are the county and every
# area with a ``county_code`` (its CSPs, districts and unallocated area); the national lookup's
# areas have none. Partner extracts cover these, and the partnership's reports show these.
PARTNERSHIP_AREAS_SQL = "(area_type = 'county' OR county_code IS NOT NULL)"


def is_partnership_area(area: Mapping[str, object]) -> bool:
    """``PARTNERSHIP_AREAS_SQL`` for one ``dim_area`` row."""
    return area["area_type"] == "county" or bool(area["county_code"])


class ScopeError(ValueError):
    """The configured scope cannot be used; the message says what to set."""


@dataclass(frozen=True)
class Scope:
    """The areas the warehouse reports on, in the shape of ``reference/areas.csv``."""

    name: str
    areas: pa.Table

    @property
    def description(self) -> str:
        """The districts in words, for reasons and the contract: 'the Oxfordshire districts'."""
        if self.name == "oxfordshire":
            return "the Oxfordshire districts"
        return "the districts of England and Wales in the area lookup"

    def districts(self) -> dict[str, str]:
        """District name -> GSS code: the districts street-level rows may be assigned to.

        ONS writes four names with a suffix ('Bristol, City of', 'Herefordshire, County of')
        that LSOA names leave out ('Bristol 001A'): the name before the comma is taken too.
        """
        rows = self.areas.filter(pc.equal(self.areas["area_type"], "district"))
        names = dict(zip(rows["area_name"].to_pylist(), rows["area_code"].to_pylist(), strict=True))
        short = {name.split(",")[0].strip(): code for name, code in names.items() if "," in name}
        return {**short, **names}


def configured_scope_name() -> str:
    """The scope named by ``OSCP_SCOPE`` (default ``oxfordshire``)."""
    name = os.environ.get(SCOPE_VARIABLE, "").strip().casefold() or SCOPES[0]
    if name not in SCOPES:
        raise ScopeError(f"{SCOPE_VARIABLE}={name!r} is not one of {', '.join(SCOPES)}")
    return name


def current_scope() -> Scope:
    """The scope the environment configures; the national lookup is read once per process."""
    name = configured_scope_name()
    if name == "oxfordshire":
        return Scope(name, load_reference_table("areas"))
    lookup = os.environ.get(LOOKUP_VARIABLE, "").strip()
    if not lookup:
        raise ScopeError(
            f"{SCOPE_VARIABLE}=national needs {LOOKUP_VARIABLE}: the path of the ONS 'Local "
            "Authority District to Community Safety Partnerships to Police Force Areas' lookup "
            "CSV (e.g. LAD17_CSP17_PFA17_lookup_Jan2017.csv from the ONS Open Geography portal)"
        )
    return national_scope(Path(lookup).resolve())


@cache
def national_scope(lookup: Path) -> Scope:
    """The partnership's areas plus every district, CSP and police force area in ``lookup``."""
    return Scope("national", national_areas(lookup))


def read_lookup(lookup: Path) -> list[dict[str, str]]:
    """The lookup's rows with stable names, whatever the edition's year suffix."""
    try:
        text = lookup.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise ScopeError(f"{LOOKUP_VARIABLE}: cannot read {lookup}: {error}") from error
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []

    def column(prefix: str, suffix: str) -> str:
        found = [h for h in header if h.upper().startswith(prefix) and h.upper().endswith(suffix)]
        if not found:
            raise ScopeError(
                f"{lookup}: no column {prefix}..{suffix} (e.g. {prefix}17{suffix}); the header "
                f"is {', '.join(header)}"
            )
        return found[0]

    columns = {
        name: column(prefix, "CD" if name.endswith("code") else "NM")
        for name, prefix in LOOKUP_PREFIXES.items()
    }
    return [{name: row[source].strip() for name, source in columns.items()} for row in reader]


def national_areas(lookup: Path) -> pa.Table:
    """``areas.csv`` rows for the partnership, then the lookup's districts, CSPs and forces.

    The partnership's own rows win: its districts keep their joint CSP (South and Vale), and the
    ONS CSPs they replace are not added again.
    """
    own = load_reference_table("areas").to_pylist()
    known = {row["area_code"] for row in own}
    replaced_csps = {code for row in own for code in (row["ons_csp_code"] or "").split(";") if code}
    rows = read_lookup(lookup)
    added: list[dict[str, object]] = []

    def add(code: str, name: str, area_type: str, **links: str | None) -> None:
        if code in known or code in replaced_csps:
            return
        known.add(code)
        added.append(
            {
                "area_code": code,
                "area_name": name,
                "area_type": area_type,
                "gss_code": code,
                "csp_code": links.get("csp_code"),
                "county_code": None,
                "ons_csp_code": links.get("ons_csp_code"),
                "police_force_code": links.get("police_force_code"),
            }
        )

    for row in sorted(rows, key=lambda r: (r["force_name"], r["csp_name"], r["district_name"])):
        add(row["force_code"], row["force_name"], "police_force")
        add(
            row["csp_code"],
            row["csp_name"],
            "csp",
            ons_csp_code=row["csp_code"],
            police_force_code=row["force_code"],
        )
        add(
            row["district_code"],
            row["district_name"],
            "district",
            csp_code=row["csp_code"],
            ons_csp_code=row["csp_code"],
            police_force_code=row["force_code"],
        )
    for position, row in enumerate(added):
        row["sort_order"] = NATIONAL_SORT_START + position
    schema = pa.schema(REFERENCE_TABLE_TYPES["areas"].items())
    return pa.Table.from_pylist([*own, *added], schema)
