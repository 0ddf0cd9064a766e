"""Check one delivery before it is sent: the same read and audit the pipeline would run.

A partner runs ``oscp validate FILE`` and gets the pipeline's own verdict on that file: whether it
can be read, which rows would be set aside and why, and whether the source contract's
expectations pass. Nothing is written anywhere but a temporary folder.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from oscp_pipeline.quality import AuditedBatch, audit
from oscp_pipeline.sources import SOURCES, police_uk
from oscp_pipeline.sources.base import SourceSpec

EXAMPLES_PER_REASON = 3


class NotRecognised(ValueError):
    """The file's source or place in the source's layout cannot be told; the message says how."""


@dataclass
class Validation:
    """The verdict on one file, ready to print."""

    source_id: str
    path: Path
    batch: AuditedBatch

    @property
    def accepted(self) -> bool:
        """Accepted when a refresh would load it: it passes and is not held back."""
        return self.batch.passed and not self.batch.held_back

    def report(self) -> str:
        read = self.batch.read
        lines = []
        for log in read.load_log.to_pylist():
            if log["status"] not in ("loaded", "superseded"):
                lines.append(f"{str(log['status']).upper()} {self.path}: {log['message']}")
            else:
                lines.append(
                    f"{self.path}: {log['rows_read']} rows read, {log['rows_loaded']} would be "
                    f"loaded, {log['rows_set_aside']} set aside ({log['encoding']})"
                )
        reasons = Counter(read.set_aside.column("reason_code").to_pylist())
        examples = read.set_aside.select(["row_number", "reason_code", "reason"]).to_pylist()
        for code, count in reasons.most_common():
            lines.append(f"  set aside, {code}: {count} row(s), e.g.")
            shown = [e for e in examples if e["reason_code"] == code][:EXAMPLES_PER_REASON]
            lines.extend(f"    row {e['row_number']}: {e['reason']}" for e in shown)
        lines.extend(f"  warning: {warning}" for warning in read.warnings)
        verdict = self.batch.verdict
        lines.append(f"  expectations: {verdict.summary()}")
        for failure in self.batch.accounting_failures:
            lines.append(f"  row accounting failed: {failure}")
        outcome = "ACCEPTED" if self.accepted else "NOT ACCEPTED"
        lines.append(f"{outcome}: {self.source_id} contract")
        return "\n".join(lines)


def source_of_path(path: Path) -> SourceSpec:
    """The source whose folder the file sits in (``.../police_uk/2014-01/file.csv``)."""
    by_id = {spec.source_id: spec for spec in SOURCES}
    for folder in reversed(path.resolve().parent.parts):
        if folder in by_id:
            return by_id[folder]
    raise NotRecognised(
        f"cannot tell the source of {path} from its folder; pass --source, one of: "
        + ", ".join(sorted(by_id))
    )


def _layout_relative_path(path: Path, spec: SourceSpec) -> Path:
    """Where the file sits under its source folder, as the pipeline expects to find it."""
    parts = path.resolve().parts
    if spec.source_id in parts[:-1]:
        index = len(parts) - 1 - parts[::-1].index(spec.source_id)
        return Path(*parts[index:])
    if spec.source_id == police_uk.SOURCE_ID:
        try:
            month = police_uk.file_month(path)
        except ValueError as error:
            raise NotRecognised(f"{error}, as data.police.uk names its files") from error
        return Path(spec.source_id, month.strftime("%Y-%m"), path.name)
    return Path(spec.source_id, path.name)


def validate_file(path: Path, source_id: str | None = None) -> Validation:
    """Read and audit one file exactly as a refresh would, in a scratch raw folder."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not a file")
    if source_id is None:
        spec = source_of_path(path)
    else:
        spec = next((s for s in SOURCES if s.source_id == source_id), None)
        if spec is None:
            known = ", ".join(sorted(s.source_id for s in SOURCES))
            raise NotRecognised(f"no source {source_id!r}; sources are: {known}")
    assert spec.read_all is not None
    with tempfile.TemporaryDirectory(prefix="oscp-validate-") as scratch:
        raw = Path(scratch)
        target = raw / _layout_relative_path(path, spec)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        read = spec.read_all(raw)
        batch = audit(spec.build_contract(), path.name, read)
    return Validation(spec.source_id, path, batch)
