"""Plain-English headline findings for a half year (Q1-Q2) or full year (Q1-Q4).

Every sentence is generated from the scorecard's flags for the county, never from text written
for a period: the year-to-date change and its exact Poisson test, each quarter's `direction`,
`exception`, `sufficient_history` and `series_break`. Suppressed values are never quoted, nor
anything that would let one be worked out: no year-to-date change when a quarter of either year
to date is withheld, no significant change or exception of a withheld quarter or against one
(`reports.disclosure`). A year to date holding part of a quarter is not compared.

An indicator "rose" (or "fell") over the period when its year to date is above (below) the same
quarters last year AND either that year-to-date change is significant at 95% or at least one of
the period's quarters was significantly up (down) on the same quarter last year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from oscp_pipeline.reports import disclosure
from oscp_pipeline.scorecard.stats import SIGNIFICANCE, poisson_comparison_p_value

COUNTY = "county"


@dataclass(frozen=True)
class Topic:
    """One subject the report talks about, measured by one or more indicators."""

    label: str
    indicator_ids: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    """A section of the bi-annual report.

    style `progress`: a set of priorities judged on whether they are reducing ("are reducing
    except ..."). style `watch`: data sets watched for rises and falls ("Among the ..., X
    increased"); when every topic moved the same way the section is named as one subject.
    """

    key: str
    title: str
    subject: str  # how a sentence names the section: "District CSP priorities"
    style: str  # progress | watch
    topics: tuple[Topic, ...]


# The report's sections. The indicator catalogue's `owner` says who asks for an indicator, not
# where the report discusses it (domestic noise is a district CSP priority by owner, but the
# report reads it with the other ASB data sets), so the sections are listed here. An indicator
# that no section names is reported under "Other indicators".
SECTIONS: tuple[Section, ...] = (
    Section(
        "domestic_abuse",
        "Domestic abuse",
        "Domestic abuse crimes and incidents",
        "watch",
        (
            Topic("domestic abuse crimes", ("domestic_abuse_crimes",)),
            Topic("domestic abuse incidents", ("domestic_abuse_incidents",)),
        ),
    ),
    Section(
        "hate",
        "Hate crime",
        "Hate crimes and incidents",
        "watch",
        (
            Topic("hate crimes", ("hate_crimes",)),
            Topic("race hate crimes", ("hate_crimes_race",)),
            Topic("religion or belief hate crimes", ("hate_crimes_religion",)),
            Topic("sexual orientation hate crimes", ("hate_crimes_sexual_orientation",)),
            Topic("disability hate crimes", ("hate_crimes_disability",)),
            Topic("transgender identity hate crimes", ("hate_crimes_transgender_identity",)),
            Topic("hate incidents", ("hate_incidents",)),
            Topic("Stop Hate UK", ("stop_hate_uk_reports",)),
        ),
    ),
    Section(
        "district_csp_priorities",
        "District CSP priorities",
        "District CSP priorities",
        "progress",
        (
            Topic("all crime", ("all_crime", "ho_all_recorded_crime")),
            Topic("burglary", ("burglary", "ho_burglary_dwelling")),
            Topic("vehicle crime", ("vehicle_crime", "ho_vehicle_offences")),
            Topic("distraction burglary", ("ho_distraction_burglary",)),
            Topic("criminal damage", ("criminal_damage", "ho_criminal_damage")),
            Topic("violence", ("violence_and_sexual_offences", "ho_violence_with_injury")),
            Topic("ASB", ("asb_incidents",)),
        ),
    ),
    Section(
        "asb_data_sets",
        "Anti-social behaviour data sets",
        "ASB data sets",
        "watch",
        (
            Topic("fly tipping", ("fly_tipping",)),
            Topic("domestic noise", ("domestic_noise_complaints",)),
            Topic("domestic waste", ("domestic_waste_complaints",)),
            Topic("public order offences", ("public_order", "ho_public_order")),
            Topic("section 27 directions", ("s27_directions",)),
        ),
    ),
)
OTHER_SECTION = "other"


@dataclass(frozen=True)
class Finding:
    """One headline finding: a sentence, and the supporting facts beneath it."""

    section: str  # Section.key, or "history" for too little history
    text: str
    details: tuple[str, ...] = ()
    indicator_ids: tuple[str, ...] = ()


@dataclass
class Assessment:
    """What the period's county rows say about one indicator."""

    indicator_id: str
    name: str
    enough_history: bool
    movement: str | None = None  # rose | fell | steady; None when it cannot be judged
    ytd_pct: float | None = None
    ytd_significant: bool = False
    significant_quarters: list[str] = field(default_factory=list)
    exceptions: list[tuple[str, str]] = field(default_factory=list)  # (Q2, high)
    series_break: bool = False
    ytd_withheld: bool = False  # a quarter of either year to date is withheld


@dataclass(frozen=True)
class Period:
    financial_year: str
    quarters: tuple[dt.date, ...]

    @property
    def is_half_year(self) -> bool:
        return len(self.quarters) == 2

    @property
    def label(self) -> str:
        span = "Q1-Q2" if self.is_half_year else "Q1-Q4"
        return f"{self.financial_year} {span}"

    @property
    def description(self) -> str:
        kind = "Half year" if self.is_half_year else "Full year"
        return f"{kind} {self.financial_year} (Q{1}-Q{len(self.quarters)})"


def report_period(half_year_end: dt.date) -> Period:
    """The half year (to Q2) or full year (to Q4) whose last quarter holds the date."""
    fy_start_year = half_year_end.year if half_year_end.month >= 4 else half_year_end.year - 1
    quarter = (half_year_end.month - 4) % 12 // 3 + 1
    if quarter not in (2, 4):
        raise ValueError(
            f"{half_year_end} is in Q{quarter}: a half year ends in Q2 (July-September) "
            "and a full year in Q4 (January-March)"
        )
    starts = []
    for number in range(1, quarter + 1):
        month = 4 + 3 * (number - 1)
        year = fy_start_year + (month - 1) // 12
        starts.append(dt.date(year, (month - 1) % 12 + 1, 1))
    label = f"{fy_start_year}-{(fy_start_year + 1) % 100:02d}"
    return Period(label, tuple(starts))


def quarter_tag(fy_quarter: str) -> str:
    return fy_quarter.rsplit(" ", 1)[-1]


def join_words(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def county_rows(connection: duckdb.DuckDBPyConnection, period: Period) -> list[dict]:
    return disclosure.scorecard_rows(connection, list(period.quarters), (COUNTY,))


SIGNIFICANT_DIRECTIONS = ("improving", "deteriorating", "increase", "decrease")


def assess(rows: list[dict]) -> Assessment:
    """Judge one indicator over the period from its county rows (ordered by quarter)."""
    last = rows[-1]
    result = Assessment(
        last["indicator_id"], last["indicator_name"], bool(last["sufficient_history"])
    )
    result.ytd_withheld = bool(last["ytd_withheld"])
    result.series_break = any(bool(r["series_break"]) for r in rows)
    current, previous = last["value_ytd"], last["value_ytd_last_year"]
    if (
        not result.enough_history
        or current is None
        or previous is None
        or result.ytd_withheld
        or last["ytd_part_quarter"]
    ):
        return result
    result.ytd_pct = last["change_ytd_pct"]
    if last["series_break"]:
        return result  # a year to date compared across a series break is not judged
    p_value = poisson_comparison_p_value(current, previous)
    result.ytd_significant = p_value is not None and p_value < SIGNIFICANCE
    quarter_up = quarter_down = False
    for row in rows:
        if not row["sufficient_history"]:
            continue
        tag = quarter_tag(row["fy_quarter"])
        if disclosure.direction(row) in SIGNIFICANT_DIRECTIONS:
            rose = row["value"] > row["value_same_quarter_last_year"]
            quarter_up, quarter_down = quarter_up or rose, quarter_down or not rose
            result.significant_quarters.append(f"{tag} {'up' if rose else 'down'}")
        exception = disclosure.exception(row)
        if exception in ("high", "low"):
            result.exceptions.append((tag, exception))
    if current > previous and (result.ytd_significant or quarter_up):
        result.movement = "rose"
    elif current < previous and (result.ytd_significant or quarter_down):
        result.movement = "fell"
    else:
        result.movement = "steady"
    return result


def topic_movement(assessments: list[Assessment]) -> str | None:
    """rose / fell / mixed / steady for a topic's indicators; None when none can be judged."""
    judged = {a.movement for a in assessments if a.movement is not None}
    if not judged:
        return None
    if {"rose", "fell"} <= judged:
        return "mixed"
    for movement in ("rose", "fell"):
        if movement in judged:
            return movement
    return "steady"


def exception_clause(assessments: list[Assessment], kind: str) -> str:
    """ ", with an exceptional rise in Q2" from the members' exception flags ('' if none)."""
    quarters = sorted({q for a in assessments for q, k in a.exceptions if k == kind})
    if not quarters:
        return ""
    word = "rise" if kind == "high" else "fall"
    if len(quarters) == 1:
        return f", with an exceptional {word} in {quarters[0]}"
    return f", with exceptional {word}s in {join_words(quarters)}"


def detail(assessment: Assessment, breaks: dict[str, list[str]]) -> str:
    """One supporting sentence for an indicator, without suppressed figures."""
    parts = [assessment.name + ":"]
    if not assessment.enough_history:
        parts.append("too few earlier quarters to judge a trend.")
        return " ".join(parts)
    if assessment.ytd_withheld:
        parts.append("year to date " + lower_first(disclosure.WITHHELD_NOTE))
    elif assessment.ytd_pct is not None:
        way = "up" if assessment.ytd_pct > 0 else "down" if assessment.ytd_pct < 0 else "level"
        size = f" {abs(assessment.ytd_pct):.1f}%" if assessment.ytd_pct else ""
        parts.append(f"year to date {way}{size} on the same period last year")
    else:
        parts.append("no comparable year to date")
    if assessment.movement in ("rose", "fell"):
        evidence = []
        if assessment.ytd_significant:
            evidence.append("year to date")
        evidence += assessment.significant_quarters
        parts.append(f"(significant: {', '.join(evidence)})")
    elif assessment.movement == "steady":
        parts.append("(not significant)")
    sentence = " ".join(parts).rstrip(":")
    for kind in ("high", "low"):
        quarters = [q for q, k in assessment.exceptions if k == kind]
        if quarters:
            sentence += f"; exceptionally {kind} in {join_words(quarters)}"
    sentence += "."
    if assessment.series_break:
        described = "; ".join(breaks.get(assessment.indicator_id, [])) or "see the notes"
        sentence += f" The comparison spans a series break ({described})."
    return sentence


def section_sentence(section: Section, movements: dict[str, str], members: dict) -> str | None:
    """The headline sentence for a section from its topics' movements (None if none judged)."""
    judged = [t for t in section.topics if movements.get(t.label)]
    if not judged:
        return None
    rose = [t.label for t in judged if movements[t.label] == "rose"]
    fell = [t.label for t in judged if movements[t.label] == "fell"]
    mixed = [t.label for t in judged if movements[t.label] == "mixed"]
    subject = section.subject
    if section.style == "progress":
        others = [t.label for t in judged if t.label not in fell]
        if fell and len(fell) > len(judged) / 2:
            if not others:
                return f"{subject} are all reducing"
            return f"{subject} are reducing except {join_words(others)}"
        if fell:
            sentence = f"Of the {lower_first(subject)}, only {join_words(fell)} are reducing"
            return sentence + (f"; {join_words(rose)} increased" if rose else "")
        if rose:
            return f"{subject} are not reducing: {join_words(rose)} increased"
        return f"{subject} show no significant change"
    # watch
    for movement, verb, kind in (("rose", "increased", "high"), ("fell", "fell", "low")):
        if all(movements[t.label] == movement for t in judged):
            assessed = [a for t in judged for a in members[t.label]]
            return f"{subject} {verb}{exception_clause(assessed, kind)}"
    if not rose and not fell and not mixed:
        return f"{subject} show no significant change"
    clauses = []
    if rose:
        clauses.append(f"{join_words(rose)} increased")
    if fell:
        clauses.append(f"{join_words(fell)} fell")
    if mixed:
        clauses.append(f"{join_words(mixed)} moved in different directions by data set")
    return f"Among the {lower_first(subject)}, " + "; ".join(clauses)


def lower_first(text: str) -> str:
    """Lower-case a leading capital unless it starts an abbreviation (ASB, CSP)."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def series_break_descriptions(
    connection: duckdb.DuckDBPyConnection, period: Period
) -> dict[str, list[str]]:
    """Each indicator's series breaks that the period's comparisons span: after the start of
    the same period last year (its year to date starts then) and before the period ends."""
    rows = connection.execute(
        """
        SELECT DISTINCT m.indicator_id, b.description
        FROM series_break b JOIN dim_indicator_measure m USING (measure_id)
        WHERE b.break_date > ?::DATE - INTERVAL 1 YEAR AND b.break_date < ?::DATE + INTERVAL 3 MONTH
        ORDER BY 1, 2
        """,
        [period.quarters[0], period.quarters[-1]],
    ).fetchall()
    found: dict[str, list[str]] = {}
    for indicator_id, description in rows:
        found.setdefault(indicator_id, []).append(description)
    return found


def sections_for(indicator_ids: list[str]) -> tuple[Section, ...]:
    """The report's sections, plus "Other indicators" for any the sections do not name."""
    named = {i for s in SECTIONS for t in s.topics for i in t.indicator_ids}
    unnamed = [i for i in indicator_ids if i not in named]
    if not unnamed:
        return SECTIONS
    other = Section(
        OTHER_SECTION,
        "Other indicators",
        "Other indicators",
        "watch",
        tuple(Topic(i.replace("_", " "), (i,)) for i in unnamed),
    )
    return (*SECTIONS, other)


def headline_findings(
    connection: duckdb.DuckDBPyConnection, half_year_end: dt.date
) -> list[Finding]:
    """Headline findings for the half or full year whose last quarter contains `half_year_end`."""
    period = report_period(half_year_end)
    by_indicator: dict[str, list[dict]] = {}
    for row in county_rows(connection, period):
        by_indicator.setdefault(row["indicator_id"], []).append(row)
    assessments = {
        i: assess(rows)
        for i, rows in by_indicator.items()
        if rows[-1]["quarter_start"] == period.quarters[-1]
    }
    breaks = series_break_descriptions(connection, period)
    findings: list[Finding] = []
    too_short: list[str] = []
    short_ids: list[str] = []
    for section in sections_for(sorted(assessments)):
        members: dict[str, list[Assessment]] = {}
        movements: dict[str, str] = {}
        details: list[str] = []
        ids: list[str] = []
        for topic in section.topics:
            present = [assessments[i] for i in topic.indicator_ids if i in assessments]
            if not present:
                continue
            if not any(a.enough_history for a in present):
                too_short.append(topic.label)
                short_ids += [a.indicator_id for a in present]
                continue
            usable = [a for a in present if a.enough_history]
            members[topic.label] = usable
            movement = topic_movement(usable)
            if movement:
                movements[topic.label] = movement
            details += [detail(a, breaks) for a in present]
            ids += [a.indicator_id for a in present]
        sentence = section_sentence(section, movements, members)
        if sentence:
            findings.append(Finding(section.key, capitalise(sentence), tuple(details), tuple(ids)))
    if too_short:
        verb = "has" if len(too_short) == 1 else "have"
        text = f"{capitalise(join_words(too_short))} {verb} too few quarters for reliable trends"
        findings.append(Finding("history", text, (), tuple(short_ids)))
    return findings
