"""Hate crime extracts: totals and strands kept apart, strand rules, every row accounted for."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
from test_refresh import query, refresh

from oscp_pipeline import periods
from oscp_pipeline.sources import tvp_hate_crime
from oscp_pipeline.sources.base import FileRead, row_accounting_failures
from oscp_pipeline.synthetic import tvp_hate_crime as synthetic

SEED = 20140331
FOLDER = "tvp_hate_crime"
Q2_FILE = "tvp_hate_2013-14_Q2.csv"
HEADER = [
    "Month", "District", "Measure", "Total", "Race", "Religion or belief",
    "Sexual orientation", "Disability", "Transgender identity",
]  # fmt: skip
ROWS = [
    ["2013-07", "Cherwell", "Hate crime", "10", "8", "1", "1", "1", "0"],
    ["2013-07", "Oxford", "Hate crime", "20", "16", "2", "3", "1", "1"],
    ["2013-07", "Oxford", "Hate incident", "6", "5", "0", "1", "0", "0"],
    ["2013-08", "South Oxfordshire", "Hate crime", "4", "3", "0", "0", "1", "0"],
    ["2013-09", "Vale of White Horse", "Hate incident", "2", "2", "0", "0", "0", "1"],
]


def write_extract(
    raw: Path,
    rows: list[list[str]],
    name: str = Q2_FILE,
    header: list[str] = HEADER,
    encoding: str = "utf-8",
) -> Path:
    """An extract as the force's system writes it: CRLF, minimal quoting."""
    folder = raw / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header), *(",".join(row) for row in rows)]
    (folder / name).write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return folder / name


def read(raw: Path) -> FileRead:
    result = tvp_hate_crime.read_all(raw)
    assert row_accounting_failures(result) == []
    return result


def aside(result: FileRead) -> list[tuple[int, str, str]]:
    return [(r["row_number"], r["reason_code"], r["reason"]) for r in result.set_aside.to_pylist()]


def figures(result: FileRead) -> list[tuple[str, str, str, int]]:
    return [
        (f"{r['month']:%Y-%m}", r["measure_id"].split(".")[1], r["area_code"], r["value"])
        for r in result.accepted.to_pylist()
    ]


def test_the_sample_keeps_offences_and_strands_apart(tmp_path: Path) -> None:
    synthetic.generate(tmp_path, SEED)
    result = read(tmp_path)
    log = result.load_log.to_pylist()
    assert len(log) == 16 and {line["status"] for line in log} == {"loaded"}
    assert sum(line["rows_read"] for line in log) == 471
    # Older headers (Religion/faith, Transgender) and the 2014-15 byte-order mark read alike.
    assert result.warnings == []
    assert [line["encoding"] for line in log[-5:]] == ["utf-8"] + ["utf-8-sig"] * 4
    assert aside(result) == [
        (
            28,
            "total_exceeds_strands",
            "column 'Total': 2 offences but the strands flag only 1; every offence has at "
            "least one strand",
        )
    ]
    assert result.set_aside["source_file"].to_pylist() == [f"{FOLDER}/tvp_hate_2012-13_Q4.csv"]
    assert result.accepted.num_rows == 470 * 6
    totals: dict[tuple[str, str, str], int] = {}
    for row in result.accepted.to_pylist():
        year = periods.financial_year_label(periods.financial_year_start(row["month"]))
        key = (row["measure"], year, row["strand"] or "total")
        totals[key] = totals.get(key, 0) + row["value"]
    yearly = {
        measure: [totals[(measure, year, "total")] for year in ("2011-12", "2012-13")]
        for measure in ("crimes", "incidents")
    }
    assert yearly == {"crimes": [606, 625], "incidents": [234, 281]}
    for (measure, year, strand), total in totals.items():
        if strand != "total":
            continue
        strands = sum(totals[(measure, year, s)] for s in tvp_hate_crime.STRAND_HEADERS)
        assert 1.05 <= strands / total <= 1.15
        assert 0.70 <= totals[(measure, year, "race")] / total <= 0.82


