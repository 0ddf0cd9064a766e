"""Where the pipeline reads and writes, as Dagster resources configured from the environment.

``OSCP_RAW_DIR`` (default ``data/raw``) and ``OSCP_WAREHOUSE_DIR`` (default ``data/warehouse``)
are resolved against the project directory when relative defaults are used, so the same code runs
from the command line, the UI and tests whatever the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

PROJECT_DIR = Path(__file__).resolve().parents[1]


def configured_dir(variable: str, default: str) -> str:
    """The directory named by an environment variable, or the project-relative default."""
    value = os.environ.get(variable, "").strip()
    return str(Path(value).resolve()) if value else str(PROJECT_DIR / default)


class RawData(dg.ConfigurableResource):
    """The folder of partner extracts exactly as delivered; the pipeline never writes to it."""

    raw_dir: str

    @property
    def path(self) -> Path:
        return Path(self.raw_dir)


class WarehouseStore(dg.ConfigurableResource):
    """The folder holding staging, the published DuckDB warehouse and reports."""

    warehouse_dir: str

    @property
    def path(self) -> Path:
        return Path(self.warehouse_dir)

    @property
    def staging_dir(self) -> Path:
        return self.path / "staging"

    @property
    def reports_dir(self) -> Path:
        """The Excel scorecard and the HTML bi-annual report, replaced on each refresh."""
        return self.path / "reports"

    @property
    def quarantine_dir(self) -> Path:
        """Staged batches that failed their checks, kept for inspection, never published."""
        return self.path / "quarantine"


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "raw": RawData(raw_dir=configured_dir("OSCP_RAW_DIR", "data/raw")),
        "store": WarehouseStore(
            warehouse_dir=configured_dir("OSCP_WAREHOUSE_DIR", "data/warehouse")
        ),
    }
