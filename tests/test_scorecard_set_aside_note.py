"""A reported figure some of whose delivered rows were set aside for a reason that may hide a
record keeps its value, with a note on every area's row saying how many rows and why; rows set
aside routinely (no location, outside the area, a duplicate, a replaced delivery) add none."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from conftest import street_row, write_street_file
from test_home_office_prc import row as prc_row
from test_home_office_prc import write_table
from test_refresh import query, refresh
from test_tvp_s27_directions import csv_text, write_file

S27_Q1 = [
    ["05/04/2014", "Oxford", "18-24", "Male"],
    ["2014-05-05", "Oxford", "18-24", "Male"],  # invalid_date
    ["10/05/2014", "Oxford", "25-34", "Female"],
    ["12/05/2014", "Wycombe", "18-24", "Male"],  # unknown_district
    ["31/06/2014", "Cherwell", "18-24", "Male"],  # invalid_date
    ["20/06/2014", "Cherwell", "45+", "Unknown"],
]
S27_Q2 = [
    ["05/07/2014", "Oxford", "18-24", "Male"],
    ["23/08/2014", "West Oxon", "25-34", "Female"],
]
CSPS = ("Cherwell", "Oxford", "South Oxfordshire", "Vale of White Horse", "West Oxfordshire")
FEW_QUARTERS = "fewer than 8 quarters of history: no trend, exception test or RAG"


def later_notes(year: int) -> str:
    """The notes every row of these short series has after any set-aside note."""
    return (
        f"{FEW_QUARTERS}; Rate uses an estimated mid-{year} population (derived by the "
        "partnership, not published by ONS for that year)"
    )


def set_aside_note(rows: int, reasons: str) -> str:
    return (
        f"{rows} delivered row(s) for this quarter were set aside ({reasons}) and are not "
        "counted: the figure may be understated; see set_aside"
    )


def street_month(month: str) -> list[list[str]]:
    """A month of street rows: two crimes and an ASB incident in Cherwell, one crime given
    twice, one without a location and one in Buckinghamshire."""
    return [
        street_row(f"{month}-a", month, crime_type="Burglary"),
        street_row(f"{month}-b", month, "Oxford 001A", "Vehicle crime"),
        street_row("", month),
        street_row(f"{month}-a", month, crime_type="Burglary"),  # duplicate_crime_id
        street_row(f"{month}-c", month, "", "Burglary"),  # no_location
        street_row(f"{month}-d", month, "Wycombe 001A", "Burglary"),  # outside_area
    ]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse refreshed from section 27 directions for 2014-15 Q1 (3 rows set aside that
    may be directions) and Q2 (a first delivery with a malformed line, replaced by a _v2),
    street crime for January to March 2014 (only routine set-asides, February delivered twice)
    and a Home Office table for 2013-14 with a count and a quarter that cannot be read."""
    root = tmp_path_factory.mktemp("set_aside_note")
    raw = root / "raw"
    write_file(raw, "2014-15_Q1", csv_text(S27_Q1))
    write_file(raw, "2014-15_Q2", csv_text(S27_Q2) + "07/08/2014,Oxford,18-24\r\n")
    write_file(raw, "2014-15_Q2_v2", csv_text(S27_Q2))
    later = write_street_file(raw, "2014-02", street_month("2014-02"))
    later.rename(later.with_name("2014-02-thames-valley-street (1).csv"))
    write_street_file(raw, "2014-02", street_month("2014-02")[:-1])  # the first delivery
    for month in ("2014-01", "2014-03"):
        write_street_file(raw, month, street_month(month))
    prc = [prc_row(csp, "28A", "10", quarter=str(q)) for q in (1, 2, 3, 4) for csp in CSPS]
    prc.append(prc_row("Cherwell", "28A", "lots", quarter="2"))  # invalid_count, 2013-14 Q2
    prc.append(prc_row("Oxford", "28A", "4", quarter="5"))  # invalid_period: any quarter
    prc.append(prc_row("West Oxfordshire", "45\t", "n/a", quarter="3"))  # vehicle, 2013-14 Q3
    write_table(raw, "prc-csp-open-data-table-2013-14.csv", prc)
    result = refresh(raw, root / "wh", dg.DagsterInstance.ephemeral())
    assert result.success
    return root / "wh"


def scorecard(wh: Path, indicator: str, fy_quarter: str) -> list[tuple]:
    return query(
        wh,
        f"""SELECT area_name, value, value_status, notes FROM scorecard
            WHERE indicator_id = '{indicator}' AND fy_quarter = '{fy_quarter}'
            ORDER BY (SELECT sort_order FROM dim_area AS a
                      WHERE a.area_code = scorecard.area_code)""",
    )


