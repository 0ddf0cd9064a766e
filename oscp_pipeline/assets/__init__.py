"""Thin Dagster wrappers, one module per layer; the work is done in the pure modules."""
