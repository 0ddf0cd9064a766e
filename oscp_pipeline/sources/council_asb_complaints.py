"""District councils' domestic noise and domestic waste complaints, one row per complaint.

Each council sends a quarterly extract in its own layout. The layouts are declared, not coded,
in ``council_asb_layouts.py``; this module is the one reader for all of them. It maps each
council's labels to the canonical (service, category) through the layout's map, never to a
silent "other", reads dates only in the formats the layout declares, checks a totals line where
the layout has one, and counts each complaint once per council by its reference. Counts are
monthly per district, zero-filled for the months of every quarter a council delivered.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pyarrow as pa

from oscp_pipeline import periods
from oscp_pipeline.reference import districts, resolve_area
from oscp_pipeline.sources.base import (
    DELIVERY_ORDER_RULE,
    LOAD_LOG_SCHEMA,
    SET_ASIDE_SCHEMA,
    Column,
    Expectation,
    FileRead,
    FileRejected,
    RawRecords,
    SourceContract,
    SourceSpec,
    decode_to_utf8,
    latest_deliveries,
    load_log_row,
    malformed_row,
    measure_row,
    outside_quarter,
    parse_date,
    quarter_period,
    quoted_code,
    read_delimited,
    read_each_delivery_once,
    read_xlsx_rows,
    read_xlsx_table,
    recorded_code,
    rejected_log_row,
    relative_source_file,
    rows_per_file,
    set_aside_row,
    sha256_of,
    superseded_reason,
    unknown_columns_warnings,
    withheld_record_value,
    withheld_value,
)
from oscp_pipeline.sources.council_asb_layouts import (
    CANONICAL_CATEGORIES,
    CATEGORY,
    DATE_RECEIVED,
    DETAILS,
    DISTRICT,
    LAYOUTS,
    NOISE,
    READ_COLUMNS,
    REFERENCE,
    REFERENCE_SHAPE,
    REQUIRED_COLUMNS,
    SERVICE,
    WARD,
    WASTE,
    CouncilLayout,
    is_case_reference,
)

SOURCE_ID = "council_asb_complaints"
QUARTER_IN_NAME = re.compile(r"(?P<year>\d{4}-\d{2})[ _-]?Q(?P<quarter>[1-4])(?![0-9])", re.I)
MEASURES = {NOISE: "domestic_noise", WASTE: "domestic_waste"}

ACCEPTED_SCHEMA = pa.schema(
    [
        ("reference", pa.string()),
        ("date_received", pa.date32()),
        ("month", pa.date32()),
        ("service", pa.string()),
        ("category", pa.string()),
        ("category_published", pa.string()),
        ("area_code", pa.string()),
        ("council_layout", pa.string()),
        ("source_file", pa.string()),
        ("row_number", pa.int64()),
    ]
)

# What the layouts provide, each under its own header (see council_asb_layouts.py).
COLUMN_MEANINGS = {
    REFERENCE: f"The council's case reference, unique within the council: {REFERENCE_SHAPE}",
    DATE_RECEIVED: "Date the complaint was received",
    SERVICE: "Noise or waste",
    CATEGORY: "The council's category label, mapped by its layout",
    DISTRICT: "District, where one file covers two districts",
    WARD: "Ward or parish (not loaded, nor kept in set-aside records)",
    DETAILS: "Officers' free-text notes",
}


def layout_columns(layouts: Sequence[CouncilLayout] = LAYOUTS) -> tuple[Column, ...]:
    """The columns of the source, each with the header every layout gives it."""
    columns = []
    for name, meaning in COLUMN_MEANINGS.items():
        used = [(layout.title, layout.column(name)) for layout in layouts]
        headers = "; ".join(f"{title}: '{column.header}'" for title, column in used if column)
        columns.append(
            Column(
                name,
                name.replace("_", " "),
                f"{meaning}. {headers or 'no layout has it'}",
                required=name in REQUIRED_COLUMNS,
                personal=any(column.personal for _, column in used if column),
            )
        )
    return tuple(columns)


def layout_rule(layout: CouncilLayout) -> str:
    """One layout's declaration in words, for the data-sharing specification."""
    form = f"sheet '{layout.sheet}'" if layout.sheet else " or ".join(layout.encodings)
    district_column = layout.column(DISTRICT)
    district = (
        layout.district or f"from column '{district_column.header if district_column else ''}'"
    )
    labels = ", ".join(
        f"'{label}' = {service}/{category}"
        for label, (service, category) in layout.categories.items()
    )
    totals = (
        f"; ends with a totals line like '{layout.totals_line.example}'"
        if layout.totals_line
        else ""
    )
    return (
        f"{layout.title} layout ({layout.folder}/{layout.file_glob}, {layout.file_type}, {form}): "
        f"dates {' or '.join(layout.date_formats)}; "
        f"district {district}; categories {labels}{totals}."
    )