def test_rows_that_may_be_directions_are_noted_on_every_area_and_the_value_kept(
    warehouse: Path,
) -> None:
    assert query(
        warehouse,
        """SELECT row_number, reason_code FROM set_aside
           WHERE source_file = 'tvp_s27_directions/tvp_s27_directions_2014-15_Q1.csv'""",
    ) == [(3, "invalid_date"), (5, "unknown_district"), (6, "invalid_date")]
    note = f"{set_aside_note(3, 'invalid_date 2, unknown_district 1')}; {later_notes(2014)}"
    rows = scorecard(warehouse, "s27_directions", "2014-15 Q1")
    # The directions loaded, as without the note: Oxford 2, Cherwell 1, the county 3.
    assert [(name, value, status) for name, value, status, _ in rows] == [
        ("Oxfordshire", 3.0, "reported"),
        ("Cherwell", 1.0, "reported"),  # the CSP
        ("Cherwell", 1.0, "reported"),  # the district
        ("Oxford", 2.0, "reported"),
        ("Oxford", 2.0, "reported"),
        ("South and Vale", 0.0, "reported"),
        ("South Oxfordshire", 0.0, "reported"),
        ("Vale of White Horse", 0.0, "reported"),
        ("West Oxfordshire", 0.0, "reported"),
        ("West Oxfordshire", 0.0, "reported"),
    ]
    assert {notes for *_, notes in rows} == {note}


def test_a_malformed_line_of_a_replaced_delivery_adds_no_note(warehouse: Path) -> None:
    assert query(
        warehouse,
        """SELECT source_file, reason_code, count(*) FROM set_aside
           WHERE source_file LIKE '%2014-15_Q2%' GROUP BY ALL ORDER BY ALL""",
    ) == [
        ("tvp_s27_directions/tvp_s27_directions_2014-15_Q2.csv", "malformed_row", 1),
        ("tvp_s27_directions/tvp_s27_directions_2014-15_Q2.csv", "superseded", 2),
    ]
    rows = scorecard(warehouse, "s27_directions", "2014-15 Q2")
    assert {(status, notes) for _, _, status, notes in rows} == {("reported", later_notes(2014))}
    assert rows[0][:2] == ("Oxfordshire", 2.0)


def test_street_rows_set_aside_routinely_add_no_note(warehouse: Path) -> None:
    assert query(
        warehouse,
        """SELECT reason_code, count(*) FROM set_aside WHERE source_id = 'police_uk'
           GROUP BY ALL ORDER BY ALL""",
    ) == [("duplicate_crime_id", 3), ("no_location", 3), ("outside_area", 3), ("superseded", 5)]
    rows = query(
        warehouse,
        """SELECT indicator_id, area_name, value, value_status, notes FROM scorecard
           JOIN dim_indicator_measure USING (indicator_id)
           WHERE measure_id LIKE 'police_uk.%' AND fy_quarter = '2013-14 Q4'
             AND area_type = 'county' ORDER BY indicator_id""",
    )
    assert [(indicator, value, status) for indicator, _, value, status, _ in rows] == [
        ("all_crime", 6.0, "reported"),
        ("asb_incidents", 3.0, "reported"),
        ("burglary", 3.0, "reported"),
        ("criminal_damage", 0.0, "reported"),
        ("public_order", 0.0, "reported"),
        ("vehicle_crime", 3.0, "reported"),
        ("violence_and_sexual_offences", 0.0, "reported"),
    ]
    assert rows[0][4] == later_notes(2013)
    assert query(
        warehouse,
        """SELECT count(*) FROM scorecard JOIN dim_indicator_measure USING (indicator_id)
           WHERE measure_id LIKE 'police_uk.%' AND notes LIKE '%set aside%'""",
    ) == [(0,)]


