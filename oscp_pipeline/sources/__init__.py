"""Source readers, one module per partner extract, and the registry the pipeline is built from.

Adding a source means: a module here with its contract, reader and ``SPEC``; a SQL file in
``warehouse/sql/sources/`` that creates its record table(s) and a temporary ``obs_<source_id>``
table of observations; a line in ``SOURCES`` below. Assets, staging, row accounting, the
warehouse and the data-sharing specification follow from the registry.
"""

from __future__ import annotations

from oscp_pipeline.sources import defra_flytipping, home_office_prc, police_uk
from oscp_pipeline.sources.base import SourceSpec

SOURCES: tuple[SourceSpec, ...] = (
    police_uk.SPEC,
    defra_flytipping.SPEC,
    home_office_prc.SPEC,
)


def source(source_id: str) -> SourceSpec:
    return next(spec for spec in SOURCES if spec.source_id == source_id)


def measure_catalogue() -> list[dict[str, str | None]]:
    """Every measure an observation can carry, with its source, grain and meaning."""
    return [measure for spec in SOURCES for measure in spec.measures()]