def build_contract() -> SourceContract:
    """The source contract: what every layout must give, and the rules on the rows read."""
    return SourceContract(
        source_id=SOURCE_ID,
        title="District council domestic noise and domestic waste complaints",
        publisher="Oxfordshire district councils (partner extracts, not published)",
        file_pattern="; ".join(
            f"{SOURCE_ID}/{layout.folder}/{layout.file_glob} ({layout.title}, {layout.file_type})"
            for layout in LAYOUTS
        ),
        columns=layout_columns(),
        row_rules=(
            "Each file name carries the financial quarter it covers, e.g. _2013-14_Q2.",
            "Dates are read only in the formats the council's layout declares; a date that "
            "fits none, or fits two as different dates, is set aside.",
            "A complaint received outside the quarter its file covers is set aside.",
            "Categories map to (service, category) through the layout's category map; an "
            "unmapped label is set aside naming it, never counted as 'other'.",
            "A service column that disagrees with the category's service is set aside.",
            "A joint file's district column must name one of the council area's districts.",
            "A reference is counted once per council; a repeat is set aside.",
            "A reference not shaped as the reference column says (a name typed into the "
            "column, say) sets the row aside, described by its length, not quoted.",
            "A set-aside row's record keeps only the columns read above (never the ward, parish "
            "or notes); a value in them that does not look like a code or a category is "
            "replaced by a note of its length.",
            "When two readable files of a council cover the same quarter, the later delivery is "
            "loaded and the other's rows are set aside as superseded. " + DELIVERY_ORDER_RULE,
            "A layout's totals line must equal the number of complaint rows, else the file is "
            "rejected; the line itself is set aside, not loaded.",
            *(layout_rule(layout) for layout in LAYOUTS),
        ),
        expectations=(
            Expectation(
                "row_count_between",
                "councils' files hold complaints",
                params={"min_value": 1},
            ),
            Expectation("not_null", "every complaint has a date", "date_received"),
            Expectation(
                "in_set",
                "complaints belong to the five Oxfordshire districts",
                "area_code",
                {"value_set": sorted(districts().values())},
            ),
            Expectation(
                "in_set",
                "services are domestic noise or domestic waste",
                "service",
                {"value_set": sorted(CANONICAL_CATEGORIES)},
            ),
            Expectation(
                "in_set",
                "categories are the canonical vocabulary",
                "category",
                {"value_set": sorted({c for cs in CANONICAL_CATEGORIES.values() for c in cs})},
            ),
            Expectation(
                "compound_unique",
                "a complaint is counted once per council",
                None,
                {"columns": ["council_layout", "reference"]},
            ),
        ),
    )


