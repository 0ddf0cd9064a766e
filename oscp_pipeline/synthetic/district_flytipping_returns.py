"""SYNTHETIC quarterly fly-tipping returns of the five Oxfordshire district councils.

One CSV a quarter covering all five districts, ``Council,Financial Year,Quarter,Land Type,
Incidents``, land types as DEFRA's. The figures are derived from the synthetic DEFRA sample made
with the same seed: each district-year's DEFRA land-type counts, nudged by up to 2% (returns are
made before late reports reach DEFRA), are spread over the four quarters with a summer peak, so
fly-tipping rises in 2013-14 as in the DEFRA sample. One district-year is deliberately short (a
batch of highway incidents left out of a quarter's return), so that the comparison with DEFRA's
annual table has something to report. Land types with no incidents are left out, as councils do.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from oscp_pipeline.synthetic import defra_flytipping as defra

FOLDER = "district_flytipping_returns"
HEADER = ["Council", "Financial Year", "Quarter", "Land Type", "Incidents"]
COUNCIL_NAMES = {
    "E07000177": "Cherwell District Council",
    "E07000178": "Oxford City Council",
    "E07000179": "South Oxfordshire District Council",
    "E07000180": "Vale of White Horse District Council",
    "E07000181": "West Oxfordshire District Council",
}
QUARTER_SHARES = (0.26, 0.27, 0.25, 0.22)  # April-June first; fly-tipping peaks in summer
LARGEST_CHANGE = 0.02
# (financial year, district, quarter) whose return leaves out most highway incidents.
SHORT_RETURN = ("2012-13", "E07000181", 3)
SHORT_RETURN_KEEPS = 0.2


def defra_land_counts(seed: int) -> dict[tuple[str, str], dict[str, int]]:
    """(year, district code) -> DEFRA land-type counts as the newest synthetic release has them.

    Built the way ``defra_flytipping.generate`` builds its two releases; counts do not depend
    on the random numbers it draws for costs, so they match the files byte for byte.
    """
    truth = defra.build_true_rows(seed)
    rng = np.random.default_rng([seed, 3])
    older = defra.build_release(truth, defra.XLSX_YEARS, defra.XLSX_NOT_AVAILABLE, (), rng)
    newer = defra.build_release(
        truth, defra.CSV_YEARS, defra.CSV_NOT_AVAILABLE, defra.CSV_REVISIONS, rng
    )
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for row in [*older, *newer]:  # the newer release replaces the older one's years
        if row.code in COUNCIL_NAMES:
            land = {column: row.counts[column] for column in defra.LAND_COLUMNS}
            counts[(row.year, row.code)] = {c: v for c, v in land.items() if isinstance(v, int)}
    return counts


def quarterly_returns(seed: int) -> dict[tuple[str, int], list[list[str]]]:
    """(financial year, quarter) -> the rows of that quarter's return."""
    rng = np.random.default_rng([seed, 6203])
    returns: dict[tuple[str, int], list[list[str]]] = {}
    for (year, code), land in sorted(defra_land_counts(seed).items()):
        land = dict(land)
        total = sum(land.values())
        change = round(total * float(rng.uniform(-LARGEST_CHANGE, LARGEST_CHANGE)))
        land["Highway Incidents"] = max(0, land["Highway Incidents"] + change)
        by_quarter = {
            column: rng.multinomial(count, QUARTER_SHARES) for column, count in land.items()
        }
        for quarter in (1, 2, 3, 4):
            rows = returns.setdefault((year, quarter), [])
            for column in defra.LAND_COLUMNS:
                count = int(by_quarter[column][quarter - 1])
                if (year, code, quarter) == SHORT_RETURN and column == "Highway Incidents":
                    count = round(count * SHORT_RETURN_KEEPS)
                if count:
                    label = column.removesuffix(" Incidents")
                    rows.append([COUNCIL_NAMES[code], year, f"Q{quarter}", label, str(count)])
    return returns


def generate(out_dir: Path, seed: int) -> str:
    """Write one return per quarter; returns a one-line summary."""
    folder = out_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    returns = quarterly_returns(seed)
    for (year, quarter), rows in sorted(returns.items()):
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
        (folder / f"flytipping_returns_{year}_Q{quarter}.csv").write_bytes(
            buffer.getvalue().encode("utf-8")
        )
    return f"{len(returns)} files, {sum(len(rows) for rows in returns.values())} rows"
