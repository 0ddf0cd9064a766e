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
from collections.abc import Callable
from pathlib import Path

from oscp_pipeline.synthetic import defra_flytipping, home_office_prc, police_uk
from oscp_pipeline.synthetic.geography import build_geography

DEFAULT_SEED = 20140331
DEFAULT_OUT = Path("data/raw")


def _police_uk(out_dir: Path, seed: int) -> str:
    summaries = police_uk.generate(out_dir, seed, build_geography(seed))
    return f"{len(summaries)} files, {sum(s.rows for s in summaries)} rows"


def _defra_flytipping(out_dir: Path, seed: int) -> str:
    summaries = defra_flytipping.generate(out_dir, seed)
    return f"{len(summaries)} files, {sum(s.data_rows for s in summaries)} rows"


# One entry per source folder: (folder under the raw directory, generator returning a summary).
# Each generator writes only its own folder, which is cleared first.
GENERATORS: tuple[tuple[str, Callable[[Path, int], str]], ...] = (
    ("police_uk", _police_uk),
    ("defra_flytipping", _defra_flytipping),
    (home_office_prc.FOLDER, home_office_prc.generate),
)


def generate_all(out_dir: Path = DEFAULT_OUT, seed: int = DEFAULT_SEED) -> dict[str, str]:
    """Clear each generated subfolder of ``out_dir`` and write it again; summaries by folder."""
    summaries = {}
    for folder, generate in GENERATORS:
        if (out_dir / folder).exists():
            shutil.rmtree(out_dir / folder)
        summaries[folder] = generate(out_dir, seed)
    return summaries


__all__ = ["DEFAULT_OUT", "DEFAULT_SEED", "GENERATORS", "generate_all"]
