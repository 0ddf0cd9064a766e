"""Stop Hate UK exports: CSV and JSON read alike, rows set aside with reasons, and the caller's
personal fields dropped as the file is read, so that they reach nothing the pipeline writes."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import logging
import shutil
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_RAW_DIR
from test_refresh import query, refresh

from oscp_pipeline import warehouse
from oscp_pipeline.sources import stop_hate_uk
from oscp_pipeline.sources.base import row_accounting_failures
from oscp_pipeline.validate import validate_file

HEADER = [
    "Reference", "Date Received", "Report Type", "Hate Motivation", "Incident Type",
    "Method of Contact", "Area", "Caller Name", "Caller Phone", "Caller Email", "Narrative",
]  # fmt: skip
PERSONAL_HEADERS = ("Caller Name", "Caller Phone", "Caller Email", "Narrative")
UNALLOCATED = "OSCP-UNALLOCATED"
OXFORD, CHERWELL = "E07000178", "E07000177"


def report(
    reference: str = "SHUK-2013-000101",
    received: str = "15/07/2013",
    report_type: str = "Incident report",
    motivation: str = "Race",
    incident_type: str = "Verbal abuse",
    method: str = "Phone",
    area: str = "Oxford",
    caller: int = 1,
) -> list[str]:
    """One export row with fake personal fields numbered by ``caller``."""
    return [
        reference, received, report_type, motivation, incident_type, method, area,
        f"Sample Caller {caller:04d}", f"07700 900{caller:03d}", f"caller{caller:03d}@example.org",
        f"SYNTHETIC narrative {caller:04d}: abuse in the street, caller upset",
    ]  # fmt: skip


def csv_text(rows: list[list[str]], header: list[str] = HEADER) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(raw: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder = raw / "stop_hate_uk"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def write_json(raw: Path, name: str, rows: list[list[str]], wrapped: bool = False) -> Path:
    """The JSON export: ISO dates, a list of objects, optionally inside ``records``."""
    objects = []
    for row in rows:
        record = dict(zip(HEADER, row, strict=True))
        day = dt.datetime.strptime(record["Date Received"], "%d/%m/%Y").date()
        record["Date Received"] = day.isoformat()
        objects.append(record)
    folder = raw / "stop_hate_uk"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    document = {"quarter": "as named", "records": objects} if wrapped else objects
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def read(raw: Path) -> stop_hate_uk.FileRead:
    return stop_hate_uk.read_all(raw)


LOADED = ["reference", "date_received", "report_type", "incident_type", "method_of_contact",
          "area_code", "motivations", "motivation_count"]  # fmt: skip


def loaded(result: stop_hate_uk.FileRead) -> list[dict[str, object]]:
    return result.accepted.select(LOADED).to_pylist()


# --- the sample ---------------------------------------------------------------------------------


def test_the_sample_exports_in_csv_and_json_are_all_read(tmp_path: Path) -> None:
    result = read(SAMPLE_RAW_DIR)
    log = result.load_log.to_pylist()
    assert [line["source_file"].rsplit("/", 1)[1] for line in log] == [
        "stop_hate_uk_2012-13_Q3.csv", "stop_hate_uk_2012-13_Q4.csv",
        "stop_hate_uk_2013-14_Q1.csv", "stop_hate_uk_2013-14_Q2.json",
        "stop_hate_uk_2013-14_Q3.json", "stop_hate_uk_2013-14_Q4.csv",
        "stop_hate_uk_2014-15_Q1.json", "stop_hate_uk_2014-15_Q2.csv",
        "stop_hate_uk_2014-15_Q3.json", "stop_hate_uk_2014-15_Q4.csv",
    ]  # fmt: skip
    assert {line["status"] for line in log} == {"loaded"}
    first_period = (log[0]["period_start"], log[0]["period_end"])
    assert first_period == (dt.date(2012, 10, 1), dt.date(2012, 12, 31))
    assert [line["rows_read"] for line in log] == [9, 9, 7, 6, 9, 12, 9, 10, 7, 14]
    assert sum(line["rows_loaded"] for line in log) == 90
    assert result.accepted.num_rows == 90
    assert row_accounting_failures(result) == []
    assert result.warnings == []
    # The two quirks of the sample: a report exported twice, and a motivation not in the list.
    assert result.set_aside.select(["source_file", "row_number", "reason"]).to_pylist() == [
        {
            "source_file": "stop_hate_uk/stop_hate_uk_2013-14_Q4.csv",
            "row_number": 10,
            "reason": "column 'Reference': SHUK-2014-000440 appears again; the report is loaded "
            "from stop_hate_uk/stop_hate_uk_2013-14_Q4.csv row 9",
        },
        {
            "source_file": "stop_hate_uk/stop_hate_uk_2014-15_Q2.csv",
            "row_number": 7,
            "reason": "column 'Hate Motivation': 'Age' is not one of Race, Religion/faith, "
            "Sexual orientation, Disability, Transgender identity, Other",
        },
    ]
    # Small numbers, many without a district, over the whole life of the service.
    dates = result.accepted["date_received"].to_pylist()
    assert (min(dates), max(dates)) == (dt.date(2012, 10, 5), dt.date(2015, 3, 27))
    areas = result.accepted["area_code"].to_pylist()
    assert areas.count(UNALLOCATED) == 46
    assert result.accepted["report_type"].to_pylist().count("Incident report") == 62


def test_csv_and_json_exports_of_the_same_reports_load_identically(tmp_path: Path) -> None:
    rows = [
        report("SHUK-2013-000101", "01/07/2013", motivation="Race;Religion/faith"),
        report("SHUK-2013-000102", "12/08/2013", "Contact", "Disability", "Online", "App",
               "Oxfordshire", caller=2),
        report("SHUK-2013-000103", "30/09/2013", area="Oxford City", caller=3),
    ]  # fmt: skip
    write_csv(tmp_path / "csv", "stop_hate_uk_2013-14_Q2.csv", csv_text(rows))
    write_json(tmp_path / "list", "stop_hate_uk_2013-14_Q2.json", rows)
    write_json(tmp_path / "records", "stop_hate_uk_2013-14_Q2.json", rows, wrapped=True)
    expected = [
        {"reference": "SHUK-2013-000101", "date_received": dt.date(2013, 7, 1),
         "report_type": "Incident report", "incident_type": "Verbal abuse",
         "method_of_contact": "Phone", "area_code": OXFORD, "motivations": "Race;Religion",
         "motivation_count": 2},
        {"reference": "SHUK-2013-000102", "date_received": dt.date(2013, 8, 12),
         "report_type": "Contact", "incident_type": "Online", "method_of_contact": "App",
         "area_code": UNALLOCATED, "motivations": "Disability", "motivation_count": 1},
        {"reference": "SHUK-2013-000103", "date_received": dt.date(2013, 9, 30),
         "report_type": "Incident report", "incident_type": "Verbal abuse",
         "method_of_contact": "Phone", "area_code": OXFORD, "motivations": "Race",
         "motivation_count": 1},
    ]  # fmt: skip
    for folder in ("csv", "list", "records"):
        result = read(tmp_path / folder)
        assert loaded(result) == expected, folder
        assert result.accepted["row_number"].to_pylist() == (
            [2, 3, 4] if folder == "csv" else [1, 2, 3]
        )
        assert result.warnings == []  # personal columns are known, not "unknown"
        assert row_accounting_failures(result) == []


# --- rows set aside -------------------------------------------------------------------------


def test_rows_breaking_a_rule_are_set_aside_naming_column_value_and_expectation(
    tmp_path: Path,
) -> None:
    rows = [
        report("SHUK-2013-000101"),
        report("SHUK-13-101", caller=2),
        report("SHUK-2013-000103", "31/06/2013", caller=3),
        report("SHUK-2013-000104", "2013-07-15", caller=4),
        report("SHUK-2013-000105", "15/10/2013", caller=5),
        report("SHUK-2013-000106", report_type="Enquiry", caller=6),
        report("SHUK-2013-000107", motivation=" ; ", caller=7),
        report("SHUK-2013-000108", motivation="Race; Gender", caller=8),
        report("SHUK-2013-000109", incident_type="Theft", caller=9),
        report("SHUK-2013-000110", method="Fax", caller=10),
        report("SHUK-2013-000111", area="Banbury Town", caller=11),
        report("SHUK-2013-000112", area="South and Vale", caller=12),
        report("SHUK-2013-000101", "20/09/2013", caller=13),
        report("SHUK-2013-000114", " 16/07/2013 ", "incident REPORT", "race ; sexual orientation",
               "verbal abuse", "web form", " oxfordshire ", caller=14),
    ]  # fmt: skip
    text = csv_text(rows)
    # A narrative with an unquoted comma: one field too many.
    text += ",".join(report("SHUK-2013-000115", caller=15)) + ", and more\r\n"
    write_csv(tmp_path, "stop_hate_uk_2013-14_Q2.csv", text)
    result = read(tmp_path)
    assert result.accepted["reference"].to_pylist() == ["SHUK-2013-000101", "SHUK-2013-000114"]
    assert loaded(result)[1] == {
        "reference": "SHUK-2013-000114", "date_received": dt.date(2013, 7, 16),
        "report_type": "Incident report", "incident_type": "Verbal abuse",
        "method_of_contact": "Web form", "area_code": UNALLOCATED,
        "motivations": "Race;Sexual orientation", "motivation_count": 2,
    }  # fmt: skip
    aside = result.set_aside.select(["row_number", "reason_code", "reason"]).to_pylist()
    assert [(a["row_number"], a["reason_code"], a["reason"]) for a in aside] == [
        (3, "invalid_reference",
         "column 'Reference': 'SHUK-13-101' is not a reference of the form SHUK-YYYY-NNNNNN"),
        (4, "invalid_date",
         "column 'Date Received': '31/06/2013' is not a date in the declared format(s) "
         "%d/%m/%Y"),
        (5, "invalid_date",
         "column 'Date Received': '2013-07-15' is not a date in the declared format(s) "
         "%d/%m/%Y"),
        (6, "date_outside_period",
         "column 'Date Received': 2013-10-15 is outside the quarter the file covers "
         "(2013-14 Q2, 2013-07-01 to 2013-09-30)"),
        (7, "unknown_report_type",
         "column 'Report Type': 'Enquiry' is not one of Contact, Incident report"),
        (8, "missing_motivation", "column 'Hate Motivation' is blank; expected at least one"),
        (9, "unknown_motivation",
         "column 'Hate Motivation': 'Gender' is not one of Race, Religion/faith, "
         "Sexual orientation, Disability, Transgender identity, Other"),
        (10, "unknown_incident_type",
         "column 'Incident Type': 'Theft' is not one of Verbal abuse, Harassment, "
         "Physical assault, Damage to property, Online, Other"),
        (11, "unknown_contact_method",
         "column 'Method of Contact': 'Fax' is not one of Phone, Web form, Email, Text, App"),
        (12, "unknown_area",
         "column 'Area': 'Banbury Town' is not an Oxfordshire district or 'Oxfordshire' "
         "(district not known); a new spelling is added to area_aliases.csv"),
        (13, "unknown_area",
         "column 'Area': 'South and Vale' is not an Oxfordshire district or 'Oxfordshire' "
         "(district not known); a new spelling is added to area_aliases.csv"),
        (14, "duplicate_reference",
         "column 'Reference': SHUK-2013-000101 appears again; the report is loaded from "
         "stop_hate_uk/stop_hate_uk_2013-14_Q2.csv row 2"),
        (16, "malformed_row", "row has 13 fields; the header has 11"),
    ]  # fmt: skip
    records = [json.loads(r) for r in result.set_aside["record"].to_pylist()]
    assert records[-1] == {"note": "row text withheld: may contain personal data"}
    assert records[1] == {
        "Reference": "SHUK-2013-000103", "Date Received": "31/06/2013",
        "Report Type": "Incident report", "Hate Motivation": "Race",
        "Incident Type": "Verbal abuse", "Method of Contact": "Phone", "Area": "Oxford",
    }  # fmt: skip
    assert result.load_log.select(["rows_read", "rows_loaded", "rows_set_aside"]).to_pylist() == [
        {"rows_read": 15, "rows_loaded": 2, "rows_set_aside": 13}
    ]
    assert row_accounting_failures(result) == []


# Free text typed into a coded column: a note naming someone, an address, a phone number.
MOTIVATION_NOTE = "Other - SHMARK_MOTIVE neighbour John Smith at 12 Acacia Ave"
AREA_ADDRESS = "SHMARK_AREA 14 High St Banbury OX16 5AA"
INCIDENT_NOTE = "SHMARK_INCIDENT punched by Jane Doe (07700 900123)"
REFERENCE_NAME = "SHMARK_REF Mrs Jones"
FREE_TEXT_ROWS = [
    report("SHUK-2013-000201", motivation=f"Race;{MOTIVATION_NOTE}"),
    report("SHUK-2013-000202", area=AREA_ADDRESS, caller=2),
    report("SHUK-2013-000203", incident_type=INCIDENT_NOTE, caller=3),
    report(REFERENCE_NAME, caller=4),
    # Short unknown values are still named: a new label, or a spelling to add.
    report("SHUK-2013-000205", motivation="Age", caller=5),
    report("SHUK-2013-000206", area="Banbury Town", caller=6),
]


@pytest.mark.parametrize("export", ["csv", "json"])
def test_free_text_in_a_coded_column_is_described_never_quoted(tmp_path: Path, export: str) -> None:
    if export == "csv":
        write_csv(tmp_path, "stop_hate_uk_2013-14_Q2.csv", csv_text(FREE_TEXT_ROWS))
    else:
        write_json(tmp_path, "stop_hate_uk_2013-14_Q2.json", FREE_TEXT_ROWS)
    result = read(tmp_path)
    tables = (result.accepted, result.set_aside, result.load_log)
    shown = "\n".join([*(str(table.to_pylist()) for table in tables), *result.warnings])
    assert "SHMARK" not in shown

    def withheld(value: str) -> str:
        return f"a {len(value)}-character value (not shown: it may be personal)"

    first = 2 if export == "csv" else 1  # a JSON report is numbered from 1
    aside = result.set_aside.select(["row_number", "reason_code", "reason"]).to_pylist()
    assert [(a["row_number"], a["reason_code"], a["reason"]) for a in aside] == [
        (first + 0, "unknown_motivation",
         f"column 'Hate Motivation': {withheld(MOTIVATION_NOTE)} is not one of Race, "
         "Religion/faith, Sexual orientation, Disability, Transgender identity, Other"),
        (first + 1, "unknown_area",
         f"column 'Area': {withheld(AREA_ADDRESS)} is not an Oxfordshire district or "
         "'Oxfordshire' (district not known); a new spelling is added to area_aliases.csv"),
        (first + 2, "unknown_incident_type",
         f"column 'Incident Type': {withheld(INCIDENT_NOTE)} is not one of Verbal abuse, "
         "Harassment, Physical assault, Damage to property, Online, Other"),
        (first + 3, "invalid_reference",
         f"column 'Reference': {withheld(REFERENCE_NAME)} is not a reference of the form "
         "SHUK-YYYY-NNNNNN"),
        (first + 4, "unknown_motivation",
         "column 'Hate Motivation': 'Age' is not one of Race, Religion/faith, "
         "Sexual orientation, Disability, Transgender identity, Other"),
        (first + 5, "unknown_area",
         "column 'Area': 'Banbury Town' is not an Oxfordshire district or 'Oxfordshire' "
         "(district not known); a new spelling is added to area_aliases.csv"),
    ]  # fmt: skip

    def note(value: str) -> str:
        return f"(not shown: a {len(value)}-character value that may be personal)"

    records = [json.loads(r) for r in result.set_aside["record"].to_pylist()]
    assert [record["Hate Motivation"] for record in records] == [
        f"Race;{note(MOTIVATION_NOTE)}", "Race", "Race", "Race", "Age", "Race",
    ]  # fmt: skip
    assert [record["Area"] for record in records] == [
        "Oxford", note(AREA_ADDRESS), "Oxford", "Oxford", "Oxford", "Banbury Town",
    ]  # fmt: skip
    assert records[2]["Incident Type"] == note(INCIDENT_NOTE)
    assert [record["Reference"] for record in records][3:5] == [
        note(REFERENCE_NAME), "SHUK-2013-000205",
    ]  # fmt: skip
    assert row_accounting_failures(result) == []


def test_a_reference_repeated_in_a_later_export_keeps_the_first(tmp_path: Path) -> None:
    write_csv(tmp_path, "stop_hate_uk_2013-14_Q2.csv", csv_text([report("SHUK-2013-000101")]))
    later = [report("SHUK-2013-000101", "02/10/2013"), report("SHUK-2013-000201", "03/10/2013")]
    write_json(tmp_path, "stop_hate_uk_2013-14_Q3.json", later, wrapped=True)
    result = read(tmp_path)
    assert result.accepted.select(["reference", "source_file", "row_number"]).to_pylist() == [
        {"reference": "SHUK-2013-000101", "source_file": "stop_hate_uk/stop_hate_uk_2013-14_Q2.csv",
         "row_number": 2},
        {"reference": "SHUK-2013-000201",
         "source_file": "stop_hate_uk/stop_hate_uk_2013-14_Q3.json", "row_number": 2},
    ]  # fmt: skip
    (aside,) = result.set_aside.to_pylist()
    assert (aside["source_file"], aside["row_number"], aside["reason_code"]) == (
        "stop_hate_uk/stop_hate_uk_2013-14_Q3.json",
        1,
        "duplicate_reference",
    )
    assert aside["reason"].endswith("loaded from stop_hate_uk/stop_hate_uk_2013-14_Q2.csv row 2")


def test_json_exports_set_aside_non_objects_and_accept_a_list_of_motivations(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "stop_hate_uk"
    folder.mkdir()
    document = [
        {"Reference": "SHUK-2014-000001", "Date Received": "2014-04-02", "Report Type": "Contact",
         "Hate Motivation": ["Race", "Transgender identity"], "Incident Type": "Online",
         "Method of Contact": "Email", "Area": "Cherwell", "Caller Name": "Sample Caller 0001",
         "Caller Email": "caller001@example.org", "Case Worker": "Team B"},
        "Sample Caller 0002 rang back",
        {"Reference": "SHUK-2014-000003", "Date Received": "02/04/2014", "Report Type": "Contact",
         "Hate Motivation": "Race", "Incident Type": "Online", "Method of Contact": "Email",
         "Area": {"district": "Oxford"}},
    ]  # fmt: skip
    (folder / "stop_hate_uk_2014-15_Q1.json").write_text(json.dumps(document), encoding="utf-8")
    result = read(tmp_path)
    assert loaded(result) == [
        {"reference": "SHUK-2014-000001", "date_received": dt.date(2014, 4, 2),
         "report_type": "Contact", "incident_type": "Online", "method_of_contact": "Email",
         "area_code": CHERWELL, "motivations": "Race;Transgender identity",
         "motivation_count": 2},
    ]  # fmt: skip
    aside = result.set_aside.select(["row_number", "reason_code", "reason", "record"]).to_pylist()
    assert aside == [
        {"row_number": 2, "reason_code": "malformed_row", "reason": "record is not a JSON object",
         "record": '{"note": "row text withheld: may contain personal data"}'},
        {"row_number": 3, "reason_code": "invalid_date",
         "reason": "column 'Date Received': '02/04/2014' is not a date in the declared format(s) "
         "%Y-%m-%d",
         "record": json.dumps({"Reference": "SHUK-2014-000003", "Date Received": "02/04/2014",
                               "Report Type": "Contact", "Hate Motivation": "Race",
                               "Incident Type": "Online", "Method of Contact": "Email",
                               "Area": "(a JSON object)"})},
    ]  # fmt: skip
    assert result.warnings == [
        "stop_hate_uk/stop_hate_uk_2014-15_Q1.json: ignored 1 unknown column(s): column 8"
    ]


# --- whole files ----------------------------------------------------------------------------------


def test_whole_file_problems_reject_the_file_and_say_why(tmp_path: Path) -> None:
    folder = tmp_path / "stop_hate_uk"
    write_csv(tmp_path, "hate_reports_july.csv", csv_text([report()]))
    write_csv(
        tmp_path,
        "stop_hate_uk_2013-14_Q3.csv",
        csv_text([report()[1:]], header=HEADER[1:]),
    )
    (folder / "stop_hate_uk_2013-14_Q4.json").write_text('{"exported": "2014-01-02"}')
    (folder / "stop_hate_uk_2014-15_Q1.json").write_text('[{"Reference": "SHUK-2014-000001",')
    write_csv(tmp_path, "stop_hate_uk_2014-15_Q2.csv", csv_text([]))
    log = read(tmp_path).load_log.to_pylist()
    by_file = {line["source_file"].rsplit("/", 1)[1]: line for line in log}
    assert {name: line["status"] for name, line in by_file.items()} == {
        "hate_reports_july.csv": "rejected",
        "stop_hate_uk_2013-14_Q3.csv": "rejected",
        "stop_hate_uk_2013-14_Q4.json": "rejected",
        "stop_hate_uk_2014-15_Q1.json": "rejected",
        "stop_hate_uk_2014-15_Q2.csv": "loaded",  # read; the audit holds it back
    }
    assert by_file["hate_reports_july.csv"]["message"] == (
        "the file name does not give the quarter it covers; expected stop_hate_uk_YYYY-YY_QN.csv "
        "or .json (e.g. stop_hate_uk_2013-14_Q2.csv)"
    )
    assert by_file["stop_hate_uk_2013-14_Q3.csv"]["message"].startswith(
        "required column(s) 'Reference' not found; the first row has 10 cell(s), of which 10 "
        "are known headers ('Date Received', "
    )
    assert by_file["stop_hate_uk_2013-14_Q4.json"]["message"] == (
        "expected a list of report objects or an object with a 'records' list"
    )
    assert by_file["stop_hate_uk_2014-15_Q1.json"]["message"].startswith("not readable as JSON: ")
    empty = by_file["stop_hate_uk_2014-15_Q2.csv"]
    assert (empty["period_start"], empty["period_end"], empty["rows_read"]) == (
        dt.date(2014, 7, 1),
        dt.date(2014, 9, 30),
        0,
    )


def test_reordered_renamed_case_bom_and_windows_1252_leave_the_loaded_rows_unchanged(
    tmp_path: Path,
) -> None:
    rows = [
        report("SHUK-2013-000101", motivation="Race;Religion/faith"),
        report("SHUK-2013-000102", "12/08/2013", "Contact", "Other", area="Oxfordshire", caller=2),
    ]
    for row in rows:
        row[-1] = "SYNTHETIC narrative: café owner\u2019s window \u2013 £200 of damage"
    baseline = csv_text(rows)
    order = [10, 6, 0, 8, 2, 1, 9, 3, 7, 5, 4]
    reordered = csv_text(
        [[row[i] for i in order] for row in rows],
        header=[f"  {HEADER[i].upper()} " for i in order],
    )
    variants = {
        "baseline": (baseline, "utf-8"),
        "reordered": (reordered, "utf-8"),
        "bom": ("\ufeff" + baseline, "utf-8"),
        "cp1252": (baseline, "cp1252"),
    }
    results = {}
    for name, (text, encoding) in variants.items():
        write_csv(tmp_path / name, "stop_hate_uk_2013-14_Q2.csv", text, encoding)
        results[name] = read(tmp_path / name)
    expected = loaded(results["baseline"])
    assert len(expected) == 2
    for name, result in results.items():
        assert loaded(result) == expected, name
        assert result.set_aside.num_rows == 0, name
    encodings = {n: r.load_log["encoding"].to_pylist()[0] for n, r in results.items()}
    assert encodings == {
        "baseline": "utf-8",
        "reordered": "utf-8",
        "bom": "utf-8-sig",
        "cp1252": "cp1252",
    }
    assert (
        codecs.BOM_UTF8
        not in (tmp_path / "cp1252/stop_hate_uk/stop_hate_uk_2013-14_Q2.csv").read_bytes()
    )


# --- the warehouse --------------------------------------------------------------------------------


def test_refresh_loads_reports_motivations_and_zero_filled_monthly_counts(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    q2 = [
        report("SHUK-2013-000101", "03/07/2013", motivation="Race"),
        report("SHUK-2013-000102", "20/07/2013", "Contact", "Race;Disability",
               area="Oxfordshire", caller=2),
        report("SHUK-2013-000103", "09/09/2013", motivation="Religion/faith", area="Cherwell",
               caller=3),
    ]  # fmt: skip
    q3 = [
        report("SHUK-2013-000104", "08/10/2013", motivation="Sexual orientation", caller=4),
        report("SHUK-2013-000105", "11/12/2013", "Contact", "Other", area="Oxford City",
               caller=5),
        report("SHUK-2013-000101", "14/11/2013", caller=6),
    ]  # fmt: skip
    write_csv(raw, "stop_hate_uk_2013-14_Q2.csv", csv_text(q2))
    write_json(raw, "stop_hate_uk_2013-14_Q3.json", q3, wrapped=True)
    result = refresh(raw, wh, instance)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())

    assert query(
        wh,
        "SELECT reference, month, report_type, area_code, motivation_count, source_file, "
        "row_number FROM stop_hate_uk_reports ORDER BY reference",
    ) == [
        ("SHUK-2013-000101", dt.date(2013, 7, 1), "Incident report", OXFORD, 1,
         "stop_hate_uk/stop_hate_uk_2013-14_Q2.csv", 2),
        ("SHUK-2013-000102", dt.date(2013, 7, 1), "Contact", UNALLOCATED, 2,
         "stop_hate_uk/stop_hate_uk_2013-14_Q2.csv", 3),
        ("SHUK-2013-000103", dt.date(2013, 9, 1), "Incident report", CHERWELL, 1,
         "stop_hate_uk/stop_hate_uk_2013-14_Q2.csv", 4),
        ("SHUK-2013-000104", dt.date(2013, 10, 1), "Incident report", OXFORD, 1,
         "stop_hate_uk/stop_hate_uk_2013-14_Q3.json", 1),
        ("SHUK-2013-000105", dt.date(2013, 12, 1), "Contact", OXFORD, 1,
         "stop_hate_uk/stop_hate_uk_2013-14_Q3.json", 2),
    ]  # fmt: skip
    assert query(wh, "SELECT * FROM stop_hate_uk_report_motivations") == [
        ("SHUK-2013-000101", "Race"),
        ("SHUK-2013-000102", "Disability"),
        ("SHUK-2013-000102", "Race"),
        ("SHUK-2013-000103", "Religion"),
        ("SHUK-2013-000104", "Sexual orientation"),
        ("SHUK-2013-000105", "Other"),
    ]
    assert query(
        wh,
        "SELECT source_file, period_start, period_end, rows_read, rows_loaded, rows_set_aside "
        "FROM load_log ORDER BY 1",
    ) == [
        ("stop_hate_uk/stop_hate_uk_2013-14_Q2.csv", dt.date(2013, 7, 1), dt.date(2013, 9, 30),
         3, 3, 0),
        ("stop_hate_uk/stop_hate_uk_2013-14_Q3.json", dt.date(2013, 10, 1),
         dt.date(2013, 12, 31), 3, 2, 1),
    ]  # fmt: skip
    # Six months (July to December 2013) x five districts and district-not-known x two measures.
    assert query(
        wh,
        "SELECT measure_id, count(*), count(DISTINCT period_start), count(DISTINCT area_code), "
        "sum(value), count(*) FILTER (WHERE value = 0) FROM observations GROUP BY 1 ORDER BY 1",
    ) == [
        ("stop_hate_uk.incident_reports", 36, 6, 6, 3.0, 33),
        ("stop_hate_uk.reports", 36, 6, 6, 5.0, 31),
    ]
    nonzero = query(
        wh,
        "SELECT measure_id, area_code, period_start, value FROM observations "
        "WHERE value > 0 ORDER BY 1, 3, 2",
    )
    assert nonzero == [
        ("stop_hate_uk.incident_reports", OXFORD, dt.date(2013, 7, 1), 1.0),
        ("stop_hate_uk.incident_reports", CHERWELL, dt.date(2013, 9, 1), 1.0),
        ("stop_hate_uk.incident_reports", OXFORD, dt.date(2013, 10, 1), 1.0),
        ("stop_hate_uk.reports", OXFORD, dt.date(2013, 7, 1), 1.0),
        ("stop_hate_uk.reports", UNALLOCATED, dt.date(2013, 7, 1), 1.0),
        ("stop_hate_uk.reports", CHERWELL, dt.date(2013, 9, 1), 1.0),
        ("stop_hate_uk.reports", OXFORD, dt.date(2013, 10, 1), 1.0),
        ("stop_hate_uk.reports", OXFORD, dt.date(2013, 12, 1), 1.0),
    ]
    assert query(wh, "SELECT DISTINCT value_status FROM observations") == [("reported",)]


# --- personal data ----------------------------------------------------------------------------


def personal_values(folder: Path) -> set[str]:
    """Every caller name, phone, e-mail and narrative in the exports, read independently."""
    values: set[str] = set()
    for path in sorted(folder.iterdir()):
        if path.suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as handle:
                records = list(csv.DictReader(handle))
        else:
            document = json.loads(path.read_text(encoding="utf-8"))
            records = document["records"] if isinstance(document, dict) else document
        for record in records:
            values.update(str(record.get(h) or "") for h in PERSONAL_HEADERS)
            values.update(record.get(None) or [])  # a malformed row's extra fields
    values.discard("")
    narratives = {v for v in values if v.startswith("SYNTHETIC narrative")}
    # Snippets as well as whole narratives: a leak could be cut short or split at a comma.
    values |= {n.split(": ", 1)[1][:30] for n in narratives}
    values |= {n[:24] for n in narratives}
    return values


def warehouse_text(wh: Path) -> str:
    """Every value of every column of every table in the published warehouse, as text."""
    with warehouse.read_only(wh) as connection:
        tables = [
            row[0] for row in connection.sql("SELECT table_name FROM duckdb_tables()").fetchall()
        ]
        parts = [
            "\n".join(map(str, connection.sql(f'SELECT * FROM "{table}"').fetchall()))
            for table in tables
        ]
    assert len(tables) >= 15
    return "\n".join(parts)


def test_personal_fields_reach_no_table_parquet_file_event_or_log_line(
    tmp_path: Path,
    instance: dg.DagsterInstance,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    shutil.copytree(SAMPLE_RAW_DIR / "stop_hate_uk", raw / "stop_hate_uk")
    extra = csv_text(
        [
            report("SHUK-2015-000901", "07/04/2015", caller=901),
            report("SHUK-2015-000902", "31/04/2015", caller=902),
        ]
    )
    extra += ",".join(report("SHUK-2015-000903", "09/04/2015", caller=903)) + ", unquoted\r\n"
    write_csv(raw, "stop_hate_uk_2015-16_Q1.csv", extra)
    secrets = personal_values(raw / "stop_hate_uk")
    assert {"Sample Caller 0902", "07700 900903", "caller901@example.org"} <= secrets
    assert len(secrets) > 200
    # An export that lost its header row: its first row must not be quoted back as "the header".
    headerless = csv_text([report("SHUK-2015-000904", "07/07/2015", caller=904)])
    write_csv(raw, "stop_hate_uk_2015-16_Q2.csv", headerless.split("\r\n", 1)[1])
    secrets |= {"Sample Caller 0904", "07700 900904", "caller904@example.org"}

    caplog.set_level(logging.DEBUG)
    result = refresh(raw, wh, instance)
    assert result.success
    aside = query(wh, "SELECT row_number, reason_code FROM set_aside WHERE source_file LIKE "
                      "'%2015-16_Q1.csv' ORDER BY 1")  # fmt: skip
    assert aside == [(3, "invalid_date"), (4, "malformed_row")]
    assert query(wh, "SELECT count(*) FROM stop_hate_uk_reports") == [(91,)]
    assert query(wh, "SELECT status FROM load_log WHERE source_file LIKE '%2015-16_Q2.csv'") == [
        ("rejected",)
    ]

    parquet_files = sorted(wh.rglob("*.parquet"))
    assert {p.relative_to(wh).parts[0] for p in parquet_files} == {"staging"}
    parquet_text = "\n".join(str(pq.read_table(p).to_pylist()) for p in parquet_files)
    events = instance.all_logs(result.run_id)
    assert any(e.dagster_event and e.dagster_event.is_step_materialization for e in events)
    event_text = "\n".join(dg.serialize_value(event) for event in events)
    logs = capfd.readouterr()
    log_text = "\n".join([logs.out, logs.err, caplog.text])
    assert "stop_hate_uk all: staged" in log_text
    report_text = validate_file(raw / "stop_hate_uk" / "stop_hate_uk_2015-16_Q1.csv").report()
    raw_bytes = "\n".join(p.read_bytes().decode("latin-1") for p in wh.rglob("*") if p.is_file())

    haystacks = {
        "warehouse tables": warehouse_text(wh),
        "parquet files": parquet_text,
        "dagster event log": event_text,
        "log output": log_text,
        "oscp validate report": report_text,
        "bytes of every file under the warehouse folder": raw_bytes,
    }
    # The searches reach the data: non-personal values of the same rows are found.
    assert "SHUK-2015-000902" in haystacks["warehouse tables"]
    assert "31/04/2015" in haystacks["parquet files"]
    assert "row text withheld: may contain personal data" in haystacks["warehouse tables"]
    assert "duplicate_reference" in haystacks["dagster event log"]
    assert "'31/04/2015' is not a date" in haystacks["oscp validate report"]
    leaks = {
        where: sorted(secret for secret in secrets if secret in text)
        for where, text in haystacks.items()
    }
    assert leaks == {where: [] for where in haystacks}
    for fragment in ("Sample Caller", "07700 900", "@example.org", "SYNTHETIC narrative"):
        assert all(fragment not in text for text in haystacks.values()), fragment


def test_a_stray_windows_1252_byte_in_a_json_export_is_read_and_reported(tmp_path: Path) -> None:
    """As with a CSV export: a byte pasted from Windows (here into the narrative, which is never
    loaded) is read as Windows-1252, the encoding says so and a warning says where, quoting the
    one character and no text around it."""
    path = write_json(tmp_path, "stop_hate_uk_2013-14_Q2.json", [report()])
    pasted = "caller \u2013 ".encode() + b"\x92upset\x92"  # UTF-8 text, two Windows quotes
    path.write_bytes(path.read_bytes().replace(b"caller upset", pasted))
    result = read(tmp_path)
    assert loaded(result) == loaded(read_json_unchanged(tmp_path / "clean"))
    assert result.load_log.column("encoding").to_pylist() == ["utf-8+cp1252"]
    [warning] = result.warnings
    assert warning.startswith(
        "stop_hate_uk/stop_hate_uk_2013-14_Q2.json: 2 byte(s) are not UTF-8 in an otherwise "
        "UTF-8 file and were each read as a Windows-1252 character: 0x92 ('\u2019') at byte offset"
    )
    assert "upset" not in warning


def read_json_unchanged(raw: Path) -> stop_hate_uk.FileRead:
    write_json(raw, "stop_hate_uk_2013-14_Q2.json", [report()])
    return read(raw)


# --- quotes -------------------------------------------------------------------------------------


def test_a_narrative_over_several_lines_loads_its_row_and_keeps_the_rows_after_it(
    tmp_path: Path,
) -> None:
    """A narrative typed with Alt+Enter arrives quoted with line breaks inside: still one report,
    loaded, and the reports after it keep their numbers (a quoted line break stays one row)."""
    narrated = report("SHUK-2013-000102", caller=2)
    narrated[-1] = "QMARK_NARRATIVE first line\r\nsecond line, at 12 Acacia Ave\nthird line"
    text = csv_text([report(caller=1), narrated, report("SHUK-2013-000103", caller=3)])
    write_csv(tmp_path, "stop_hate_uk_2013-14_Q2.csv", text)
    result = read(tmp_path)
    assert result.accepted.select(["reference", "row_number"]).to_pylist() == [
        {"reference": "SHUK-2013-000101", "row_number": 2},
        {"reference": "SHUK-2013-000102", "row_number": 3},
        {"reference": "SHUK-2013-000103", "row_number": 4},
    ]
    assert result.set_aside.num_rows == 0
    shown = str([t.to_pylist() for t in (result.accepted, result.load_log)]) + str(result.warnings)
    assert "QMARK" not in shown


def test_a_quote_left_open_in_a_loaded_column_sets_its_row_aside_without_the_callers_details(
    tmp_path: Path,
) -> None:
    """A quote opened in Area and not closed on its line takes in the caller's name, phone,
    e-mail and narrative, and the next line up to its first quote; the record still has the
    header's width. It is set aside as malformed, its text withheld, saying which lines it runs
    over; the caller's details reach no table, reason, record, message or warning."""
    header = ",".join(HEADER)
    lines = [
        header,
        ",".join(report(caller=1)[:7]) + ",,,,fine",
        # Area opens a quote that is not closed on its line:
        'SHUK-2013-000102,15/07/2013,Contact,Race,Harassment,Phone,"Oxford,QMARK_NAME Jane Doe,'
        "QMARK_PHONE 07700 900123,qmark@example.org,QMARK_NARRATIVE punched at 12 Acacia Ave",
        # the next line quotes its Area, whose opening quote closes the one above
        'SHUK-2013-000103,16/07/2013,Contact,Race,Harassment,Phone,"Oxford",QMARK_NAME2 Bob Roe,'
        "QMARK_PHONE2 07700 900456,bob@example.org,QMARK_NARRATIVE2 shouted at",
        "SHUK-2013-000104,17/07/2013,Contact,Race,Harassment,Phone,Oxford,,,,fine",
    ]
    write_csv(tmp_path, "stop_hate_uk_2013-14_Q2.csv", "\n".join(lines) + "\n")
    result = read(tmp_path)
    tables = (result.accepted, result.set_aside, result.load_log)
    shown = "\n".join([*(str(table.to_pylist()) for table in tables), *result.warnings])
    assert "QMARK" not in shown
    assert "Acacia" not in shown
    assert result.accepted.select(["reference", "row_number"]).to_pylist() == [
        {"reference": "SHUK-2013-000101", "row_number": 2},
        {"reference": "SHUK-2013-000104", "row_number": 4},
    ]
    assert result.set_aside.to_pylist() == [
        {
            "source_id": "stop_hate_uk",
            "source_file": "stop_hate_uk/stop_hate_uk_2013-14_Q2.csv",
            "row_number": 3,
            "reason_code": "malformed_row",
            "reason": (
                "stop_hate_uk/stop_hate_uk_2013-14_Q2.csv row 3: a quote opens in column 7 "
                "('Area') and is not closed on its line, so the record runs from line 3 to line "
                "4; none of it is loaded and its text is withheld (it may hold personal data); "
                "expected a quoted value in this column to close on the line it opens: close "
                "the quote and deliver the file again"
            ),
            "record": '{"note": "row text withheld: may contain personal data"}',
        }
    ]
    [line] = result.load_log.to_pylist()
    assert (line["rows_read"], line["rows_loaded"], line["rows_set_aside"]) == (3, 2, 1)
    assert row_accounting_failures(result) == []