def test_a_row_becomes_the_total_and_one_figure_per_strand(tmp_path: Path) -> None:
    write_extract(tmp_path, ROWS[:1])
    result = read(tmp_path)
    assert figures(result) == [
        ("2013-07", "crimes_total", "E07000177", 10),
        ("2013-07", "crimes_strand_race", "E07000177", 8),
        ("2013-07", "crimes_strand_religion", "E07000177", 1),
        ("2013-07", "crimes_strand_sexual_orientation", "E07000177", 1),
        ("2013-07", "crimes_strand_disability", "E07000177", 1),
        ("2013-07", "crimes_strand_transgender_identity", "E07000177", 0),
    ]
    assert result.accepted["strand"].to_pylist()[:2] == [None, "race"]
    assert set(result.accepted["row_number"].to_pylist()) == {2}


@pytest.mark.parametrize(
    ("row", "code", "reason"),
    [
        (
            ["2013-07", "Oxford", "Hate crime", "3", "4", "0", "0", "0", "0"],
            "strand_exceeds_total",
            "column 'Race': 4 offences flagged with the strand, more than the Total of 3",
        ),
        (
            ["2013-07", "Oxford", "Hate crime", "5", "3", "1", "0", "0", "0"],
            "total_exceeds_strands",
            "column 'Total': 5 offences but the strands flag only 4; every offence has at "
            "least one strand",
        ),
        (
            ["2013-07", "Oxford", "Hate crimes (all)", "5", "5", "0", "0", "0", "0"],
            "unknown_measure",
            "column 'Measure': 'Hate crimes (all)' is not 'Hate crime' or 'Hate incident'",
        ),
        (
            ["2013-07", "Reading", "Hate crime", "5", "5", "0", "0", "0", "0"],
            "unknown_district",
            "column 'District': 'Reading' is not a known Oxfordshire district (a new "
            "spelling of one is added to area_aliases.csv)",
        ),
        (
            ["2013-07", "South and Vale", "Hate crime", "5", "5", "0", "0", "0", "0"],
            "unknown_district",
            "column 'District': 'South and Vale' (OSCP-SOUTHVALE) is not a district; figures "
            "are loaded per district",
        ),
        (
            ["07/2013", "Oxford", "Hate crime", "5", "5", "0", "0", "0", "0"],
            "invalid_month",
            "column 'Month': '07/2013' is not a date in the declared format(s) %Y-%m",
        ),
        (
            ["2013-10", "Oxford", "Hate crime", "5", "5", "0", "0", "0", "0"],
            "month_outside_file",
            "column 'Month': 2013-10 is outside 2013-14 Q2, the quarter the file name gives",
        ),
        (
            ["2013-07", "Oxford", "Hate crime", "5", "-1", "", "x", "0", "0"],
            "invalid_count",
            "column 'Race': '-1' is not a count (a whole number, 0 or more); column 'Religion "
            "or belief': is blank; expected a count (a whole number, 0 or more); column "
            "'Sexual orientation': 'x' is not a count (a whole number, 0 or more)",
        ),
    ],
)
def test_a_row_breaking_a_rule_is_set_aside_with_its_reason(
    tmp_path: Path, row: list[str], code: str, reason: str
) -> None:
    write_extract(tmp_path, [ROWS[0], row])
    result = read(tmp_path)
    assert aside(result) == [(3, code, reason)]
    assert set(result.accepted["row_number"].to_pylist()) == {2}
    (record,) = result.set_aside["record"].to_pylist()
    assert record.startswith('{"Month": "' + row[0] + '", "District": "' + row[1])


def test_repeated_rows_and_malformed_rows_are_set_aside(tmp_path: Path) -> None:
    write_extract(
        tmp_path, [ROWS[0], ROWS[1], ["2013-07", "Oxford City", "hate  crime", "1", "1"], ROWS[1]]
    )
    result = read(tmp_path)
    repeated = (
        "rows 3 and 5 give the same month, district and measure (2013-07, E07000178, Hate "
        "crime): none of them is loaded"
    )
    assert aside(result) == [
        (3, "repeated_key", repeated),
        (4, "malformed_row", "row has 5 fields; the header has 9"),
        (5, "repeated_key", repeated),
    ]
    assert set(result.accepted["row_number"].to_pylist()) == {2}


