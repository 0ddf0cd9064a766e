"""Staging: each source's accepted rows, set-aside rows and load log as Parquet, per partition.

Staging is private to the pipeline. A partition directory is replaced whole (written beside,
then renamed into place), so a re-run of a quarter never leaves a mix of old and new files.
Writers of one source take its lock, so two refreshes never interleave their renames, and the
scratch folders a killed writer left behind are removed by the next one.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from oscp_pipeline.locking import exclusive_lock
from oscp_pipeline.sources.base import FileRead


def partition_dir(staging_root: Path, source_id: str, partition: str) -> Path:
    return staging_root / source_id / partition


def write_partition(
    staging_root: Path,
    source_id: str,
    partition: str,
    read: FileRead,
    run_id: str,
    loaded_at: dt.datetime,
) -> Path:
    """Replace one partition's staged files atomically; stamps the load log with the run."""
    target = partition_dir(staging_root, source_id, partition)
    target.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(target.parent / LOCK_NAME, run_id):
        _remove_scratch(target.parent)
        return _replace_partition(target, read, run_id, loaded_at)


LOCK_NAME = ".lock"


def _remove_scratch(source_dir: Path) -> None:
    """Tidy up after a writer that was killed: half-written partitions are removed, and a
    retired partition whose replacement never arrived is put back.

    Called with the source's lock held, so no other writer can be using them.
    """
    for leftover in sorted(source_dir.iterdir()):
        if not (leftover.is_dir() and leftover.name.startswith(".")):
            continue
        if leftover.name.startswith(RETIRED_PREFIX):
            partition = leftover.name[len(RETIRED_PREFIX) :].rsplit(".", 1)[0]
            if not (source_dir / partition).exists():
                os.replace(leftover, source_dir / partition)
                continue
        shutil.rmtree(leftover, ignore_errors=True)


RETIRED_PREFIX = ".retired."


def _replace_partition(target: Path, read: FileRead, run_id: str, loaded_at: dt.datetime) -> Path:
    partition = target.name
    scratch = target.parent / f".{partition}.{uuid.uuid4().hex}"
    scratch.mkdir()
    log = read.load_log
    log = log.append_column("loaded_at", pa.array([loaded_at] * log.num_rows, pa.timestamp("us")))
    log = log.append_column("run_id", pa.array([run_id] * log.num_rows, pa.string()))
    for name, table in (
        ("accepted", read.accepted),
        ("set_aside", read.set_aside),
        ("load_log", log),
    ):
        # No column statistics: the build reads every staged file whole, so they would only
        # cost time (a sixth of writing a national quarter).
        pq.write_table(table, scratch / f"{name}.parquet", write_statistics=False)
    retired = None
    if target.exists():
        retired = target.parent / f"{RETIRED_PREFIX}{partition}.{uuid.uuid4().hex}"
        os.replace(target, retired)
    os.replace(scratch, target)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    return target


def remove_partition(staging_root: Path, source_id: str, partition: str, run_id: str) -> None:
    """Forget a partition whose raw files are gone, so the warehouse no longer shows it."""
    target = partition_dir(staging_root, source_id, partition)
    if not target.parent.is_dir():
        return
    with exclusive_lock(target.parent / LOCK_NAME, run_id):
        _remove_scratch(target.parent)
        if target.exists():
            # Renamed away first, so a kill mid-way never leaves a partly deleted partition.
            removed = target.parent / f".removed.{partition}.{uuid.uuid4().hex}"
            os.replace(target, removed)
            shutil.rmtree(removed, ignore_errors=True)


def snapshot_source(
    staging_root: Path,
    source_id: str,
    destination: Path,
    holder: str,
    on_wait: Callable[[str], None] | None = None,
) -> None:
    """Link one source's staged files into ``destination`` (laid out as staging is), under the
    source's lock, so that a reader sees one consistent state of the source.

    A staged file is never written again: a partition is replaced by renaming a new folder into
    place. A hard link therefore keeps the files exactly as they are now, whatever is staged
    later, and costs a directory entry, not a copy of the data. Where a link cannot be made
    (``destination`` on another file system) the file is copied, streamed through the kernel.
    """
    source_dir = staging_root / source_id
    if not source_dir.is_dir():
        return
    with exclusive_lock(source_dir / LOCK_NAME, holder, on_wait=on_wait):
        for partition in sorted(source_dir.iterdir()):
            if not partition.is_dir() or partition.name.startswith("."):
                continue
            target = destination / source_id / partition.name
            target.mkdir(parents=True)
            for staged in sorted(partition.glob("*.parquet")):
                try:
                    os.link(staged, target / staged.name)
                except OSError:
                    shutil.copyfile(staged, target / staged.name)


def staged_files(staging_root: Path, source_id: str, part: str) -> list[Path]:
    """Every staged Parquet file of one kind for a source, in partition order."""
    folder = staging_root / source_id
    if not folder.is_dir():
        return []
    return sorted(
        path / f"{part}.parquet"
        for path in folder.iterdir()
        if path.is_dir() and not path.name.startswith(".") and (path / f"{part}.parquet").exists()
    )
