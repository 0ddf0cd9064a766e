"""Helpers every reader shares: strict dates and spreadsheet tables below title rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from oscp_pipeline.sources.base import (
    Column,
    FileRejected,
    MalformedRow,
    parse_date,
    read_delimited,
    read_xlsx_table,
)


def test_dates_are_read_only_in_declared_formats() -> None:
    assert parse_date("2014-03-31", ["%Y-%m-%d"]) == (dt.date(2014, 3, 31), None)
    assert parse_date("31/03/2014", ["%d/%m/%Y", "%m/%d/%Y"]) == (dt.date(2014, 3, 31), None)
    date, error = parse_date("31/03/2014", ["%Y-%m-%d"])
    assert date is None
    assert error == "'31/03/2014' is not a date in the declared format(s) %Y-%m-%d"
    date, error = parse_date("03/04/2014", ["%d/%m/%Y", "%m/%d/%Y"])
    assert date is None
    assert error == "'03/04/2014' is ambiguous: it could be 2014-03-04 or 2014-04-03"
    assert parse_date("  ", ["%Y-%m-%d"]) == (None, "date is blank")


def test_a_sheet_below_title_rows_is_read_with_excel_row_numbers(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet.append(["Noise complaints, Q1"])
    sheet.append([])
    sheet.append(["date received", "CATEGORY "])
    sheet.append([dt.datetime(2013, 4, 2), "Music"])
    sheet.append([])
    sheet.append(["03/04/2013", "Dog barking"])
    workbook.save(tmp_path / "t.xlsx")
    columns = [Column("date", "Date Received", ""), Column("category", "Category", "")]
    records = read_xlsx_table(tmp_path / "t.xlsx", columns, "t.xlsx", sheet="data")
    assert records.table.to_pylist() == [
        {"date": "2013-04-02", "category": "Music", "row_number": 4},
        {"date": "03/04/2013", "category": "Dog barking", "row_number": 6},
    ]
    with pytest.raises(FileRejected, match="no sheet named 'Complaints'; the workbook has"):
        read_xlsx_table(tmp_path / "t.xlsx", columns, "t.xlsx", sheet="Complaints")


def test_a_sheet_whose_header_uses_a_declared_alias_is_found(tmp_path: Path) -> None:
    """The header row is found by every spelling a column is accepted under, not only its
    main header: a workbook headed 'Case Reference' is read like one headed 'Case Ref'."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Complaints"
    sheet.append(["Environmental health complaints"])
    sheet.append(["Case Reference", "Category"])
    sheet.append(["EH/13/1", "Music"])
    workbook.save(tmp_path / "t.xlsx")
    columns = [
        Column("case_ref", "Case Ref", "", aliases=("Case Reference",)),
        Column("category", "Category", ""),
    ]
    records = read_xlsx_table(tmp_path / "t.xlsx", columns, "t.xlsx", sheet="Complaints")
    assert records.table.to_pylist() == [
        {"case_ref": "EH/13/1", "category": "Music", "row_number": 3}
    ]
    missing = [Column("case_ref", "Case Ref", ""), Column("officer", "Officer", "")]
    with pytest.raises(FileRejected, match="no header row with 'Case Ref', 'Officer' in the first"):
        read_xlsx_table(tmp_path / "t.xlsx", missing, "t.xlsx", sheet="Complaints")


def test_a_header_cell_with_a_line_break_is_one_header_row(tmp_path: Path) -> None:
    """A header cell typed with Alt+Enter arrives quoted with a line break inside: the header is
    the first record, not the first line, and rows keep the numbers a spreadsheet shows (a
    quoted line break keeps one row, a blank line is a row)."""
    path = tmp_path / "t.csv"
    path.write_bytes(
        b'Ref,"Date\nReceived"\r\nA1,2013-04-01\r\n\r\nA2,"two\nlines"\r\n'
        b"A3,2013-04-02,extra\r\nA4,2013-04-03\r\n"
    )
    # A line break in a value is allowed only in a column that is not loaded (personal or
    # free text): in a loaded one it is a quote left open (see the test below).
    columns = [Column("ref", "Ref", ""), Column("date", "Date Received", "", personal=True)]
    records = read_delimited(path, columns, "t.csv")
    assert records.header_map == {"Ref": "ref", "Date\nReceived": "date"}
    assert records.table.select(["ref", "date", "row_number"]).to_pylist() == [
        {"ref": "A1", "date": "2013-04-01", "row_number": 2},
        {"ref": "A2", "date": "two\nlines", "row_number": 4},
        {"ref": "A4", "date": "2013-04-03", "row_number": 6},
    ]
    assert records.malformed == [MalformedRow(5, 3)]
