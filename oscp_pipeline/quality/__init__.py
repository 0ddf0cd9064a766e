"""The one place that knows Great Expectations: contract -> suite -> verdict.

A source contract declares its expectations in plain terms (``Expectation`` in
``sources.base``); this module turns them into a GX Core 1.x suite, validates a batch of accepted
rows in an ephemeral, in-process context, and returns a ``Verdict`` small enough to show in the
Dagster UI (SUMMARY results and a capped sample of unexpected values, never COMPLETE results).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from oscp_pipeline.sources.base import (
    LOAD_LOG_SCHEMA,
    SET_ASIDE_SCHEMA,
    Expectation,
    FileRead,
    SourceContract,
    restate_duplicates,
    row_accounting_failures,
    set_aside_row,
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

    @property
    def success(self) -> bool:
        return all(outcome.success for outcome in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.success]

    def summary(self) -> str:
        """One line for logs and the command-line summary."""
        if not self.outcomes:
            return "nothing to validate: no file of the batch could be loaded"
        passed = len(self.outcomes) - len(self.failed)
        text = f"{passed} of {len(self.outcomes)} expectations passed on {self.rows} rows"
        return "; ".join([text, *self.failures()])

    def failures(self) -> list[str]:
        """Each failed expectation in words: what was expected, why, and what was found."""
        return [
            f"expected {o.description} ({o.why}): {o.unexpected_count} unexpected, "
            f"e.g. {', '.join(o.unexpected_sample)}"
            if o.unexpected_count is not None
            else f"expected {o.description} ({o.why}): found {o.observed_value}"
            for o in self.failed
        ]

    def metadata(self) -> dict[str, Any]:
        """Dagster-ready metadata: counts and a readable table of failures."""
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
            return f"at least {params['min_value']} row(s) loaded from each file"
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


def _batch_definition(asset_name: str) -> Any:
    datasource = _context().data_sources.get("oscp")
    try:
        asset = datasource.get_asset(asset_name)
    except LookupError:
        asset = datasource.add_dataframe_asset(asset_name)
    try:
        return asset.get_batch_definition("whole")
    except KeyError:
        return asset.add_batch_definition_whole_dataframe("whole")


# Which frame each kind of expectation is validated on (see ``validation_frames``).
FRAME_OF_KIND = {
    "not_null": "values",
    "in_set": "values",
    "between": "values",
    "row_count_between": "rows",
    "compound_unique": "keys",
}


def validation_frames(contract: SourceContract, accepted: pa.Table) -> dict[str, pd.DataFrame]:
    """The accepted rows reduced, in DuckDB, to frames on which each expectation gives the same
    verdict as on every row, so that Great Expectations costs little however many rows arrive.

    - ``values``: one row per distinct combination of the ``in_set`` columns and of whether
      each other checked column is blank, holding the group's least and greatest value of each
      ``between`` column (two rows per group). A value is outside a set or a range, or blank,
      in some row exactly when it is in some row of this frame.
    - ``rows``: as many (empty) rows as were accepted, for row-count expectations.
    - ``keys``: the rows whose ``compound_unique`` key is repeated (empty when it never is).
    """
    import duckdb

    by_kind: dict[str, list[Expectation]] = {}
    for expectation in contract.expectations:
        by_kind.setdefault(expectation.kind, []).append(expectation)
    exact = _unique(e.column for e in by_kind.get("in_set", []))
    ranged = _unique(e.column for e in by_kind.get("between", []) if e.column not in exact)
    present = _unique(
        e.column for e in by_kind.get("not_null", []) if e.column not in (*exact, *ranged)
    )
    frames = {"rows": pd.DataFrame(index=pd.RangeIndex(accepted.num_rows))}
    with duckdb.connect() as connection:
        connection.register("accepted", accepted)
        keys = [
            *(_quoted(c) for c in exact),
            *(f"{_quoted(c)} IS NULL" for c in (*ranged, *present)),
        ]
        columns = [
            *(_quoted(c) for c in exact),
            *(f"min({_quoted(c)}) AS {_quoted(c)}" for c in present),
            *(f"min({_quoted(c)}) AS {_quoted('min ' + c)}" for c in ranged),
            *(f"max({_quoted(c)}) AS {_quoted('max ' + c)}" for c in ranged),
        ]
        grouped = (
            connection.sql(
                f"SELECT {', '.join(columns)} FROM accepted GROUP BY {', '.join(keys)}"
            ).df()
            if columns
            else pd.DataFrame()
        )
        least = grouped.rename(columns={f"min {c}": c for c in ranged})
        greatest = grouped.rename(columns={f"max {c}": c for c in ranged})
        frames["values"] = pd.concat(
            [
                least.drop(columns=[f"max {c}" for c in ranged]),
                greatest.drop(columns=[f"min {c}" for c in ranged]),
            ],
            ignore_index=True,
        )
        key_columns = _unique(
            column for e in by_kind.get("compound_unique", []) for column in e.params["columns"]
        )
        repeated = []
        for expectation in by_kind.get("compound_unique", []):
            names = expectation.params["columns"]
            key = ", ".join(_quoted(c) for c in names)
            complete = " AND ".join(f"{_quoted(c)} IS NOT NULL" for c in names)
            # Keys are grouped by their 64-bit hash, far cheaper than long text keys; a hash
            # shared by two different keys only adds rows that GX then finds unique.
            repeated.append(
                connection.sql(
                    f"""
                    SELECT {", ".join(_quoted(c) for c in key_columns)} FROM accepted
                    WHERE {complete} AND hash({key}) IN (
                        SELECT hash({key}) FROM accepted WHERE {complete}
                        GROUP BY ALL HAVING count(*) > 1
                    )
                    """
                ).df()
            )
        frames["keys"] = pd.concat(repeated, ignore_index=True) if repeated else pd.DataFrame()
    return frames


def _unique(columns: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(c for c in columns if c is not None))


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def unexpected_rows(expectation: Expectation, accepted: pa.Table) -> int | None:
    """How many accepted rows break a failed column expectation (the frames count groups)."""
    if expectation.column is None:
        return None
    values = accepted.column(expectation.column)
    params = expectation.params
    match expectation.kind:
        case "not_null":
            return values.null_count
        case "in_set":
            allowed = pa.array(list(params["value_set"]), values.type)  # type: ignore[call-overload]
            outside = pc.sum(pc.invert(pc.is_in(values, allowed))).as_py() or 0
            return int(outside) - values.null_count  # blanks are not checked against the set
        case "between":
            low, high = params.get("min_value"), params.get("max_value")
            masks = [
                *([pc.less(values, low)] if low is not None else []),
                *([pc.greater(values, high)] if high is not None else []),
            ]
            outside = masks[0] if len(masks) == 1 else pc.or_(*masks)
            return int(pc.sum(outside).as_py() or 0)
    return None


def validate(contract: SourceContract, accepted: pa.Table) -> Verdict:
    """Validate a source's accepted rows against its contract's expectations.

    Great Expectations runs each expectation on the frame of ``validation_frames`` that
    stands for every row; an unexpected count is then counted in rows of the batch.
    """
    import great_expectations as gx

    _context()  # GX needs an active context before a suite can be built
    verdict = Verdict(contract.source_id, accepted.num_rows)
    frames = validation_frames(contract, accepted)
    by_position: dict[int, Any] = {}
    for frame_name, frame in frames.items():
        positions = [
            position
            for position, expectation in enumerate(contract.expectations)
            if FRAME_OF_KIND[expectation.kind] == frame_name
        ]
        if not positions:
            continue
        suite = gx.ExpectationSuite(name=f"{contract.source_id}_{frame_name}")
        for position in positions:
            suite.add_expectation(_gx_expectation(contract.expectations[position], position))
        batch = _batch_definition(f"{contract.source_id}_{frame_name}").get_batch(
            batch_parameters={"dataframe": frame}
        )
        result = batch.validate(suite, result_format="SUMMARY")
        # GX returns results in its own order; pair them back with the contract by position.
        by_position.update({r.expectation_config.meta["position"]: r for r in result.results})
    for position, expectation in enumerate(contract.expectations):
        outcome = by_position[position]
        details = outcome.result or {}
        unexpected = details.get("unexpected_count")
        if unexpected and FRAME_OF_KIND[expectation.kind] == "values":
            unexpected = unexpected_rows(expectation, accepted)
        verdict.outcomes.append(
            ExpectationOutcome(
                description=describe(expectation),
                why=expectation.why,
                success=bool(outcome.success),
                unexpected_count=unexpected,
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


HELD_BACK_STATUSES = ("rejected", "quarantined", "duplicate")


@dataclass
class AuditedBatch:
    """A batch's read, with the verdicts that decide whether it may be staged.

    Files held back (rejected whole, quarantined for failing an expectation, or exact
    duplicates of another delivery) are in the read's load log with their reasons; the rest of
    the batch may still be staged.
    """

    partition: str
    read: FileRead
    verdict: Verdict
    accounting_failures: list[dict[str, object]]

    @property
    def passed(self) -> bool:
        """Every row to be staged meets the contract and every row read is accounted for."""
        return self.verdict.success and not self.accounting_failures

    @property
    def held_back(self) -> list[dict[str, object]]:
        """Load-log lines of the files that were not loaded, with the reason for each."""
        return [
            line for line in self.read.load_log.to_pylist() if line["status"] in HELD_BACK_STATUSES
        ]


def audit(contract: SourceContract, partition: str, read: FileRead) -> AuditedBatch:
    """Validate a batch; when it fails, hold back just the files that make it fail.

    Files that load too few rows for the contract are quarantined first. Then the whole batch
    is validated at once (one GX call). Only when that fails is each loaded
    file validated on its own against the failed expectations; the files that fail are
    quarantined (their rows go to ``set_aside`` with the expectation that failed) and the rest
    is validated again. A failure no single file explains (e.g. a key repeated across files)
    fails the batch, which is then not staged at all.
    """
    too_few_rows = _files_with_too_few_rows(contract, read)
    if too_few_rows:
        read = quarantine_files(read, too_few_rows)
    verdict = _validate_loaded(contract, read)
    if not verdict.success:
        failing = _files_failing(contract, read, verdict)
        if failing:
            read = quarantine_files(read, failing)
            verdict = _validate_loaded(contract, read)
    failures = row_accounting_failures(read, contract.records_per_row)
    return AuditedBatch(partition, read, verdict, failures)


def _files_with_too_few_rows(contract: SourceContract, read: FileRead) -> dict[str, str]:
    """Loaded files whose own row count breaks a row-count expectation. Each file is held to it,
    not just the batch: one empty month among full ones is as suspect as an empty batch."""
    rules = [e for e in contract.expectations if e.kind == "row_count_between"]
    failing = {}
    for line in read.load_log.to_pylist():
        rows = int(line["rows_loaded"])
        for rule in rules:
            low, high = rule.params.get("min_value"), rule.params.get("max_value")
            too_few = low is not None and rows < int(low)  # type: ignore[call-overload]
            too_many = high is not None and rows > int(high)  # type: ignore[call-overload]
            if line["status"] == "loaded" and (too_few or too_many):
                failing[str(line["source_file"])] = (
                    f"expected {describe(rule)} ({rule.why}): found {rows}"
                )
    return failing


def _validate_loaded(contract: SourceContract, read: FileRead) -> Verdict:
    """Validate the accepted rows; a batch with no loaded file has nothing to validate (each
    of its files is already held back with its reason)."""
    if "loaded" not in read.load_log.column("status").to_pylist():
        return Verdict(contract.source_id, 0)
    return validate(contract, read.accepted)


def _files_failing(contract: SourceContract, read: FileRead, verdict: Verdict) -> dict[str, str]:
    """Each loaded file that breaks one of the batch's failed expectations on its own, with
    what it broke; a file with no accepted rows fails a row-count expectation on its own."""
    failed_positions = [i for i, outcome in enumerate(verdict.outcomes) if not outcome.success]
    narrowed = replace(
        contract, expectations=tuple(contract.expectations[i] for i in failed_positions)
    )
    loaded = [
        str(line["source_file"]) for line in read.load_log.to_pylist() if line["status"] == "loaded"
    ]
    files = read.accepted.column("source_file")
    failing = {}
    for source_file in loaded:
        rows = read.accepted.filter(pc.equal(files, source_file))
        file_verdict = validate(narrowed, rows)
        if not file_verdict.success:
            failing[source_file] = "; ".join(file_verdict.failures())
    return failing


def quarantine_files(read: FileRead, failing: dict[str, str]) -> FileRead:
    """Move every accepted row of the failing files to ``set_aside`` (one row per source row,
    reason code ``failed_expectation``) and mark their load-log lines ``quarantined``."""
    in_failing = pc.is_in(read.accepted.column("source_file"), pa.array(list(failing)))
    moved = read.accepted.filter(in_failing)
    already_aside = {
        (row["source_file"], row["row_number"])
        for row in read.set_aside.select(["source_file", "row_number"]).to_pylist()
        if row["source_file"] in failing
    }
    grouped: dict[tuple[str, int], list[dict[str, object]]] = {}
    for row in moved.to_pylist():
        key = (str(row.pop("source_file")), int(row.pop("row_number")))
        grouped.setdefault(key, []).append(row)
    source_id = str(read.load_log.column("source_id")[0])
    new_aside = [
        set_aside_row(
            source_id,
            source_file,
            row_number,
            "failed_expectation",
            f"The file was held back because it fails the source contract: {failing[source_file]}",
            json.dumps(parts[0] if len(parts) == 1 else parts, default=str),
        )
        for (source_file, row_number), parts in sorted(grouped.items())
        if (source_file, row_number) not in already_aside
    ]
    added = Counter(str(row["source_file"]) for row in new_aside)
    log = []
    for line in read.load_log.to_pylist():
        if line["source_file"] in failing:
            line = {
                **line,
                "status": "quarantined",
                "message": f"held back: {failing[str(line['source_file'])]}",
                "rows_loaded": 0,
                "rows_set_aside": int(line["rows_set_aside"]) + added[str(line["source_file"])],
            }
        log.append(line)
    log = restate_duplicates(log)  # a copy of a file quarantined now no longer says it loads
    return FileRead(
        read.accepted.filter(pc.invert(in_failing)),
        pa.concat_tables([read.set_aside, pa.Table.from_pylist(new_aside, SET_ASIDE_SCHEMA)]),
        pa.Table.from_pylist(log, LOAD_LOG_SCHEMA),
        read.warnings,
    )
