"""Plain builders of CloudEvents for every stream, from registered sources, for ingest tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from models import events as ev
from models.payloads.citizen import CitizenReport
from models.payloads.education import SchoolAttendance, SchoolReport
from models.payloads.health import BedCensus, HealthEncounter, InsuranceClaim
from models.payloads.public_service import DossierEvent
from models.payloads.tourism import TourismArrival, TourismFeedback
from models.sources import SourceSystem, source_registry

Doc = dict[str, Any]


def source_for(event_type: ev.EventType) -> SourceSystem:
    return next(s for s in source_registry() if event_type.type in s.event_types)


def envelope(event_type: ev.EventType, payload: BaseModel, at: datetime, **attrs: Any) -> Doc:
    source = source_for(event_type)
    doc = ev.make_event(
        event_type,
        id=attrs.pop("id", None) or uuid.uuid4(),
        source=attrs.pop("source", source.code),
        time=at,
        subject=attrs.pop("subject", source.commune_code),
        payload=payload,
    )
    assert not attrs, attrs
    return doc


def encounter(at: datetime, i: int = 0, **attrs: Any) -> Doc:
    payload = HealthEncounter(
        encounter_class=("outpatient", "inpatient", "emergency")[i % 3],
        age_band="15-49",
        sex="F" if i % 2 else "M",
        insured=i % 4 != 0,
        icd_chapter="I",
        icd_code="A90" if i % 5 == 0 else None,
        wait_minutes=10 + i % 30,
        cost_vnd=100_000 + 1_000 * i,
    )
    return envelope(ev.HEALTH_ENCOUNTER, payload, at, **attrs)


def bed_census(at: datetime, occupied: int, total: int = 200, **attrs: Any) -> Doc:
    payload = BedCensus(beds_total=total, beds_occupied=occupied)
    return envelope(ev.HEALTH_BED_CENSUS, payload, at, **attrs)


def claim(at: datetime, i: int = 0, **attrs: Any) -> Doc:
    lookup = i % 2 == 0
    payload = InsuranceClaim(
        claim_id=f"C-{i}",
        amount_vnd=50_000 * (i + 1),
        sent_for_everification=i % 3 != 0,
        outcome=("accepted", "rejected", "pending")[i % 3],
        chip_id_lookup=lookup,
        chip_id_lookup_ok=(i % 4 == 0) if lookup else None,
    )
    return envelope(ev.HEALTH_CLAIM, payload, at, **attrs)


def attendance(at: datetime, present: int, enrolled: int = 40, **attrs: Any) -> Doc:
    payload = SchoolAttendance(
        school_level="primary", grade=3, day=at.date(), enrolled=enrolled, present=present
    )
    return envelope(ev.EDUCATION_ATTENDANCE, payload, at, **attrs)


def school_report(at: datetime, i: int = 0, **attrs: Any) -> Doc:
    payload = SchoolReport(
        school_level="primary",
        period="2025-M02",
        pupils=300 + i,
        classes=10,
        teachers=15,
        due=(at - timedelta(days=i % 2)).date(),
    )
    return envelope(ev.EDUCATION_REPORT, payload, at, **attrs)


def arrival(at: datetime, i: int = 0, **attrs: Any) -> Doc:
    lodging = i % 2 == 0
    payload = TourismArrival(
        kind="lodging_checkin" if lodging else "site_visit",
        visitors=1 + i % 4,
        international=i % 3 == 0,
        nights=2 if lodging else 0,
    )
    return envelope(ev.TOURISM_ARRIVAL, payload, at, **attrs)


def feedback(at: datetime, i: int = 0, **attrs: Any) -> Doc:
    payload = TourismFeedback(
        channel="app",
        topic="service",
        sentiment=(-0.5, 0.0, 0.75)[i % 3],
        rating=(i % 5) + 1 if i % 2 else None,
        international=False,
    )
    return envelope(ev.TOURISM_FEEDBACK, payload, at, **attrs)


def dossier(dossier_id: str, stage: str, at: datetime, received: datetime, **fields: Any) -> Doc:
    attrs = {k: fields.pop(k) for k in ("id", "source", "subject") if k in fields}
    stage_facts: dict[str, Any] = {
        "supplement_received": {"supplement_days": 2.0},
        "completed": {"e_result": True, "paid_online": True},
        "rated": {"rating": "satisfied", "complaint": False},
    }.get(stage, {})
    payload = DossierEvent.model_validate(
        {
            "dossier_id": dossier_id,
            "stage": stage,
            "procedure_code": "1.001234",
            "online_level": "full",
            "agency_level": "commune",
            "channel": "online",
            "received_at": received,
            "due_at": received + timedelta(days=5),
            "fee_vnd": 50_000,
            "synced_to_national_portal": True,
            "digitised_inputs": True,
            "reused_digitised_data": False,
            "vneid_authenticated": True,
            **stage_facts,
            **fields,
        }
    )
    return envelope(ev.PUBLIC_SERVICE_DOSSIER, payload, at, **attrs)


def report(report_id: str, stage: str, at: datetime, received: datetime, **fields: Any) -> Doc:
    stage_facts: dict[str, Any] = {"rated": {"rating": "dislike"}}.get(stage, {})
    payload = CitizenReport.model_validate(
        {
            "report_id": report_id,
            "stage": stage,
            "category": "environment",
            "channel": "call_1022",
            "received_at": received,
            "due_at": received + timedelta(days=15),
            "handling_agency_level": "district",
            **stage_facts,
            **fields,
        }
    )
    return envelope(ev.CITIZEN_REPORT, payload, at)
