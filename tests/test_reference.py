"""Reference data: the partnership's areas and the populations behind rates per 1,000."""

from __future__ import annotations

from collections import Counter

from oscp_pipeline.reference import districts, load_reference_table, resolve_area


def test_areas_are_five_districts_in_four_csps_in_one_county() -> None:
    areas = load_reference_table("areas").to_pylist()
    assert Counter(a["area_type"] for a in areas) == {
        "district": 5,
        "csp": 4,
        "county": 1,
        "unallocated": 1,
    }
    assert districts() == {
        "Cherwell": "E07000177",
        "Oxford": "E07000178",
        "South Oxfordshire": "E07000179",
        "Vale of White Horse": "E07000180",
        "West Oxfordshire": "E07000181",
    }
    csp_of = {a["area_name"]: a["csp_code"] for a in areas if a["area_type"] == "district"}
    assert csp_of["South Oxfordshire"] == csp_of["Vale of White Horse"] == "OSCP-SOUTHVALE"
    assert len(set(csp_of.values())) == 4
    assert {a["county_code"] for a in areas if a["area_type"] != "county"} == {"E10000025"}


def test_partner_area_names_resolve_through_aliases_never_by_guessing() -> None:
    assert resolve_area("  vale ") == "E07000180"
    assert resolve_area("Oxford City Council") == "E07000178"
    assert resolve_area("Oxfordshire (district unknown)") == "OSCP-UNALLOCATED"
    assert resolve_area("Aylesbury Vale") is None


def test_every_district_has_a_population_for_every_year_with_its_source() -> None:
    rows = load_reference_table("population").to_pylist()
    years = {r["year"] for r in rows}
    assert years == set(range(2011, 2022))
    assert {(r["area_code"], r["year"]) for r in rows} == {
        (code, year) for code in districts().values() for year in years
    }
    census = {r["area_code"]: r["population"] for r in rows if r["year"] == 2011}
    assert sum(census.values()) == 653_798  # Oxfordshire, 2011 Census
    interpolated = [r for r in rows if r["is_estimate"]]
    assert {r["year"] for r in interpolated} == set(range(2012, 2019))
    assert all("interpolation" in r["source"] for r in interpolated)