def discover_files(
    raw_dir: Path, layouts: Sequence[CouncilLayout] = LAYOUTS
) -> tuple[list[tuple[Path, list[CouncilLayout]]], list[str]]:
    """Each delivered file with the layouts whose pattern it matches (one, unless two layouts
    of a folder overlap), and warnings naming the files and folders no layout reads."""
    root = raw_dir / SOURCE_ID
    if not root.is_dir():
        return [], []
    found: list[tuple[Path, list[CouncilLayout]]] = []
    folders = ", ".join(sorted({layout.folder for layout in layouts}))
    warnings = [
        f"{SOURCE_ID}/{path.name}: not read; each council's files go in its folder ({folders})"
        for path in sorted(root.iterdir())
        if path.is_file()
    ]
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        in_folder = [layout for layout in layouts if layout.folder == folder.name]
        if not in_folder:
            warnings.append(f"{SOURCE_ID}/{folder.name}/: no council layout reads this folder")
            continue
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            claims = [layout for layout in in_folder if fnmatch(path.name, layout.file_glob)]
            if claims:
                found.append((path, claims))
            else:
                patterns = ", ".join(layout.file_glob for layout in in_folder)
                warnings.append(
                    f"{SOURCE_ID}/{folder.name}/{path.name}: not read; "
                    f"the layouts of this folder read {patterns}"
                )
    return found, warnings


def file_quarter(name: str, source_file: str) -> dt.date:
    """First day of the financial quarter a file's name says it covers."""
    match = QUARTER_IN_NAME.search(name)
    if match:
        try:
            return periods.quarter_start_of_label(f"{match['year']} Q{match['quarter']}")
        except ValueError:
            pass
    raise FileRejected(
        source_file, "the file name does not name the quarter it covers, like '_2013-14_Q2'"
    )


@dataclass
class _FileOutcome:
    quarter: dt.date | None = None
    encoding: str = ""
    rows_read: int = 0
    rejected: str = ""


def read_all(raw_dir: Path, layouts: Sequence[CouncilLayout] = LAYOUTS) -> FileRead:
    """Read every council's files, each with its declared layout.

    Files are read first; of two readable deliveries of one council's quarter, the later is
    loaded and the earlier's rows are set aside as superseded. References are then checked
    across the files loaded, so a complaint is counted once.
    """
    found, warnings = discover_files(raw_dir, layouts)
    claims_of = dict(found)

    def read_files(paths: list[Path], raw_dir: Path) -> FileRead:
        return _read_council_files([(path, claims_of[path]) for path in paths], raw_dir)

    # Only the quarter tells a copy from another delivery: the same bytes in another
    # council's folder are a copy misplaced, not a second council's complaints.
    read = read_each_delivery_once(
        SOURCE_ID,
        read_files,
        list(claims_of),
        raw_dir,
        named_period=lambda path: file_quarter(path.name, ""),
    )
    return FileRead(read.accepted, read.set_aside, read.load_log, warnings + read.warnings)


