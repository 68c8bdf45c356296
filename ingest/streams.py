"""Every stream's spec: its event table, roll-ups and lifecycle state (see :mod:`ingest.spec`).

Dimensions are those the indicator catalogue filters on (INDICATORS.md, Decision 766);
measures are counts, sums and sums of squares so any mean or spread rolls up by summing.
"""

from __future__ import annotations

from ingest.spec import (
    EventTable,
    Rollup,
    Row,
    flag,
    one,
    square,
    table_of,
    value,
)
from models import events as ev
from models import tables as t
from models.clock import LOCAL

DENGUE_CODES = frozenset({"A90", "A91", "A97"})

HEALTH_ENCOUNTERS = EventTable(
    event_type=ev.HEALTH_ENCOUNTER,
    table=table_of(t.HealthEncounterRow),
    rollups=(
        Rollup(
            table_of(t.HealthEncounterHourly),
            dims=("encounter_class", "insured"),
            measures={
                "encounters": one,
                "wait_minutes_sum": value("wait_minutes"),
                "wait_minutes_sumsq": square("wait_minutes"),
                "cost_vnd_sum": value("cost_vnd"),
            },
        ),
        Rollup(
            table_of(t.HealthEncounterDiagnosisHourly),
            dims=("icd_chapter", "age_band", "sex"),
            measures={
                "encounters": one,
                "dengue": lambda r: 1 if r["icd_code"] in DENGUE_CODES else 0,
            },
        ),
    ),
)

HEALTH_BED_CENSUS = EventTable(
    event_type=ev.HEALTH_BED_CENSUS,
    table=table_of(t.HealthBedCensusRow),
    rollups=(
        Rollup(
            table_of(t.HealthBedCensusHourly),
            dims=("source",),
            measures={
                "readings": one,
                "beds_total_sum": value("beds_total"),
                "beds_occupied_sum": value("beds_occupied"),
            },
            latest={"latest_beds_total": "beds_total", "latest_beds_occupied": "beds_occupied"},
        ),
    ),
)

HEALTH_CLAIMS = EventTable(
    event_type=ev.HEALTH_CLAIM,
    table=table_of(t.HealthClaimRow),
    rollups=(
        Rollup(
            table_of(t.HealthClaimHourly),
            dims=("source", "outcome"),
            measures={
                "claims": one,
                "everified": flag("sent_for_everification"),
                "chip_id_lookups": flag("chip_id_lookup"),
                # a success only counts for a look-up made (the ratio's denominator)
                "chip_id_lookups_ok": lambda r: (
                    1 if r["chip_id_lookup"] and r["chip_id_lookup_ok"] else 0
                ),
                "amount_vnd_sum": value("amount_vnd"),
                "amount_vnd_sumsq": lambda r: float(r["amount_vnd"]) ** 2,
            },
        ),
    ),
)

EDUCATION_ATTENDANCE = EventTable(
    event_type=ev.EDUCATION_ATTENDANCE,
    table=table_of(t.EducationAttendanceRow),
    rollups=(
        Rollup(
            table_of(t.EducationAttendanceHourly),
            dims=("source", "school_level"),
            measures={
                "readings": one,
                "enrolled_sum": value("enrolled"),
                "present_sum": value("present"),
            },
            latest={"latest_enrolled": "enrolled", "latest_present": "present"},
        ),
    ),
)


def _report_on_time(row: Row) -> float:
    """Sent on or before the due day, in local time."""
    return 1 if row["occurred_at"].astimezone(LOCAL).date() <= row["due"] else 0


EDUCATION_REPORTS = EventTable(
    event_type=ev.EDUCATION_REPORT,
    table=table_of(t.EducationReportRow),
    rollups=(
        Rollup(
            table_of(t.EducationReportHourly),
            dims=("school_level", "period"),
            measures={
                "reports": one,
                "reports_on_time": _report_on_time,
                "pupils_sum": value("pupils"),
                "classes_sum": value("classes"),
                "teachers_sum": value("teachers"),
            },
        ),
    ),
)

TOURISM_ARRIVALS = EventTable(
    event_type=ev.TOURISM_ARRIVAL,
    table=table_of(t.TourismArrivalRow),
    rollups=(
        Rollup(
            table_of(t.TourismArrivalHourly),
            dims=("kind", "international"),
            measures={
                "arrivals": one,
                "visitors_sum": value("visitors"),
                "visitors_sumsq": square("visitors"),
                "guest_nights_sum": lambda r: r["visitors"] * r["nights"],
            },
        ),
    ),
)

TOURISM_FEEDBACK = EventTable(
    event_type=ev.TOURISM_FEEDBACK,
    table=table_of(t.TourismFeedbackRow),
    rollups=(
        Rollup(
            table_of(t.TourismFeedbackHourly),
            dims=("channel", "topic", "international"),
            measures={
                "feedback": one,
                "negative": lambda r: 1 if r["sentiment"] < 0 else 0,
                "positive": lambda r: 1 if r["sentiment"] > 0 else 0,
                "sentiment_sum": lambda r: float(r["sentiment"]),
                "sentiment_sumsq": lambda r: float(r["sentiment"]) ** 2,
                "rated": lambda r: 0 if r["rating"] is None else 1,
                "rating_sum": value("rating"),
            },
        ),
    ),
)