def test_a_totals_line_is_checked_and_not_loaded(tmp_path: Path) -> None:
    total = ["2013-07", "Total", "Hate crime", "30", "24", "3", "4", "2", "1"]
    wrong = ["2013-07", "Oxfordshire", "Hate incident", "7", "5", "0", "1", "0", "0"]
    write_extract(tmp_path, [*ROWS, total, wrong])
    result = read(tmp_path)
    assert aside(result) == [
        (
            4,
            "totals_mismatch",
            "row 8 (Oxfordshire, 2013-07, Hate incident), column 'Total': total 7 but districts "
            "sum to 6; which district is wrong cannot be told, so no district row of that "
            "month and measure is loaded",
        ),
        (
            7,
            "totals_line",
            "row 7 (Total, 2013-07, Hate crime): totals line, checked against the districts; "
            "totals are not loaded",
        ),
        (
            8,
            "totals_mismatch",
            "row 8 (Oxfordshire, 2013-07, Hate incident), column 'Total': total 7 but districts "
            "sum to 6",
        ),
    ]
    assert set(result.accepted["row_number"].to_pylist()) == {2, 3, 5, 6}


@pytest.mark.parametrize(
    ("name", "header", "message"),
    [
        (
            "tvp_hate_Q2_2013.csv",
            HEADER,
            "the file name is not tvp_hate_YYYY-YY_QN.csv (e.g. tvp_hate_2013-14_Q2.csv), so "
            "the quarter it covers is not known",
        ),
        (
            Q2_FILE,
            HEADER[:-1],
            "required column(s) 'Transgender identity' not found; the first row has 8 cell(s), "
            "of which 8 are known headers ('Month', 'District', 'Measure', 'Total', 'Race', "
            "'Religion or belief', 'Sexual orientation', 'Disability')",
        ),
    ],
)
def test_an_extract_that_cannot_be_read_is_rejected_naming_the_problem(
    tmp_path: Path, name: str, header: list[str], message: str
) -> None:
    write_extract(tmp_path, [row[: len(header)] for row in ROWS], name, header)
    result = read(tmp_path)
    (line,) = result.load_log.to_pylist()
    assert (line["status"], line["message"], line["rows_read"]) == ("rejected", message, 0)


def test_a_later_delivery_of_the_same_quarter_replaces_the_earlier(tmp_path: Path) -> None:
    write_extract(tmp_path, ROWS)
    write_extract(tmp_path, ROWS[:2], "tvp_hate_2013-14_Q2_resent.csv")
    result = read(tmp_path)
    assert set(result.accepted["source_file"].to_pylist()) == {
        f"{FOLDER}/tvp_hate_2013-14_Q2_resent.csv"
    }
    assert aside(result)[0] == (
        2,
        "superseded",
        f"2013-14 Q2 is loaded from {FOLDER}/tvp_hate_2013-14_Q2_resent.csv, a later delivery "
        "of the same quarter",
    )
    assert len(aside(result)) == 5


def test_column_order_header_spelling_and_encoding_leave_the_figures_unchanged(
    tmp_path: Path,
) -> None:
    write_extract(tmp_path / "plain", ROWS)
    expected = figures(read(tmp_path / "plain"))
    order = [3, 0, 8, 1, 4, 5, 2, 6, 7]
    older = ["TOTAL", " month", "Transgender", "district ", "Race", "Religion/faith", "MEASURE",
             "Sexual  orientation", "Disability", "Officer\u2019s note"]  # fmt: skip
    rows = [[row[i] for i in order] + ["café"] for row in ROWS]
    variants = {
        "bom": (codecs.BOM_UTF8.decode("utf-8") + older[0], *older[1:]),
        "cp1252": tuple(older),
    }
    for name, header in variants.items():
        encoding = "cp1252" if name == "cp1252" else "utf-8"
        write_extract(tmp_path / name, rows, header=list(header), encoding=encoding)
        result = read(tmp_path / name)
        assert figures(result) == expected
        assert result.warnings == [f"{FOLDER}/{Q2_FILE}: ignored 1 unknown column(s): column 10"]
        assert result.load_log["encoding"].to_pylist() == [
            "utf-8-sig" if name == "bom" else "cp1252"
        ]


