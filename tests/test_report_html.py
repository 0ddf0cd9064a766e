"""The bi-annual HTML report: parsed back, checked against the warehouse, drawn by a browser."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import pytest
from conftest import SAMPLE_RAW_DIR, copy_tree
from test_refresh import query, refresh

from oscp_pipeline import warehouse
from oscp_pipeline.reports.disclosure import WITHHELD_NOTE
from oscp_pipeline.reports.html import TITLE, number, scorecard_html, write_biannual_report
from oscp_pipeline.scorecard.build import SUPPRESSION_NOTES
from oscp_pipeline.synthetic import MARKER_NAME

H1_2013_14 = dt.date(2013, 9, 30)
FULL_2014_15 = dt.date(2015, 3, 31)
CELL = re.compile(
    r'<td class="cell[^"]*" data-indicator="([^"]+)" data-area="([^"]+)"[^>]*>(.*?)</td>', re.S
)
VOID_TAGS = {"br", "img", "meta", "hr", "input"}
SUBTITLE = "SYNTHETIC sample data <not real> & illustrative"


class ReportParser(HTMLParser):
    """Collects findings, scorecard cells, charts and their series-break markers."""

    def __init__(self) -> None:
        super().__init__()
        self.findings: list[str] = []
        self.cells: dict[tuple[str, str], str] = {}
        self.charts: list[str] = []
        self.breaks: set[tuple[str, str]] = set()
        self.subtitle = ""
        self._capture: tuple | None = None
        self._depth = 0
        self._chart: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if self._capture:
            self._depth += tag not in VOID_TAGS
        elif tag == "span" and "finding" in classes:
            self._capture, self._depth, self._text = ("finding",), 0, []
        elif tag == "td" and "cell" in classes:
            key = (a["data-indicator"], a["data-area"])
            self._capture, self._depth, self._text = ("cell", key), 0, []
        elif tag == "p" and "subtitle" in classes:
            self._capture, self._depth, self._text = ("subtitle",), 0, []
        if tag == "svg":
            self._chart = a["data-indicator"]
            self.charts.append(self._chart)
        if tag == "g" and "series-break" in classes:
            self.breaks.add((self._chart, a["data-break-date"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._chart = None
        if not self._capture:
            return
        if self._depth:
            self._depth -= 1
            return
        text = "".join(self._text)
        if self._capture[0] == "finding":
            self.findings.append(text)
        elif self._capture[0] == "cell":
            self.cells[self._capture[1]] = text
        else:
            self.subtitle = text
        self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._text.append(data)


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse_dir = tmp_path_factory.mktemp("report") / "wh"
    result = refresh(SAMPLE_RAW_DIR, warehouse_dir, dg.DagsterInstance.ephemeral())
    assert result.success
    return warehouse_dir


@pytest.fixture(scope="module")
def report(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    with warehouse.read_only(sample_warehouse) as connection:
        assert write_biannual_report(connection, path, H1_2013_14, subtitle=SUBTITLE) == path
    return path


@pytest.fixture(scope="module")
def parsed(report: Path) -> ReportParser:
    parser = ReportParser()
    parser.feed(report.read_text(encoding="utf-8"))
    return parser


def test_the_report_carries_the_headline_findings(parsed: ReportParser, report: Path) -> None:
    assert (
        "Domestic abuse crimes, domestic abuse incidents and Stop Hate UK have too few quarters "
        "for reliable trends." in parsed.findings
    )
    assert "Among the ASB data sets, fly tipping and domestic noise increased." in parsed.findings
    assert parsed.subtitle == SUBTITLE  # escaped in the file, read back as written
    assert "<not real>" not in report.read_text(encoding="utf-8")


def test_the_scorecard_table_shows_the_warehouse_values(
    parsed: ReportParser, sample_warehouse: Path
) -> None:
    rows = query(
        sample_warehouse,
        """SELECT indicator_id, area_code, value, change_pct, suppressed FROM scorecard
           WHERE quarter_start = DATE '2013-07-01' AND area_type IN ('county', 'csp')""",
    )
    assert len(parsed.cells) == len(rows)
    for indicator_id in (
        "all_crime",
        "domestic_abuse_crimes",
        "fly_tipping",
        "ho_burglary_dwelling",
    ):
        county = next(r for r in rows if r[0] == indicator_id and r[1] == "E10000025")
        cell = parsed.cells[(indicator_id, "E10000025")]
        assert cell.startswith(number(county[2])) and f"{county[3]:+.1f}%" in cell
    suppressed = [r for r in rows if r[4]]
    assert suppressed, "the sample has suppressed CSP cells"
    for indicator_id, area_code, _value, _change, _ in suppressed:
        cell = parsed.cells[(indicator_id, area_code)]
        # "*" and its footnote numbers only: no count and no change
        assert cell.startswith("*") and cell[1:].replace(",", "").isdigit()


def test_one_chart_per_indicator_with_the_series_breaks(
    parsed: ReportParser, sample_warehouse: Path
) -> None:
    indicators = {
        i for (i,) in query(sample_warehouse, "SELECT DISTINCT indicator_id FROM scorecard")
    }
    assert sorted(parsed.charts) == sorted(indicators)
    expected = {
        (i, d.isoformat())
        for i, d in query(
            sample_warehouse,
            """SELECT DISTINCT m.indicator_id, b.break_date
               FROM series_break b JOIN dim_indicator_measure m USING (measure_id)
               WHERE b.break_date BETWEEN (SELECT min(quarter_start) FROM scorecard)
                 AND DATE '2013-09-30'""",
        )
    }
    assert expected, "the sample has series breaks before 2013-14 Q2"
    assert parsed.breaks == expected
    assert ("domestic_abuse_crimes", "2013-04-01") in parsed.breaks


@pytest.fixture(scope="module")
def full_year(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("html") / "full-year.html"
    with warehouse.read_only(sample_warehouse) as connection:
        write_biannual_report(connection, path, FULL_2014_15)
    return path.read_text(encoding="utf-8")


def printed_cells(document: str) -> dict[tuple[str, str], tuple[str, str, bool]]:
    """Each scorecard table cell: (the text shown, its change text, whether it has an arrow)."""
    cells = {}
    for indicator_id, area_code, inner in CELL.findall(document):
        change = re.search(r'<span class="change">(.*?)</span>', inner)
        shown = re.sub(r"<[^>]+>", "", inner)
        cells[(indicator_id, area_code)] = (
            shown,
            change.group(1) if change else "",
            "arrow" in inner,
        )
    return cells


def cell_flags(sample_warehouse: Path, quarter: dt.date) -> dict[tuple[str, str], tuple]:
    """(withheld, last year withheld, compares part of a quarter) of the quarter's cells."""
    rows = query(
        sample_warehouse,
        f"""SELECT s.indicator_id, s.area_code, s.suppressed, coalesce(ly.suppressed, FALSE),
                  'partly_not_applicable' IN (s.value_status, coalesce(ly.value_status, ''))
           FROM scorecard s LEFT JOIN scorecard ly ON ly.indicator_id = s.indicator_id
            AND ly.area_code = s.area_code AND ly.quarter_start = s.quarter_start - INTERVAL 1 YEAR
           WHERE s.quarter_start = DATE '{quarter}' AND s.area_type IN ('county', 'csp')""",
    )
    return {(i, a): flags for i, a, *flags in rows}


