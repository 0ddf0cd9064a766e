"""Source readers, one module per partner extract, and the registry the warehouse builds from."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from oscp_pipeline.reference import crime_type_map
from oscp_pipeline.sources import defra_flytipping, police_uk
from oscp_pipeline.sources.base import SourceContract


@dataclass(frozen=True)
class StagedSource:
    """How a source's staged rows reach the warehouse: its contract and record table."""

    source_id: str
    record_table: str
    accepted_schema: pa.Schema

    def contract(self) -> SourceContract:
        return CONTRACT_BUILDERS[self.source_id]()


CONTRACT_BUILDERS = {
    police_uk.SOURCE_ID: police_uk.build_contract,
    defra_flytipping.SOURCE_ID: defra_flytipping.build_contract,
}

STAGED_SOURCES = (
    StagedSource(police_uk.SOURCE_ID, "police_street_crime", police_uk.ACCEPTED_SCHEMA),
    StagedSource(
        defra_flytipping.SOURCE_ID, "defra_flytipping_incidents", defra_flytipping.ACCEPTED_SCHEMA
    ),
)


def slug(text: str) -> str:
    """``Criminal damage and arson`` -> ``criminal_damage_and_arson``."""
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


def measure_catalogue() -> list[dict[str, str | None]]:
    """Every measure an observation can carry, with its source, grain and meaning."""
    measures: list[dict[str, str | None]] = [
        {
            "measure_id": "police_uk.all_crime",
            "source_id": police_uk.SOURCE_ID,
            "measure_name": "All street-level crime (excluding anti-social behaviour)",
            "unit": "crimes",
            "period_grain": "month",
            "crime_type": None,
        }
    ]
    for crime_type in sorted(set(crime_type_map().values())):
        is_asb = crime_type == "Anti-social behaviour"
        measures.append(
            {
                "measure_id": f"police_uk.{slug(crime_type)}",
                "source_id": police_uk.SOURCE_ID,
                "measure_name": crime_type + (" incidents" if is_asb else " (street-level crime)"),
                "unit": "incidents" if is_asb else "crimes",
                "period_grain": "month",
                "crime_type": crime_type,
            }
        )
    for name, header, _ in defra_flytipping.COUNT_COLUMNS:
        measures.append(
            {
                "measure_id": f"defra_flytipping.{name}",
                "source_id": defra_flytipping.SOURCE_ID,
                "measure_name": f"Fly-tipping: {header} (DEFRA)",
                "unit": "incidents",
                "period_grain": "financial_year",
                "crime_type": None,
            }
        )
    return measures
