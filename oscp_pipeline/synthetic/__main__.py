"""Command line: ``python -m oscp_pipeline.synthetic [--out DIR] [--seed N]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from oscp_pipeline.synthetic import DEFAULT_OUT, DEFAULT_SEED, generate_all


def main(argv: list[str] | None = None) -> int:
    """Generate the synthetic raw files and print one line per file family."""
    parser = argparse.ArgumentParser(
        prog="python -m oscp_pipeline.synthetic",
        description="Write a SYNTHETIC, seeded sample of the published raw files (no real data).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"raw data folder, relative to the current directory (default: {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})"
    )
    args = parser.parse_args(argv)
    for folder, summary in generate_all(args.out, args.seed).items():
        print(f"{folder}: {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