def _read_council_files(found: list[tuple[Path, list[CouncilLayout]]], raw_dir: Path) -> FileRead:
    """Read the given files, each with the layout that claims it (see ``read_all``)."""
    warnings: list[str] = []
    outcomes: dict[str, tuple[str, _FileOutcome]] = {}
    readable: dict[str, tuple[Path, tuple[str, dt.date]]] = {}
    contents: dict[str, tuple[CouncilLayout, RawRecords, dict[str, object] | None]] = {}
    for path, claims in found:
        source_file = relative_source_file(path, raw_dir)
        outcome = _FileOutcome()
        outcomes[source_file] = (sha256_of(path), outcome)
        try:
            if len(claims) > 1:
                names = " and ".join(layout.layout_id for layout in claims)
                raise FileRejected(source_file, f"the layouts {names} both read this file")
            layout = claims[0]
            quarter = outcome.quarter = file_quarter(path.name, source_file)
            records = _read_layout_file(path, layout, source_file)
            totals = _totals_line(path, layout, records, source_file)
        except FileRejected as rejected:
            outcome.rejected = rejected.problem
            continue
        outcome.encoding = records.encoding
        outcome.rows_read = records.table.num_rows + len(records.malformed)
        if records.encoding not in layout.encodings:
            warnings.append(
                f"{source_file}: arrived as {records.encoding}; the {layout.title} layout "
                f"expects {' or '.join(layout.encodings)}"
            )
        warnings.extend(unknown_columns_warnings(source_file, records.unknown_columns))
        warnings.extend(records.warnings)  # stray bytes in the text, if any
        readable[source_file] = (path, (layout.council, quarter))
        contents[source_file] = (layout, records, totals)
    replaced, order_warnings = latest_deliveries(readable)
    accepted: list[dict[str, object]] = []
    set_aside: list[dict[str, object]] = []
    # Per council: reference -> (file, row) it was loaded from.
    loaded: dict[str, dict[str, tuple[str, int]]] = {}
    for source_file, (layout, records, totals) in contents.items():
        quarter = readable[source_file][1][1]
        if totals is not None:
            set_aside.append(totals)
        for malformed in records.malformed:
            if totals is None or malformed.number != totals["row_number"]:
                set_aside.append(
                    malformed_row(SOURCE_ID, source_file, malformed, records.header_fields)
                )
        references = loaded.setdefault(layout.council, {})
        for row in records.table.to_pylist():
            if totals is not None and row["row_number"] == totals["row_number"]:
                continue
            if source_file in replaced:
                set_aside.append(_superseded(row, layout, quarter, source_file, replaced))
                continue
            kept, aside = _classify(row, layout, quarter, source_file, references)
            if kept is not None:
                accepted.append(kept)
            if aside is not None:
                set_aside.append(aside)
    set_aside.sort(key=_file_order)
    return FileRead(
        pa.Table.from_pylist(accepted, ACCEPTED_SCHEMA),
        pa.Table.from_pylist(set_aside, SET_ASIDE_SCHEMA),
        _load_log(outcomes, accepted, set_aside),
        warnings + order_warnings,
        replaced,
    )


def _superseded(
    row: dict[str, str],
    layout: CouncilLayout,
    quarter: dt.date,
    source_file: str,
    replaced: dict[str, str],
) -> dict[str, object]:
    """The set-aside row of a complaint in a delivery that a later one replaces."""
    reason = f"{layout.council} {superseded_reason(quarter, replaced[source_file])}"
    number = int(row["row_number"])
    return set_aside_row(SOURCE_ID, source_file, number, "superseded", reason, _record(row, layout))


def _file_order(row: dict[str, object]) -> tuple[str, int]:
    number = row["row_number"]
    assert isinstance(number, int)
    return str(row["source_file"]), number


def _read_layout_file(path: Path, layout: CouncilLayout, source_file: str) -> RawRecords:
    if layout.file_type == "xlsx":
        return read_xlsx_table(path, layout.columns, source_file, layout.sheet)
    return read_delimited(path, layout.columns, source_file)


def _last_line(path: Path, layout: CouncilLayout, source_file: str) -> list[str]:
    """The cells of the file's last non-blank line (a worksheet's without its trailing blanks)."""
    if layout.file_type == "xlsx":
        _, rows = read_xlsx_rows(path, source_file, layout.sheet)
        cells = next((row for row in reversed(rows) if any(row)), [])
        return cells[: max((i + 1 for i, cell in enumerate(cells) if cell), default=0)]
    text = decode_to_utf8(path.read_bytes())[0].decode("utf-8")
    line = next((line for line in reversed(text.splitlines()) if line.strip()), "")
    return next(csv.reader([line]), [])