def test_a_row_of_a_table_of_several_quarters_is_noted_in_its_own_quarter_or_in_each(
    warehouse: Path,
) -> None:
    """Cherwell's unreadable burglary count names 2013-14 Q2; Oxford's unreadable quarter could
    be any of the four. Each is noted on its own CSP and the county, not on the other CSPs."""
    rows = query(
        warehouse,
        """SELECT fy_quarter, area_name, notes FROM scorecard
           WHERE indicator_id = 'ho_burglary_dwelling' ORDER BY ALL""",
    )
    found = {(quarter, area): notes.split("; see set_aside")[0] for quarter, area, notes in rows}
    period = set_aside_note(1, "invalid_period 1").split("; see set_aside")[0]
    count = set_aside_note(1, "invalid_count 1").split("; see set_aside")[0]
    both = set_aside_note(2, "invalid_count 1, invalid_period 1").split("; see set_aside")[0]
    unnoted = FEW_QUARTERS
    expected = {}
    for quarter in ("2013-14 Q1", "2013-14 Q2", "2013-14 Q3", "2013-14 Q4"):
        in_q2 = quarter == "2013-14 Q2"
        expected |= {
            (quarter, "Oxfordshire"): both if in_q2 else period,
            (quarter, "Cherwell"): count if in_q2 else unnoted,
            (quarter, "Oxford"): period,
            (quarter, "South and Vale"): unnoted,
            (quarter, "West Oxfordshire"): unnoted,
        }
    assert {key: note.split("; Rate")[0] for key, note in found.items()} == expected
    assert query(
        warehouse,
        """SELECT DISTINCT value FROM scorecard WHERE indicator_id = 'ho_burglary_dwelling'
           AND area_type = 'county'""",
    ) == [(50.0,)]


def test_a_home_office_row_is_noted_only_on_the_indicators_of_its_offence(
    warehouse: Path,
) -> None:
    """West Oxfordshire's unreadable vehicle offence count (code 45) in 2013-14 Q3."""
    noted = query(
        warehouse,
        """SELECT indicator_id, area_name FROM scorecard
           WHERE indicator_id LIKE 'ho_%' AND fy_quarter = '2013-14 Q3'
             AND notes LIKE '%invalid_count%' ORDER BY ALL""",
    )
    assert noted == [
        ("ho_all_recorded_crime", "Oxfordshire"),
        ("ho_all_recorded_crime", "West Oxfordshire"),
        ("ho_vehicle_offences", "Oxfordshire"),
        ("ho_vehicle_offences", "West Oxfordshire"),
    ]


def test_a_street_row_is_noted_only_on_the_indicators_of_its_crime_type(tmp_path: Path) -> None:
    """2014-15 Q1 street files with a burglary and a shoplifting row whose coordinates cannot be
    read, an anti-social behaviour row of another month and a row of no known crime type."""
    raw = tmp_path / "raw"
    odd_rows = {
        "2014-04": [street_row("x-1", "2014-04", crime_type="Burglary", lon="abc")],
        "2014-05": [street_row("", "2014-13")],  # invalid_month; anti-social behaviour
        "2014-06": [
            street_row("x-2", "2014-06", crime_type="Shoplifting", lat="north"),
            street_row("x-3", "2014-06", crime_type="Alien abduction"),
        ],
    }
    for month, odd in odd_rows.items():
        write_street_file(raw, month, street_month(month) + odd)
    assert refresh(raw, tmp_path / "wh", dg.DagsterInstance.ephemeral()).success
    assert query(
        tmp_path / "wh",
        """SELECT reason_code, count(*) FROM set_aside WHERE source_id = 'police_uk'
           AND reason_code NOT IN ('duplicate_crime_id', 'no_location', 'outside_area')
           GROUP BY ALL ORDER BY ALL""",
    ) == [("invalid_coordinates", 2), ("invalid_month", 1), ("unknown_crime_type", 1)]

    notes = dict(
        query(
            tmp_path / "wh",
            """SELECT indicator_id, any_value(notes) FROM scorecard
               JOIN dim_indicator_measure USING (indicator_id)
               WHERE measure_id LIKE 'police_uk.%' AND fy_quarter = '2014-15 Q1'
               GROUP BY ALL""",
        )
    )
    # The set-aside note comes first; series-break and history notes follow some of them.
    first_notes = {
        indicator: note.split("; see set_aside")[0] + "; see set_aside"
        for indicator, note in notes.items()
    }

    unknown_type_only = set_aside_note(1, "unknown_crime_type 1")
    assert first_notes == {
        "all_crime": set_aside_note(3, "invalid_coordinates 2, unknown_crime_type 1"),
        "asb_incidents": set_aside_note(2, "invalid_month 1, unknown_crime_type 1"),
        "burglary": set_aside_note(2, "invalid_coordinates 1, unknown_crime_type 1"),
        "criminal_damage": unknown_type_only,
        "public_order": unknown_type_only,
        "vehicle_crime": unknown_type_only,
        "violence_and_sexual_offences": unknown_type_only,
    }
