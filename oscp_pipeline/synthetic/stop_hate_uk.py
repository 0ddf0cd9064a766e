"""SYNTHETIC Stop Hate UK quarterly exports for Oxfordshire, October 2012 to March 2015.

Stop Hate UK's Oxfordshire reporting line opened in October 2012, so the exports start with
2012-13 Q3. Volumes are small (a handful of reports a quarter county-wide, growing as the line
becomes known) and many callers do not say which district they are in. The export format
changed more than once: some quarters arrive as CSV (dates DD/MM/YYYY), others as JSON (ISO
dates), either a plain list of reports or an object holding them in ``records``.

Every export carries invented personal fields so that the pipeline can prove it drops them:
names like ``Sample Caller 0042``, phone numbers in Ofcom's drama range (``07700 900042``),
``caller042@example.org`` addresses and a short ``SYNTHETIC narrative``. Two quirks are
included: one report exported twice in the same file, and one motivation outside the agreed
list. Every record is invented.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import numpy as np

from oscp_pipeline import periods

FOLDER = "stop_hate_uk"
HEADER = (
    "Reference",
    "Date Received",
    "Report Type",
    "Hate Motivation",
    "Incident Type",
    "Method of Contact",
    "Area",
    "Caller Name",
    "Caller Phone",
    "Caller Email",
    "Narrative",
)
# Financial quarter -> the export format it was delivered in.
QUARTER_FORMATS: tuple[tuple[str, str], ...] = (
    ("2012-13 Q3", "csv"),
    ("2012-13 Q4", "csv"),
    ("2013-14 Q1", "csv"),
    ("2013-14 Q2", "json"),
    ("2013-14 Q3", "json_records"),
    ("2013-14 Q4", "csv"),
    ("2014-15 Q1", "json"),
    ("2014-15 Q2", "csv"),
    ("2014-15 Q3", "json_records"),
    ("2014-15 Q4", "csv"),
)
REPEATED_REPORT_QUARTER = "2013-14 Q4"  # one report exported twice in this file
UNLISTED_MOTIVATION_QUARTER = "2014-15 Q2"  # one report with a motivation outside the list
UNLISTED_MOTIVATION = "Age"

MOTIVATIONS = {
    "Race": 0.50,
    "Religion/faith": 0.12,
    "Sexual orientation": 0.15,
    "Disability": 0.10,
    "Transgender identity": 0.05,
    "Other": 0.08,
}
INCIDENT_TYPES = {
    "Verbal abuse": 0.35,
    "Harassment": 0.25,
    "Physical assault": 0.10,
    "Damage to property": 0.08,
    "Online": 0.14,
    "Other": 0.08,
}
CONTACT_METHODS = {"Phone": 0.42, "Web form": 0.30, "Email": 0.15, "Text": 0.08, "App": 0.05}
# "Oxfordshire" is how the export says the caller did not give a district.
AREAS = {
    "Oxfordshire": 0.45,
    "Oxford": 0.22,
    "Cherwell": 0.11,
    "South Oxfordshire": 0.08,
    "Vale of White Horse": 0.07,
    "West Oxfordshire": 0.07,
}
NARRATIVES = (
    "caller reports repeated shouting from a neighbour, wants advice on next steps",
    "abuse on a bus, driver did not intervene; caller shaken but unhurt",
    "messages posted online about the caller's family, screenshots kept",
    "graffiti on the caller's fence, second time this month",
    "pushed in the street by a group, reported to police as well",
    "comments at work, caller unsure whether to report to the employer",
    "neighbour's children throwing stones at windows,\nparents not responding",
)


def _pick(options: dict[str, float], rng: np.random.Generator) -> str:
    names = list(options)
    weights = np.array(list(options.values()))
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def _quarter_reports(
    quarter: dt.date, position: int, rng: np.random.Generator, counters: dict[str, int]
) -> list[dict[str, str]]:
    """The reports received in one quarter, in date order, with fake personal fields."""
    expected = 4.0 + 0.8 * position  # the line becomes better known over time
    count = int(np.clip(rng.poisson(expected), 3, 15))
    days = (periods.add_months(quarter, 3) - quarter).days
    dates = sorted(quarter + dt.timedelta(days=int(d)) for d in rng.integers(0, days, count))
    reports = []
    for received in dates:
        counters["caller"] += 1
        number = counters["caller"]
        year_key = str(received.year)
        counters[year_key] = counters.get(year_key, int(rng.integers(80, 200))) + int(
            rng.integers(5, 60)
        )
        motivations = [_pick(MOTIVATIONS, rng)]
        if rng.random() < 0.15:
            motivations.append(_pick(MOTIVATIONS, rng))
        anonymous = rng.random() < 0.3
        reports.append(
            {
                "reference": f"SHUK-{received.year}-{counters[year_key]:06d}",
                "date": received.isoformat(),
                "report_type": "Incident report" if rng.random() < 0.65 else "Contact",
                "motivation": ";".join(dict.fromkeys(motivations)),
                "incident_type": _pick(INCIDENT_TYPES, rng),
                "method": _pick(CONTACT_METHODS, rng),
                "area": _pick(AREAS, rng),
                "name": "" if anonymous else f"Sample Caller {number:04d}",
                "phone": "" if anonymous else f"07700 900{number % 1000:03d}",
                "email": "" if anonymous else f"caller{number:03d}@example.org",
                "narrative": f"SYNTHETIC narrative {number:04d}: "
                + NARRATIVES[int(rng.integers(0, len(NARRATIVES)))],
            }
        )
    return reports


def _row(report: dict[str, str], date_text: str) -> list[str]:
    return [
        report["reference"],
        date_text,
        report["report_type"],
        report["motivation"],
        report["incident_type"],
        report["method"],
        report["area"],
        report["name"],
        report["phone"],
        report["email"],
        report["narrative"],
    ]


def _csv_bytes(reports: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for report in reports:
        day = dt.date.fromisoformat(report["date"])
        writer.writerow(_row(report, day.strftime("%d/%m/%Y")))
    return buffer.getvalue().encode("utf-8")


def _json_bytes(reports: list[dict[str, str]], label: str, wrapped: bool) -> bytes:
    objects = [dict(zip(HEADER, _row(r, r["date"]), strict=True)) for r in reports]
    wrapper = {"export": "Stop Hate UK quarterly export (SYNTHETIC)", "quarter": label}
    document = {**wrapper, "records": objects} if wrapped else objects
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def generate(out_dir: Path, seed: int) -> str:
    """Write every quarterly export under ``out_dir/stop_hate_uk``; returns a summary."""
    folder = out_dir / FOLDER
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = np.random.default_rng([seed, 4401])
    counters = {"caller": 0}
    total = 0
    for position, (label, form) in enumerate(QUARTER_FORMATS):
        reports = _quarter_reports(periods.quarter_start_of_label(label), position, rng, counters)
        if label == REPEATED_REPORT_QUARTER:
            index = int(rng.integers(0, len(reports)))
            reports.insert(index + 1, dict(reports[index]))
        if label == UNLISTED_MOTIVATION_QUARTER:
            reports[int(rng.integers(0, len(reports)))]["motivation"] = UNLISTED_MOTIVATION
        total += len(reports)
        stem = f"stop_hate_uk_{label.replace(' ', '_')}"
        if form == "csv":
            (folder / f"{stem}.csv").write_bytes(_csv_bytes(reports))
        else:
            (folder / f"{stem}.json").write_bytes(
                _json_bytes(reports, label, wrapped=form == "json_records")
            )
    return f"{len(QUARTER_FORMATS)} files, {total} rows"
