"""The quarterly performance scorecard: statistics (``stats``) and the table build (``build``)."""

from oscp_pipeline.scorecard.build import SCORECARD_COLUMNS, build_scorecard

__all__ = ["SCORECARD_COLUMNS", "build_scorecard"]
