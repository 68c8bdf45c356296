"""Lifecycle streams: public-service dossiers and citizen reports, as state + transitions.

Each event is kept, merged into its entity's state row (event-time order), and counted in an
hour × commune × stage roll-up of transitions, from which Decision 766 rates are sums.
"""

from __future__ import annotations

from collections.abc import Callable

from ingest.spec import (
    EventTable,
    Lifecycle,
    Rollup,
    Row,
    Stage,
    days_between,
    equals,
    flag,
    one,
    table_of,
    value,
)
from models import events as ev
from models import tables as t


def _get(column: str) -> Callable[[Row], object]:
    return lambda row: row[column]


# --- Public-service dossiers -----------------------------------------------------------------


def judged_on_time(column: str) -> Callable[[Row], bool]:
    """As the source system judged it; if it did not say, finished by the due date."""

    def on_time(row: Row) -> bool:
        judged = row[column]
        return bool(judged) if judged is not None else bool(row["occurred_at"] <= row["due_at"])

    return on_time


def at_stage(stage: str) -> Callable[[Row], bool]:
    return lambda row: bool(row["stage"] == stage)


def days_since_received(stage: str) -> Callable[[Row], float]:
    """Days from receipt to this event, for events of ``stage`` (0 for the others)."""
    return lambda row: (
        days_between(row["received_at"], row["occurred_at"]) if row["stage"] == stage else 0.0
    )


dossier_on_time = judged_on_time("on_time")
_completed = at_stage("completed")
_elapsed_days = days_since_received("completed")


DOSSIER_FACTS = (
    "source",
    "commune_code",
    "procedure_code",
    "online_level",
    "agency_level",
    "channel",
    "received_at",
    "due_at",
    "fee_vnd",
    "issues_result",
    "synced_to_national_portal",
    "digitised_inputs",
    "reused_digitised_data",
    "vneid_authenticated",
)

PUBLIC_SERVICE_DOSSIERS = EventTable(
    event_type=ev.PUBLIC_SERVICE_DOSSIER,
    table=table_of(t.DossierEventRow),
    rollups=(
        Rollup(
            table_of(t.DossierHourly),
            dims=("stage", "agency_level", "online_level", "channel"),
            measures={
                "dossiers": one,
                "synced": flag("synced_to_national_portal"),
                "digitised_inputs": flag("digitised_inputs"),
                "reused_digitised_data": flag("reused_digitised_data"),
                "vneid_authenticated": flag("vneid_authenticated"),
                "with_fee": lambda r: 1 if r["fee_vnd"] > 0 else 0,
                "issues_result": flag("issues_result"),
                "on_time": lambda r: 1 if _completed(r) and dossier_on_time(r) else 0,
                "late": lambda r: 1 if _completed(r) and not dossier_on_time(r) else 0,
                # Within their denominators' dossiers by construction: a fee paid online
                # counts only for a procedure with a fee, an e-result only where the
                # procedure issues a result.
                "paid_online": lambda r: 1 if r["paid_online"] and r["fee_vnd"] > 0 else 0,
                "e_result": lambda r: 1 if r["e_result"] and r["issues_result"] else 0,
                "digitised_with_e_result": lambda r: (
                    1 if r["digitised_inputs"] and r["e_result"] else 0
                ),
                "elapsed_days_sum": _elapsed_days,
                "elapsed_days_sumsq": lambda r: _elapsed_days(r) ** 2,
                "supplement_days_sum": value("supplement_days"),
                "rated_satisfied": equals("rating", "satisfied"),
                "rated_neutral": equals("rating", "neutral"),
                "rated_dislike": equals("rating", "dislike"),
                "complaints": flag("complaint"),
                "rated_dislike_or_complaint": lambda r: (
                    1 if r["rating"] == "dislike" or r["complaint"] else 0
                ),
            },
        ),
    ),
    lifecycle=Lifecycle(
        table=table_of(t.Dossier),
        key="dossier_id",
        facts=DOSSIER_FACTS,
        order=("received", "supplement_requested", "supplement_received", "completed", "rated"),
        stages={
            "received": Stage(),
            "supplement_requested": Stage("supplement_requested_at"),
            "supplement_received": Stage("supplement_received_at"),
            "completed": Stage(
                "completed_at",
                {
                    "on_time": dossier_on_time,
                    "paid_online": _get("paid_online"),
                    "e_result": _get("e_result"),
                },
            ),
            "rated": Stage("rated_at", {"rating": _get("rating"), "complaint": _get("complaint")}),
        },
        additive={
            "supplements": equals("stage", "supplement_received"),
            "supplement_days": value("supplement_days"),
        },
    ),
)


# --- Citizen reports (1022 hotline, app) -----------------------------------------------------


report_on_time = judged_on_time("resolved_on_time")
_resolved = at_stage("resolved")
_resolved_days = days_since_received("resolved")


def _handling_hours(row: Row) -> float:
    return _resolved_days(row) * 24


CITIZEN_REPORTS = EventTable(
    event_type=ev.CITIZEN_REPORT,
    table=table_of(t.CitizenReportEventRow),
    rollups=(
        Rollup(
            table_of(t.CitizenReportHourly),
            dims=("stage", "category", "channel", "handling_agency_level"),
            measures={
                "reports": one,
                "resolved_on_time": lambda r: 1 if _resolved(r) and report_on_time(r) else 0,
                "late": lambda r: 1 if _resolved(r) and not report_on_time(r) else 0,
                "handling_hours_sum": _handling_hours,
                "handling_hours_sumsq": lambda r: _handling_hours(r) ** 2,
                "rated_satisfied": equals("rating", "satisfied"),
                "rated_neutral": equals("rating", "neutral"),
                "rated_dislike": equals("rating", "dislike"),
            },
        ),
    ),
    lifecycle=Lifecycle(
        table=table_of(t.CitizenReport),
        key="report_id",
        facts=(
            "source",
            "commune_code",
            "category",
            "channel",
            "received_at",
            "due_at",
            "handling_agency_level",
        ),
        order=("received", "assigned", "resolved", "rated"),
        stages={
            "received": Stage(),
            "assigned": Stage("assigned_at"),
            "resolved": Stage("resolved_at", {"resolved_on_time": report_on_time}),
            "rated": Stage("rated_at", {"rating": _get("rating")}),
        },
    ),
)
