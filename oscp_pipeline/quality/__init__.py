"""The one place that knows Great Expectations: contract -> suite -> verdict.

A source contract declares its expectations in plain terms (``Expectation`` in
``sources.base``); this module turns them into a GX Core 1.x suite, validates a batch of accepted
rows in an ephemeral, in-process context, and returns a ``Verdict`` small enough to show in the
Dagster UI (SUMMARY results and a capped sample of unexpected values, never COMPLETE results).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pyarrow as pa

from oscp_pipeline.sources.base import (
    Expectation,
    FileRead,
    SourceContract,
    row_accounting_failures,
)

SAMPLE_SIZE = 5


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result, in the words an analyst reads."""

    description: str
    why: str
    success: bool
    unexpected_count: int | None
    unexpected_sample: list[str]
    observed_value: str | None


@dataclass
class Verdict:
    """The result of validating one batch against its contract."""

    source_id: str
    rows: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.problems and all(outcome.success for outcome in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.success]

    def summary(self) -> str:
        """One line for logs and the command-line summary."""
        passed = len(self.outcomes) - len(self.failed)
        text = f"{passed} of {len(self.outcomes)} expectations passed on {self.rows} rows"
        details = [
            f"{o.description}: {o.unexpected_count} unexpected, e.g. {o.unexpected_sample}"
            if o.unexpected_count is not None
            else f"{o.description}: observed {o.observed_value}"
            for o in self.failed
        ]
        return "; ".join([text, *self.problems, *details])

    def metadata(self) -> dict[str, Any]:
        """Dagster-ready metadata: counts, a readable table of failures, problems with files."""
        return {
            "rows_validated": self.rows,
            "expectations_evaluated": len(self.outcomes),
            "expectations_failed": len(self.failed),
            "summary": self.summary(),
            "results": [
                {
                    "expectation": o.description,
                    "why": o.why,
                    "passed": o.success,
                    "unexpected_count": o.unexpected_count,
                    "unexpected_sample": o.unexpected_sample,
                }
                for o in self.outcomes
            ],
            "file_problems": self.problems,
        }


def describe(expectation: Expectation) -> str:
    """Plain-English rendering of an expectation, also used in the data-sharing specification."""
    params = expectation.params
    column = f"'{expectation.column}'"
    match expectation.kind:
        case "not_null":
            return f"{column} is never blank"
        case "in_set":
            values = list(params["value_set"])  # type: ignore[call-overload]
            shown = ", ".join(map(str, values[:8])) + (" ..." if len(values) > 8 else "")
            return f"{column} is one of: {shown}"
        case "between":
            low, high = params.get("min_value"), params.get("max_value")
            if high is None:
                return f"{column} is at least {low}"
            return f"{column} is between {low} and {high}"
        case "compound_unique":
            return f"the combination {params['columns']} is unique"
        case "row_count_between":
            return f"at least {params['min_value']} row(s)"
    raise ValueError(f"unknown expectation kind {expectation.kind!r}")


def _gx_expectation(expectation: Expectation, position: int) -> Any:
    """The GX expectation for a contract rule; ``meta`` carries its position in the contract."""
    import great_expectations.expectations as gxe

    params = dict(expectation.params)
    meta = {"position": position}
    match expectation.kind:
        case "not_null":
            return gxe.ExpectColumnValuesToNotBeNull(column=expectation.column, meta=meta)
        case "in_set":
            return gxe.ExpectColumnValuesToBeInSet(column=expectation.column, meta=meta, **params)
        case "between":
            return gxe.ExpectColumnValuesToBeBetween(column=expectation.column, meta=meta, **params)
        case "compound_unique":
            return gxe.ExpectCompoundColumnsToBeUnique(
                column_list=params["columns"], ignore_row_if="any_value_is_missing", meta=meta
            )
        case "row_count_between":
            return gxe.ExpectTableRowCountToBeBetween(meta=meta, **params)
    raise ValueError(f"unknown expectation kind {expectation.kind!r}")


@cache
def _context() -> Any:
    """An ephemeral GX context: no gx/ folder, no cloud look-ups, no progress bars."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.data_sources.add_pandas("oscp")
    return context


def _batch_definition(source_id: str) -> Any:
    datasource = _context().data_sources.get("oscp")
    try:
        asset = datasource.get_asset(source_id)
    except LookupError:
        asset = datasource.add_dataframe_asset(source_id)
    try:
        return asset.get_batch_definition("whole")
    except KeyError:
        return asset.add_batch_definition_whole_dataframe("whole")


def validate(contract: SourceContract, accepted: pa.Table, problems: list[str]) -> Verdict:
    """Validate a source's accepted rows against its contract's expectations.

    ``problems`` are whole-file failures found while reading (e.g. a rejected file): they fail
    the verdict too, so a file that could not be read can never pass unnoticed.
    """
    import great_expectations as gx

    _context()  # GX needs an active context before a suite can be built
    verdict = Verdict(contract.source_id, accepted.num_rows, problems=list(problems))
    suite = gx.ExpectationSuite(name=f"{contract.source_id}_contract")
    for position, expectation in enumerate(contract.expectations):
        suite.add_expectation(_gx_expectation(expectation, position))
    frame = accepted.to_pandas()
    batch = _batch_definition(contract.source_id).get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format="SUMMARY")
    # GX returns results in its own order; pair them back with the contract by position.
    by_position = {r.expectation_config.meta["position"]: r for r in result.results}
    for position, expectation in enumerate(contract.expectations):
        outcome = by_position[position]
        details = outcome.result or {}
        verdict.outcomes.append(
            ExpectationOutcome(
                description=describe(expectation),
                why=expectation.why,
                success=bool(outcome.success),
                unexpected_count=details.get("unexpected_count"),
                unexpected_sample=[
                    str(value) for value in (details.get("partial_unexpected_list") or [])
                ][:SAMPLE_SIZE],
                observed_value=(
                    None
                    if details.get("observed_value") is None
                    else str(details.get("observed_value"))
                ),
            )
        )
    return verdict


@dataclass
class AuditedBatch:
    """A batch's read, with the verdicts that decide whether it may be staged."""

    partition: str
    read: FileRead
    verdict: Verdict
    accounting_failures: list[dict[str, object]]

    @property
    def passed(self) -> bool:
        return self.verdict.success and not self.accounting_failures


def audit(contract: SourceContract, partition: str, read: FileRead) -> AuditedBatch:
    """Validate a batch; files that could not be read at all fail the contract check."""
    rejected = [
        f"{line['source_file']}: {line['message']}"
        for line in read.load_log.to_pylist()
        if line["status"] == "rejected"
    ]
    verdict = validate(contract, read.accepted, rejected)
    return AuditedBatch(partition, read, verdict, row_accounting_failures(read))