def test_refresh_publishes_totals_and_strands_as_separate_measures(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    write_extract(raw, ROWS)
    bad = ["2013-10", "Oxford", "Hate crime", "5", "3", "0", "0", "0", "0"]
    write_extract(raw, [["2013-10", "Cherwell", "Hate crime", "2", "2", "0", "0", "0", "0"], bad],
                  "tvp_hate_2013-14_Q3.csv")  # fmt: skip
    result = refresh(raw, wh, instance)
    assert result.success
    assert query(
        wh,
        """SELECT measure, count(*) FILTER (strand IS NULL), sum(value) FILTER (strand IS NULL),
                  sum(value) FILTER (strand IS NOT NULL)
           FROM tvp_hate_crime GROUP BY 1 ORDER BY 1""",
    ) == [("crimes", 4, 36, 40), ("incidents", 2, 8, 9)]
    oxford_july = query(
        wh,
        """SELECT measure_id, value FROM observations
           WHERE area_code = 'E07000178' AND period_start = DATE '2013-07-01'
           AND measure_id LIKE 'tvp_hate_crime.crimes%' ORDER BY 1""",
    )
    assert oxford_july == [
        ("tvp_hate_crime.crimes_strand_disability", 1.0),
        ("tvp_hate_crime.crimes_strand_race", 16.0),
        ("tvp_hate_crime.crimes_strand_religion", 2.0),
        ("tvp_hate_crime.crimes_strand_sexual_orientation", 3.0),
        ("tvp_hate_crime.crimes_strand_transgender_identity", 1.0),
        ("tvp_hate_crime.crimes_total", 20.0),
    ]
    # Every district (and the county's unallocated part), month and measure of a loaded quarter
    # has a figure: 0 where the extract had no row, unknown (NULL) where it set a row aside.
    # 12 measures for 6 areas: 72 a month.
    assert query(
        wh,
        """SELECT period_start, value_status, count(*), sum(value) FROM observations
           WHERE source_id = 'tvp_hate_crime' GROUP BY ALL ORDER BY ALL""",
    ) == [
        (dt.date(2013, 7, 1), "reported", 72, (10 + 11) + (20 + 23) + (6 + 6)),
        (dt.date(2013, 8, 1), "reported", 72, 4 + 4),
        (dt.date(2013, 9, 1), "reported", 72, 2 + 3),
        (dt.date(2013, 10, 1), "not_available", 72 - 6, None),
        (dt.date(2013, 10, 1), "reported", 6, 2 + 2),
        (dt.date(2013, 11, 1), "not_available", 72, None),
        (dt.date(2013, 12, 1), "not_available", 72, None),
    ]
    assert query(
        wh,
        """SELECT measure_name FROM dim_measure
           WHERE measure_id = 'tvp_hate_crime.crimes_strand_race'""",
    ) == [
        (
            "Hate crimes, race strand (Thames Valley Police): offences flagged with the strand "
            "(an offence with two strands counts in both; strands do not add up to the total)",
        )
    ]
    (check,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "tvp_hate_crime_strands_consistent"
    ]
    assert not check.passed


def test_figures_whose_district_is_not_known_count_towards_the_county(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    """A row for 'Oxfordshire (district unknown)' is the county's unallocated part: the months
    it has no row for are 0, so its quarter is complete and the county total includes it."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    unknown = [
        "2013-08",
        "Oxfordshire (district unknown)",
        "Hate crime",
        "3",
        "3",
        "0",
        "0",
        "0",
        "0",
    ]
    write_extract(raw, [*ROWS, unknown])
    result = refresh(raw, wh, instance)
    assert result.success
    assert query(
        wh,
        """SELECT period_start, value FROM observations
           WHERE area_code = 'OSCP-UNALLOCATED' AND measure_id = 'tvp_hate_crime.crimes_total'
           ORDER BY 1""",
    ) == [(dt.date(2013, 7, 1), 0.0), (dt.date(2013, 8, 1), 3.0), (dt.date(2013, 9, 1), 0.0)]
    assert query(
        wh,
        """SELECT area_type, value, value_status FROM scorecard
           WHERE indicator_id = 'hate_crimes' AND quarter_start = DATE '2013-07-01'
           AND area_type IN ('county', 'unallocated') ORDER BY 1""",
    ) == [("county", 10 + 20 + 4 + 3.0, "reported"), ("unallocated", 3.0, "reported")]
