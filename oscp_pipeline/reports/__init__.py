"""Published reports built from the warehouse scorecard."""
