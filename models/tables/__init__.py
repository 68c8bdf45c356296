"""The store: typed SQLAlchemy tables shared by ingest (writes) and the API (reads).

Event tables keep event time (``occurred_at``) apart from ingest time (``ingested_at``), use
``(occurred_at, event_id, source)`` as primary key, store only events whose
``(source, event_id)`` is new to ``event_key`` (a replayed or re-timed event is a no-op) and are
range-partitioned by ``occurred_at`` (hypertables under TimescaleDB). Roll-ups are keyed by
``bucket_start`` (UTC hour) × ``commune_code`` × dimensions, carry ``updated_at`` ("as of")
and are additive: coarser units and buckets are sums of their rows.

Streams (type suffix → kind: event table → roll-ups / state):

- health.encounter → counter: ``health_encounter`` → ``health_encounter_hourly``,
  ``health_encounter_diagnosis_hourly``
- health.bed_census → gauge: ``health_bed_census`` → ``health_bed_census_hourly``
- health.claim → counter: ``health_claim`` → ``health_claim_hourly``
- education.attendance → gauge: ``education_attendance`` → ``education_attendance_hourly``
- education.report → counter: ``education_report`` → ``education_report_hourly``
- tourism.arrival → counter: ``tourism_arrival`` → ``tourism_arrival_hourly``
- tourism.feedback → counter: ``tourism_feedback`` → ``tourism_feedback_hourly``
- public_service.dossier → lifecycle: ``public_service_dossier_event`` →
  ``public_service_dossier`` (state per dossier), ``public_service_dossier_hourly``
- citizen.report → lifecycle: ``citizen_report_event`` → ``citizen_report`` (state per
  report), ``citizen_report_hourly``
- every stream → data quality: ``source_hourly``, ``source_freshness``

Every hourly roll-up also has a day tier (``<stream>_daily``, keyed by local midnight),
declared in :mod:`models.tables.tiers`.

Each class docstring names its measures and the ratios they make. ``ingest_reject`` keeps
every message that could not be ingested; ``event_key`` holds every stored event's
``(source, id)``, the dedupe key whatever the event's time.
"""

from models.tables.base import NAMING_CONVENTION, Base, Timestamp
from models.tables.changes import ChangeLog
from models.tables.citizen import CitizenReport, CitizenReportEventRow, CitizenReportHourly
from models.tables.core import (
    AdminUnit,
    AdminUnitClosure,
    EventKey,
    IngestReject,
    SourceFreshness,
    SourceHourly,
)
from models.tables.education import (
    EducationAttendanceHourly,
    EducationAttendanceRow,
    EducationReportHourly,
    EducationReportRow,
)
from models.tables.health import (
    HealthBedCensusHourly,
    HealthBedCensusRow,
    HealthClaimHourly,
    HealthClaimRow,
    HealthEncounterDiagnosisHourly,
    HealthEncounterHourly,
    HealthEncounterRow,
)
from models.tables.lifecycle_totals import LIFECYCLE_UNIT_DAILY, kept_columns
from models.tables.public_service import Dossier, DossierEventRow, DossierHourly
from models.tables.tiers import (
    HOUR_MASK,
    TIERS,
    Grain,
    Tiers,
    additive_measures,
    keeps_hour_mask,
    tiers_of,
    unit_dims,
)
from models.tables.tourism import (
    TourismArrivalHourly,
    TourismArrivalRow,
    TourismFeedbackHourly,
    TourismFeedbackRow,
)

__all__ = [
    "HOUR_MASK",
    "LIFECYCLE_UNIT_DAILY",
    "NAMING_CONVENTION",
    "TIERS",
    "AdminUnit",
    "AdminUnitClosure",
    "Base",
    "ChangeLog",
    "CitizenReport",
    "CitizenReportEventRow",
    "CitizenReportHourly",
    "Dossier",
    "DossierEventRow",
    "DossierHourly",
    "EducationAttendanceHourly",
    "EducationAttendanceRow",
    "EducationReportHourly",
    "EducationReportRow",
    "EventKey",
    "Grain",
    "HealthBedCensusHourly",
    "HealthBedCensusRow",
    "HealthClaimHourly",
    "HealthClaimRow",
    "HealthEncounterDiagnosisHourly",
    "HealthEncounterHourly",
    "HealthEncounterRow",
    "IngestReject",
    "SourceFreshness",
    "SourceHourly",
    "Tiers",
    "Timestamp",
    "TourismArrivalHourly",
    "TourismArrivalRow",
    "TourismFeedbackHourly",
    "TourismFeedbackRow",
    "additive_measures",
    "keeps_hour_mask",
    "kept_columns",
    "tiers_of",
    "unit_dims",
]
