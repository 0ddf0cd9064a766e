"""Data pipeline for the Oxfordshire Safer Communities Partnership scorecard."""
