"""Source readers, one module per partner extract, and the registry the pipeline is built from.

Adding a source means: a module here with its contract, reader and ``SPEC``; a SQL file in
``warehouse/sql/sources/`` that creates its record table(s) and a temporary ``obs_<source_id>``
table of observations; a line in ``SOURCES`` below. Assets, staging, row accounting, the
warehouse and the data-sharing specification follow from the registry.
"""

from __future__ import annotations

from oscp_pipeline.sources import (
    council_asb_complaints,
    defra_flytipping,
    district_flytipping_returns,
    home_office_prc,
    police_uk,
    stop_hate_uk,
    tvp_domestic_abuse,
    tvp_hate_crime,
    tvp_s27_directions,
)
from oscp_pipeline.sources.base import SourceSpec

SOURCES: tuple[SourceSpec, ...] = (
    police_uk.SPEC,
    defra_flytipping.SPEC,
    home_office_prc.SPEC,
    stop_hate_uk.SPEC,
    tvp_s27_directions.SPEC,
    council_asb_complaints.SPEC,
    district_flytipping_returns.SPEC,
    tvp_domestic_abuse.SPEC,
    tvp_hate_crime.SPEC,
)


def measure_catalogue() -> list[dict[str, str | None]]:
    """Every measure an observation can carry, with its source, grain and meaning."""
    return [measure for spec in SOURCES for measure in spec.measures()]
