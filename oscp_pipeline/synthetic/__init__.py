"""SYNTHETIC sample data in the published formats of the scorecard's open-data sources.

Nothing here is a real record. The generator writes a seeded, deterministic stand-in for two
published sources, byte for byte in their published layouts, so the pipeline can be built and
tested without downloading anything:

- ``police_uk/``: data.police.uk street-level crime and anti-social behaviour, one CSV per month
  for Thames Valley Police, April 2011 to March 2015, Oxfordshire rows plus the quirks of the
  real files (No Location rows, border LSOAs, repeated Crime IDs, the May 2013 scheme change);
- ``defra_flytipping/``: DEFRA fly-tipping incidents by local authority, as two overlapping
  annual releases, one XLSX workbook and one CSV.

District names and GSS codes are real; LSOAs, locations, IDs and every count are invented.
Run from the project root (the two subfolders are cleared and rewritten; the same seed always
gives byte-identical files)::

    python -m oscp_pipeline.synthetic --out data/raw --seed 20140331
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from oscp_pipeline.synthetic import defra_flytipping, police_uk
from oscp_pipeline.synthetic.geography import build_geography

DEFAULT_SEED = 20140331
DEFAULT_OUT = Path("data/raw")
OWNED_FOLDERS = ("police_uk", "defra_flytipping")


@dataclass(frozen=True)
class GenerationResult:
    """Summaries of everything one run wrote."""

    police_uk: list[police_uk.FileSummary]
    defra_flytipping: list[defra_flytipping.ReleaseSummary]


def generate_all(out_dir: Path = DEFAULT_OUT, seed: int = DEFAULT_SEED) -> GenerationResult:
    """Clear the generated subfolders of ``out_dir`` and write every synthetic file again."""
    for name in OWNED_FOLDERS:
        folder = out_dir / name
        if folder.exists():
            shutil.rmtree(folder)
    geography = build_geography(seed)
    return GenerationResult(
        police_uk.generate(out_dir, seed, geography),
        defra_flytipping.generate(out_dir, seed),
    )


__all__ = ["DEFAULT_OUT", "DEFAULT_SEED", "GenerationResult", "generate_all"]
