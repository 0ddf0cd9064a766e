"""The warehouse's row accounting: every row read is loaded once or set aside, file by file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import SAMPLE_RAW_DIR

from oscp_pipeline import ingestion, quality, staging, warehouse
from oscp_pipeline.sources import police_uk
from oscp_pipeline.sources.base import FileRead, row_accounting_failures


def _stage_first_police_quarter(store: Path) -> str:
    """Stage the bundled sample's first quarter of street files as a refresh does."""
    quarter = police_uk.quarters_present(SAMPLE_RAW_DIR)[0]
    partition = quarter.isoformat()
    batch = ingestion.ingest_police_uk_quarter(
        SAMPLE_RAW_DIR, store / "staging", store / "quarantine", partition, "run-1",
        dt.datetime(2026, 1, 1),
    )  # fmt: skip
    assert batch is not None and batch.passed
    return partition


def _row_accounting(store: Path) -> warehouse.InvariantResult:
    built = warehouse.build(store / "staging", store, "run-2")
    return next(result for result in built.invariants if result.name == "row_accounting")


def test_staged_street_rows_are_each_counted_once(tmp_path: Path) -> None:
    _stage_first_police_quarter(tmp_path)
    result = _row_accounting(tmp_path)
    assert result.passed, result.failures


def test_a_street_row_loaded_twice_fails_the_row_accounting(tmp_path: Path) -> None:
    """Street rows are one record each, so a record in the warehouse twice is caught, even
    though its row number is the same both times."""
    partition = _stage_first_police_quarter(tmp_path)
    accepted_path = (
        staging.partition_dir(tmp_path / "staging", police_uk.SOURCE_ID, partition)
        / "accepted.parquet"
    )
    accepted = pq.read_table(accepted_path)
    first_file = accepted.column("source_file")[0].as_py()
    repeated = accepted.filter(pa.compute.equal(accepted.column("source_file"), first_file))
    pq.write_table(pa.concat_tables([accepted, repeated.slice(0, 1)]), accepted_path)

    result = _row_accounting(tmp_path)

    assert not result.passed
    [failure] = result.failures
    assert failure["source_file"] == first_file
    assert failure["rows_in_record_tables"] == failure["rows_loaded"] + 1


def test_a_batch_with_a_street_row_accepted_twice_is_not_staged(tmp_path: Path) -> None:
    """The audit before staging counts records for a source whose row is one record, so a row
    accepted twice is caught there already, naming the file and both counts; counting distinct
    row numbers (right for wide layouts) cannot see it."""
    quarter = police_uk.quarters_present(SAMPLE_RAW_DIR)[0]
    read = police_uk.read_street_files(
        police_uk.files_for_quarters(SAMPLE_RAW_DIR, [quarter]), SAMPLE_RAW_DIR
    )
    # An anti-social behaviour row: it has no Crime ID, so no expectation on IDs can catch it.
    asb_row = read.accepted.filter(read.accepted.column("crime_id").is_null()).slice(0, 1)
    first_file = asb_row.column("source_file")[0].as_py()
    doubled = FileRead(
        pa.concat_tables([read.accepted, asb_row]),
        read.set_aside,
        read.load_log,
        read.warnings,
    )

    batch = quality.audit(police_uk.build_contract(), quarter.isoformat(), doubled)

    assert not batch.passed
    [failure] = batch.accounting_failures
    assert failure["source_file"] == first_file
    assert failure["rows_accepted_found"] == failure["rows_loaded"] + 1
    assert row_accounting_failures(doubled, "several") == []


def test_rows_from_a_file_missing_from_the_load_log_fail_the_row_accounting(
    tmp_path: Path,
) -> None:
    """Rows in the record tables and set_aside must come from files the load log accounts for:
    checking only the load log's lines would publish rows from a file it does not name."""
    partition = _stage_first_police_quarter(tmp_path)
    load_log_path = (
        staging.partition_dir(tmp_path / "staging", police_uk.SOURCE_ID, partition)
        / "load_log.parquet"
    )
    load_log = pq.read_table(load_log_path)
    forgotten = load_log.column("source_file")[0].as_py()
    pq.write_table(load_log.slice(1), load_log_path)

    result = _row_accounting(tmp_path)

    assert not result.passed
    [failure] = result.failures
    assert failure["source_file"] == forgotten
    assert failure["source_id"] == police_uk.SOURCE_ID
    assert failure["in_load_log"] is False
    assert failure["rows_read"] is None
    assert failure["rows_in_record_tables"] > 0
