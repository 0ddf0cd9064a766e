"""Serialise the steps that write shared files, across processes.

Two refreshes may be started at once (the schedule and an analyst's ``oscp run``, or two
analysts). Each writer of a shared place (a source's staging folder, the warehouse build and
publish) holds an exclusive ``flock`` on a lock file for as long as it writes. The second writer
waits, saying whom it waits for, and gives up with a clear message after ``wait_seconds``.
``flock`` locks belong to the open file, so a process killed with SIGKILL releases its lock at
once: a crashed refresh never leaves a lock that needs clearing by hand.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.2


def default_wait_seconds() -> float:
    """How long a writer waits for another refresh: ``OSCP_LOCK_WAIT_SECONDS``, else 30 min."""
    return float(os.environ.get("OSCP_LOCK_WAIT_SECONDS", "1800"))


class LockBusy(RuntimeError):
    """Another refresh kept the lock for longer than this one was willing to wait."""


def _holder_text(lock_path: Path) -> str:
    try:
        holder = json.loads(lock_path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another refresh"
    if not holder:
        return "another refresh"
    return (
        f"run {holder.get('run_id', '?')} (process {holder.get('pid', '?')}, "
        f"holding it since {holder.get('since', '?')})"
    )


@contextmanager
def exclusive_lock(
    lock_path: Path,
    holder: str,
    wait_seconds: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold ``lock_path`` exclusively; wait up to ``wait_seconds`` for another holder.

    ``holder`` (a run id) is written into the lock file so that a waiting process can say whom
    it is waiting for. Raises ``LockBusy`` naming the holder when the wait runs out.
    """
    if wait_seconds is None:
        wait_seconds = default_wait_seconds()
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        announced = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusy(
                        f"{lock_path.parent} is being written by {_holder_text(lock_path)}; "
                        f"gave up after waiting {wait_seconds:g} s. Let that refresh finish "
                        "(see the Dagster UI's Runs page), then run again."
                    ) from None
                if not announced and on_wait is not None:
                    on_wait(
                        f"Waiting for {_holder_text(lock_path)} to finish writing "
                        f"{lock_path.parent} (up to {wait_seconds:g} s)"
                    )
                    announced = True
                time.sleep(POLL_SECONDS)
        record = {
            "run_id": holder,
            "pid": os.getpid(),
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(record).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