def _totals_line(
    path: Path, layout: CouncilLayout, records: RawRecords, source_file: str
) -> dict[str, object] | None:
    """The set-aside row of the layout's totals line, once checked against the detail rows.

    A missing totals line, or one that disagrees with the rows above it, rejects the file: the
    delivery is incomplete or not what the council counted. The line is named by its row
    number, never quoted: a last line that is not a totals line is a complaint row, which may
    name the complainant.
    """
    if layout.totals_line is None:
        return None
    numbers = [*records.table["row_number"].to_pylist(), *(row.number for row in records.malformed)]
    expected = (
        f"the {layout.title} layout ends with a totals line like {layout.totals_line.example!r}"
    )
    if not numbers:
        raise FileRejected(source_file, f"{expected}; the file has no line below the header")
    cells = _last_line(path, layout, source_file)
    stated = layout.totals_line.match(cells)
    row_number, detail_rows = max(numbers), len(numbers) - 1
    if stated is None:
        raise FileRejected(
            source_file,
            f"{expected}; the last line (row {row_number}, {len(cells)} fields) is not one",
        )
    if stated != detail_rows:
        raise FileRejected(
            source_file,
            f"totals line {row_number} states {stated} complaints but the file has "
            f"{detail_rows} complaint rows",
        )
    reason = (
        f"totals line: {stated} complaints, agreeing with the {detail_rows} complaint rows "
        "above it; not loaded as data"
    )
    # Only the count the line states: its label cell is free text.
    record = json.dumps({"total": stated})
    return set_aside_row(SOURCE_ID, source_file, row_number, "totals_line", reason, record)


def _record(row: dict[str, str], layout: CouncilLayout) -> str:
    """A complaint row as delivered, as JSON, with only the columns the reader reads: the ward
    and notes are typed by hand and never loaded. A value that is not shaped as its column's
    values are (free text typed into a coded column) is replaced by a note of its length."""
    return json.dumps(
        {
            c.header: _recorded(c.name, row.get(c.name))
            for c in layout.columns
            if c.name in READ_COLUMNS
        },
        ensure_ascii=False,
    )


def _recorded(name: str, value: str | None) -> str | None:
    if not value or not value.strip():
        return value
    if name == REFERENCE:
        return value if is_case_reference(value) else withheld_record_value(value)
    return recorded_code(value)


def _classify(
    row: dict[str, str],
    layout: CouncilLayout,
    quarter: dt.date,
    source_file: str,
    references: dict[str, tuple[str, int]],
) -> tuple[dict[str, object] | None, dict[str, object] | None]:
    """(accepted row, None) or (None, set-aside row) for one complaint row."""
    number = int(row["row_number"])
    record = _record(row, layout)

    def aside(code: str, reason: str) -> tuple[None, dict[str, object]]:
        return None, set_aside_row(SOURCE_ID, source_file, number, code, reason, record)

    def header(name: str) -> str:
        column = layout.column(name)
        assert column is not None
        return column.header

    reference = (row[REFERENCE] or "").strip()
    if not reference:
        return aside("missing_reference", f"column '{header(REFERENCE)}' is blank")
    if not is_case_reference(reference):
        return aside(
            "invalid_reference",
            f"column '{header(REFERENCE)}': {withheld_value(reference)} is not a case "
            f"reference, which is {REFERENCE_SHAPE}",
        )
    received, error = parse_date(row[DATE_RECEIVED] or "", layout.date_formats)
    if received is None:
        return aside("invalid_date", f"column '{header(DATE_RECEIVED)}': {error}")
    outside = outside_quarter(header(DATE_RECEIVED), received, quarter)
    if outside is not None:
        return aside("date_outside_file", outside)
    council_districts = layout.districts()
    if layout.district is not None:
        area_code = council_districts[layout.district]
    else:
        published = (row[DISTRICT] or "").strip()
        area_code = resolve_area(published) or ""
        if area_code not in council_districts.values():
            return aside(
                "unknown_district",
                f"{quoted_code(published, 'district')} in column '{header(DISTRICT)}' is not "
                "one of the "
                f"{layout.title} layout's districts ({', '.join(council_districts)})",
            )
    label = (row[CATEGORY] or "").strip()
    mapped = layout.category_of(label)
    if mapped is None:
        return aside(
            "unknown_category",
            f"{quoted_code(label, 'category')} in column '{header(CATEGORY)}' is not in the "
            f"{layout.title} "
            "layout's category map",
        )
    service, category = mapped
    if layout.column(SERVICE) is not None:
        service_label = (row[SERVICE] or "").strip()
        stated = layout.service_of(service_label)
        if stated is None:
            return aside(
                "unknown_service",
                f"{quoted_code(service_label, 'service')} in column '{header(SERVICE)}' is not "
                "in the "
                f"{layout.title} layout's service map",
            )
        if stated != service:
            return aside(
                "service_mismatch",
                f"column '{header(SERVICE)}' says '{service_label}' ({stated}) but category "
                f"'{label}' is a {service} category in the {layout.title} layout's map",
            )
    first = references.get(reference)
    if first is not None:
        return aside(
            "duplicate_reference",
            f"reference '{reference}' in column '{header(REFERENCE)}' was already loaded for "
            f"{layout.council} from {first[0]} row {first[1]}",
        )
    references[reference] = (source_file, number)
    accepted = {
        "reference": reference,
        "date_received": received,
        "month": received.replace(day=1),
        "service": service,
        "category": category,
        "category_published": label,
        "area_code": area_code,
        "council_layout": layout.layout_id,
        "source_file": source_file,
        "row_number": number,
    }
    return accepted, None


