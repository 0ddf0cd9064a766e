"""The data-sharing specification for partners, rendered from the source contracts.

The contracts the pipeline enforces are the specification partners receive, so the two cannot
drift apart: ``docs/data-sharing-spec.md`` is generated from them (``make spec``) and a test
fails when it is out of date.
"""

from __future__ import annotations

from oscp_pipeline.quality import describe
from oscp_pipeline.sources import SOURCES
from oscp_pipeline.sources.base import SourceContract

INTRODUCTION = """\
# Data-sharing specification

What the Oxfordshire Safer Communities Partnership's pipeline expects of each extract. This page
is generated from the pipeline's own source contracts (`make spec`); do not edit it by hand.

Before sending a file, check it with the same rules the pipeline applies:

```sh
oscp validate path/to/<source folder>/your-file.csv     # exit 0: the pipeline would accept it
oscp validate your-file.csv --source <source id>
```

For every source:

- Column headers are matched ignoring case, surrounding spaces and column order; the names in
  "also accepted" are recognised too. An extra column is ignored with a warning; a missing
  required column rejects the file, naming the column and listing the headers found.
- Text files may be UTF-8 (with or without a byte-order mark) or Windows-1252. Blank lines at the
  end are ignored.
- A row that breaks a row rule is not loaded: it is kept aside with the reason, and counted. A file
  is accepted when it can be read and the checks on the rows loaded pass.
- Fields marked *personal* are recognised and dropped as the file is read: they never reach the
  warehouse, its logs or its outputs. Please do not send them at all where you can avoid it.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_contract(contract: SourceContract) -> str:
    """One source's section: files, columns, row rules and checks."""
    lines = [
        f"## {contract.title}",
        "",
        f"- Source id: `{contract.source_id}`",
        f"- Publisher: {contract.publisher}",
        f"- Files: `{contract.file_pattern}` under the raw data folder",
        "",
        "| column | required | also accepted | meaning |",
        "|---|---|---|---|",
    ]
    for column in contract.columns:
        if column.name.startswith("not_loaded_"):
            continue
        required = "personal: dropped" if column.personal else ("yes" if column.required else "no")
        aliases = ", ".join(f"`{alias}`" for alias in column.aliases) or ""
        lines.append(
            f"| `{_cell(column.header)}` | {required} | {_cell(aliases)} | "
            f"{_cell(column.description)} |"
        )
    lines += ["", "Row rules:", ""]
    lines += [f"- {rule}" for rule in contract.row_rules]
    lines += ["", "Checks on the rows loaded (all must pass):", ""]
    lines += [f"- {describe(e)}: {e.why}" for e in contract.expectations]
    return "\n".join(lines)


def render_specification() -> str:
    """The whole specification, one section per registered source."""
    sections = [INTRODUCTION, *(render_contract(spec.build_contract()) for spec in SOURCES)]
    return "\n\n".join(section.rstrip("\n") for section in sections) + "\n"
