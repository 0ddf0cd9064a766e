"""The benchmark of ingestion at national scale, measured against the floor (``make bench``).

Every measurement runs in a fresh Python process of its own (``bench.measure``), so its peak
resident memory is its own, and reports its figures as JSON to the parent (``bench.__main__``),
which prints them, checks them against the targets and writes them to ``bench/results/``.
``docs/performance.md`` explains how to read them.
"""

from __future__ import annotations

import re
from pathlib import Path

# Not taken from oscp_pipeline.resources: that imports Dagster, which the floor must not pay for.
PROJECT_DIR = Path(__file__).resolve().parents[2]
BENCH_DIR = PROJECT_DIR / "bench"
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"
MONTH_FOLDER = re.compile(r"^\d{4}-\d{2}$")
STREET_FILE = re.compile(r"^\d{4}-\d{2}-[a-z0-9-]+-street\.csv$", re.IGNORECASE)


def month_folders(archive: Path) -> list[Path]:
    """The ``YYYY-MM`` folders of an archive laid out as data.police.uk publishes it."""
    return sorted(p for p in archive.iterdir() if p.is_dir() and MONTH_FOLDER.match(p.name))


def street_files(folders: list[Path]) -> list[Path]:
    """The street files of the given month folders (not outcomes or stop and search)."""
    return sorted(p for f in folders for p in f.iterdir() if STREET_FILE.match(p.name))
