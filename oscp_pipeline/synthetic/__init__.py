"""SYNTHETIC sample data in the published or partner formats of every scorecard source.

Nothing here is a real record. The generator writes a seeded, deterministic stand-in for each
source, byte for byte in its layout, so the pipeline can be built and tested anywhere:

- ``police_uk/``: data.police.uk street-level crime and anti-social behaviour, one CSV per month
  for Thames Valley Police, April 2011 to March 2015, with the quirks of the real files (No
  Location rows, border LSOAs, repeated Crime IDs, the May 2013 scheme change);
- ``defra_flytipping/``: DEFRA fly-tipping by local authority, two overlapping releases (XLSX, CSV);
- ``home_office_prc/``: Home Office recorded crime by CSP and offence code;
- ``tvp_domestic_abuse/``, ``tvp_hate_crime/``, ``tvp_s27_directions/``: Thames Valley Police
  quarterly extracts (workbooks with months across, strand counts, one row per direction);
- ``stop_hate_uk/``: third-party reports as CSV and JSON, with fake personal fields the pipeline
  must drop (from 2012-13 Q3);
- ``council_asb_complaints/``: each district council's own layout of noise and waste complaints;
- ``district_flytipping_returns/``: councils' quarterly fly-tipping returns by land type.

The 2013-14 sample follows the pattern the partnership reported: domestic abuse rising with an
exceptional second quarter; district priorities mostly falling except vehicle crime, distraction
burglary and anti-social behaviour; fly tipping, domestic noise and public order rising.
District names and GSS codes are real; everything else is invented. Run from the project root
(each source folder is cleared and rewritten; the same seed always gives byte-identical files)::

    python -m oscp_pipeline.synthetic --out data/raw --seed 20140331
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from oscp_pipeline.synthetic import (
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
    (stop_hate_uk.FOLDER, stop_hate_uk.generate),
    (tvp_s27_directions.FOLDER, tvp_s27_directions.generate),
    (council_asb_complaints.FOLDER, council_asb_complaints.generate),
    (district_flytipping_returns.FOLDER, district_flytipping_returns.generate),
    (tvp_domestic_abuse.FOLDER, tvp_domestic_abuse.generate),
    (tvp_hate_crime.FOLDER, tvp_hate_crime.generate),
)


# Written at the top of the raw folder, beside the source folders (so no source reads it as a
# delivery): the reports built from the folder say on their face that the data are synthetic,
# wherever the folder is copied.
MARKER_NAME = "SYNTHETIC_SAMPLE.txt"


def marker_text(seed: int) -> str:
    return (
        "This raw folder holds a SYNTHETIC sample, written by `python -m oscp_pipeline.synthetic` "
        f"with seed {seed}.\nIt contains no real records. Reports built from it say so.\n"
    )


def is_synthetic_sample(raw_dir: Path) -> bool:
    """Whether ``raw_dir`` was written by this generator (it holds the marker file)."""
    return (raw_dir / MARKER_NAME).is_file()


def generate_all(out_dir: Path = DEFAULT_OUT, seed: int = DEFAULT_SEED) -> dict[str, str]:
    """Clear each generated subfolder of ``out_dir`` and write it again, with the marker file
    that labels the folder synthetic; summaries by folder."""
    summaries = {}
    for folder, generate in GENERATORS:
        if (out_dir / folder).exists():
            shutil.rmtree(out_dir / folder)
        summaries[folder] = generate(out_dir, seed)
    (out_dir / MARKER_NAME).write_text(marker_text(seed), encoding="utf-8", newline="\n")
    return summaries


__all__ = [
    "DEFAULT_OUT",
    "DEFAULT_SEED",
    "GENERATORS",
    "MARKER_NAME",
    "generate_all",
    "is_synthetic_sample",
]