@pytest.mark.parametrize("which", ["half_year", "full_year"])
def test_no_printed_change_lets_a_withheld_value_be_worked_out(
    which: str, report: Path, full_year: str, sample_warehouse: Path
) -> None:
    """A change is printed only between two quarters neither withheld nor part of a quarter
    (value and change % give the other quarter); withheld cells have no arrow and share one
    neutral footnote, which never says why a cell is withheld."""
    document, quarter = {
        "half_year": (report.read_text(encoding="utf-8"), dt.date(2013, 7, 1)),
        "full_year": (full_year, dt.date(2015, 1, 1)),
    }[which]
    flags = cell_flags(sample_warehouse, quarter)
    cells = printed_cells(document)
    assert cells.keys() == flags.keys()
    against_withheld = 0
    for key, (shown, change, has_arrow) in cells.items():
        withheld, last_year_withheld, part_quarter = flags[key]
        if withheld:
            assert shown.startswith("*") and change == "" and not has_arrow, key
        elif last_year_withheld:
            against_withheld += 1
            assert change == "*" and not has_arrow, key
        elif part_quarter:
            assert change == "" and not has_arrow, key
        if re.fullmatch(r"[+-]\d+\.\d%", change):
            assert not (withheld or last_year_withheld or part_quarter), key
    assert against_withheld == {"half_year": 0, "full_year": 4}[which]
    notes = re.search(r'<ol class="notes">(.*?)</ol>', document, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", notes).count(WITHHELD_NOTE) == 1
    for detailed in SUPPRESSION_NOTES.values():
        assert detailed not in document
    assert "1 to 4" not in document


def test_no_change_is_printed_for_part_of_a_quarter(sample_warehouse: Path) -> None:
    with warehouse.read_only(sample_warehouse) as connection:
        table = scorecard_html(connection, dt.date(2014, 10, 1))
    partial = {k: v for k, v in printed_cells(table).items() if k[0] == "s27_directions"}
    assert len(partial) == 5
    for shown, change, has_arrow in partial.values():
        assert shown[0].isdigit() and change == "" and not has_arrow


def test_charts_mark_the_quarters_without_a_point_and_part_quarters(
    full_year: str, sample_warehouse: Path
) -> None:
    rows = query(
        sample_warehouse,
        """SELECT indicator_id, fy_quarter, value_status, suppressed FROM scorecard
           WHERE area_type = 'county' AND quarter_start <= DATE '2015-01-01'
             AND (value IS NULL OR suppressed OR value_status = 'partly_not_applicable')""",
    )
    assert {(i, q, s) for i, q, s, _ in rows} >= {
        ("hate_incidents", "2012-13 Q4", "not_available"),
        ("s27_directions", "2014-15 Q3", "partly_not_applicable"),
        ("s27_directions", "2014-15 Q4", "not_applicable"),
    }
    figures = dict(re.findall(r'<figure data-indicator="([^"]+)">(.*?)</figure>', full_year, re.S))
    for indicator_id, fy_quarter, status, withheld in rows:
        figure = figures[indicator_id]
        if status == "partly_not_applicable" and not withheld:
            assert f"<title>{fy_quarter}: " in figure and 'class="part-quarter"' in figure
        else:
            reason = "withheld" if withheld else status
            assert f'<g class="gap" data-quarter="{fy_quarter}" data-reason="{reason}">' in figure
    s27 = figures["s27_directions"]
    (partial,) = re.findall(r'<circle class="part-quarter" cx="([\d.]+)" cy="([\d.]+)"', s27)
    (line,) = re.findall(r'<polyline class="series" points="([^"]+)"', s27)
    assert ",".join(partial) not in line  # not joined to the line
    assert (
        '<p class="chart-notes">No point for 2014-15 Q4: not applicable (the measure did not '
        "exist). Open circle for 2014-15 Q3: counts only part of the quarter (the measure ended "
        "or began within it), so it is not joined to the line or compared.</p>"
    ) in s27
    assert (
        '<p class="chart-notes">No point for 2012-13 Q4: not available (a month or an area of '
        "the quarter was not supplied).</p>"
    ) in figures["hate_incidents"]
    noted = [i for i, figure in figures.items() if 'class="chart-notes"' in figure]
    assert sorted(noted) == sorted({i for i, *_ in rows})


def test_the_report_renders_in_a_browser(report: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("Chromium is not installed: the report is not drawn in a browser here")
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={screenshot}", "--window-size=1280,2000",
         report.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", report.as_uri()],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert TITLE in dom and "<svg" in dom


def test_reports_from_a_copy_of_the_synthetic_sample_say_the_data_are_synthetic(
    tmp_path: Path,
) -> None:
    """The banner follows the sample's marker file, not the folder's path: a copy read through
    OSCP_RAW_DIR is labelled too, and a folder without the marker is not."""
    from openpyxl import load_workbook

    raw, wh = tmp_path / "copy-of-sample", tmp_path / "wh"
    for month in ("2014-01", "2014-02", "2014-03"):
        copy_tree(SAMPLE_RAW_DIR / "police_uk" / month, raw / "police_uk" / month)
    shutil.copyfile(SAMPLE_RAW_DIR / MARKER_NAME, raw / MARKER_NAME)
    html = wh / "reports" / "oscp-report-2013-14-Q4.html"
    excel = wh / "reports" / "oscp-scorecard-2013-14-Q4.xlsx"

    def banners() -> tuple[str, str]:
        parser = ReportParser()
        parser.feed(html.read_text(encoding="utf-8"))
        return parser.subtitle, str(load_workbook(excel)["County"]["A2"].value or "")

    assert refresh(raw, wh, dg.DagsterInstance.ephemeral()).success
    synthetic = "Built from the bundled SYNTHETIC sample data: no real records"
    assert banners() == (synthetic, synthetic)
    # The marker is no delivery: no source read it.
    assert query(wh, f"SELECT count(*) FROM load_log WHERE source_file LIKE '%{MARKER_NAME}'") == [
        (0,)
    ]

    (raw / MARKER_NAME).unlink()
    assert refresh(raw, wh, dg.DagsterInstance.ephemeral()).success
    assert banners() == ("", "")