def _load_log(
    outcomes: dict[str, tuple[str, _FileOutcome]],
    accepted: list[dict[str, object]],
    set_aside: list[dict[str, object]],
) -> pa.Table:
    """One line per file; the period is the quarter its name gives."""
    loaded, aside = rows_per_file(accepted), rows_per_file(set_aside)
    lines = []
    for source_file, (sha256, outcome) in outcomes.items():
        if outcome.rejected:
            lines.append(rejected_log_row(SOURCE_ID, source_file, sha256, outcome.rejected))
            continue
        assert outcome.quarter is not None
        period = quarter_period(outcome.quarter)
        counts = (outcome.rows_read, loaded.get(source_file, 0), aside.get(source_file, 0))
        lines.append(load_log_row(SOURCE_ID, source_file, sha256, outcome.encoding, period, counts))
    return pa.Table.from_pylist(lines, LOAD_LOG_SCHEMA)


def measures() -> list[dict[str, str | None]]:
    return [
        measure_row(
            f"{SOURCE_ID}.{MEASURES[NOISE]}",
            SOURCE_ID,
            "Domestic noise complaints to district councils",
            "complaints",
            "month",
        ),
        measure_row(
            f"{SOURCE_ID}.{MEASURES[WASTE]}",
            SOURCE_ID,
            "Domestic waste complaints to district councils",
            "complaints",
            "month",
        ),
    ]


RECONCILE_SQL = """
SELECT 'council_asb_complaints' AS source_id, coalesce(r.month, o.period_start) AS period_start,
       coalesce(r.area_code, o.area_code) AS area_code, r.n AS records, o.n AS observations
FROM (SELECT month, area_code, count(*) AS n FROM council_asb_complaints GROUP BY ALL) AS r
FULL JOIN (SELECT period_start, area_code, sum(value) AS n FROM observations
           WHERE source_id = 'council_asb_complaints' GROUP BY ALL) AS o
    ON o.period_start = r.month AND o.area_code = r.area_code
WHERE coalesce(r.n, 0) <> coalesce(o.n, 0)
"""

SPEC = SourceSpec(
    source_id=SOURCE_ID,
    title="District council domestic noise and domestic waste complaints",
    group="district_councils",
    accepted_schema=ACCEPTED_SCHEMA,
    record_tables=(SOURCE_ID,),
    build_contract=build_contract,
    measures=measures,
    read_all=read_all,
    reconcile_sql=RECONCILE_SQL,
)
