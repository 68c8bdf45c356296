"""Unit day tiers: every roll-up summed by administrative unit and local day.

Each ``<stream>_unit_daily`` table holds a roll-up's additive measures per (``hierarchy``,
``unit_code``, local day, the dims indicators filter on): a commune's day counted once in every unit the closure
table says holds it (the commune, its district and the province in 2020; its 2025 commune
and the province in 2025). Ingest keeps it in the statement that keeps the other tiers;
here it is filled from the day rows already stored, through the closure table as loaded
now. Province and district answers then read their own rows, not every commune's.

``source_day_mask`` keeps, per source and local day, the mask of the local hours any of the
source's rows fell in (``source_daily.hour_mask`` of all its event types and communes
together): what the reporting-slot tally reads, one row per source-day.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNIT_DAY_TIERS = {
    "health_encounter_daily": "health_encounter_unit_daily",
    "health_encounter_diagnosis_daily": "health_encounter_diagnosis_unit_daily",
    "health_bed_census_daily": "health_bed_census_unit_daily",
    "health_claim_daily": "health_claim_unit_daily",
    "education_attendance_daily": "education_attendance_unit_daily",
    "education_report_daily": "education_report_unit_daily",
    "tourism_arrival_daily": "tourism_arrival_unit_daily",
    "tourism_feedback_daily": "tourism_feedback_unit_daily",
    "public_service_dossier_daily": "public_service_dossier_unit_daily",
    "citizen_report_daily": "citizen_report_unit_daily",
}
# The dimensions each unit day tier keeps: those indicators filter on.
UNIT_DAY_DIMS = {
    "health_encounter_daily": ("encounter_class", "insured"),
    "health_encounter_diagnosis_daily": (),
    "health_bed_census_daily": (),
    "health_claim_daily": (),
    "education_attendance_daily": (),
    "education_report_daily": (),
    "tourism_arrival_daily": ("kind", "international"),
    "tourism_feedback_daily": ("channel", "international"),
    "public_service_dossier_daily": ("stage", "online_level", "channel"),
    "citizen_report_daily": ("stage", "category", "channel"),
}
SOURCE_HOURLY = {
    "health_encounter_daily": "health_encounter_hourly",
    "health_encounter_diagnosis_daily": "health_encounter_diagnosis_hourly",
    "health_bed_census_daily": "health_bed_census_hourly",
    "health_claim_daily": "health_claim_hourly",
    "education_attendance_daily": "education_attendance_hourly",
    "education_report_daily": "education_report_hourly",
    "tourism_arrival_daily": "tourism_arrival_hourly",
    "tourism_feedback_daily": "tourism_feedback_hourly",
    "public_service_dossier_daily": "public_service_dossier_hourly",
    "citizen_report_daily": "citizen_report_hourly",
}


def _q(name: str) -> str:
    return f'"{name}"'


def measures_of(columns: list[str], key: list[str]) -> list[str]:
    """The additive measures of a day tier, from its columns and primary key."""
    return [
        c
        for c in columns
        if c not in key and not c.startswith("latest_") and c not in ("updated_at", "hour_mask")
    ]


def backfill(daily: str, unit_daily: str, dims: Sequence[str], measures: list[str]) -> str:
    names = ["hierarchy", "unit_code", "bucket_start", *dims, *measures, "updated_at"]
    values = [
        "c.hierarchy",
        "c.ancestor_code",
        "d.bucket_start",
        *(f"d.{_q(c)}" for c in dims),
        *(f"sum(d.{_q(c)})" for c in measures),
        "max(d.updated_at)",
    ]
    keys = ["c.hierarchy", "c.ancestor_code", "d.bucket_start", *(f"d.{_q(c)}" for c in dims)]
    return (
        f"INSERT INTO {_q(unit_daily)} ({', '.join(map(_q, names))}) "
        f"SELECT {', '.join(values)} FROM {_q(daily)} AS d "
        "JOIN admin_unit_closure AS c ON c.descendant_code = d.commune_code "
        f"GROUP BY {', '.join(keys)}"
    )


SOURCE_MASKS = (
    "INSERT INTO source_day_mask (source, bucket_start, hour_mask, updated_at) "
    "SELECT source, bucket_start, bit_or(hour_mask), max(updated_at) FROM source_daily "
    "GROUP BY source, bucket_start"
)


def upgrade() -> None:
    op.create_table(
        "source_day_mask",
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hour_mask", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("source", "bucket_start", name="pk_source_day_mask"),
        comment="source_hourly: local (Asia/Ho_Chi_Minh) hours with rows, per source and day",
    )
    op.execute(SOURCE_MASKS)
    inspector = sa.inspect(op.get_bind())
    for daily, unit_daily in UNIT_DAY_TIERS.items():
        found = {c["name"]: c for c in inspector.get_columns(daily)}
        key = inspector.get_pk_constraint(daily)["constrained_columns"]
        dims, measures = UNIT_DAY_DIMS[daily], measures_of(list(found), key)
        op.create_table(
            unit_daily,
            sa.Column("hierarchy", sa.String(length=4), nullable=False),
            sa.Column("unit_code", sa.String(length=8), nullable=False),
            sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
            *(sa.Column(c, found[c]["type"], nullable=False) for c in dims),
            *(sa.Column(c, found[c]["type"], nullable=False) for c in measures),
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                server_default=sa.func.now(),
                nullable=False,
            ),
            sa.PrimaryKeyConstraint(
                "hierarchy", "unit_code", "bucket_start", *dims, name=f"pk_{unit_daily}"
            ),
            comment=f"{SOURCE_HOURLY[daily]} summed by administrative unit (every level, "
            "both hierarchies) and local (Asia/Ho_Chi_Minh) calendar day",
        )
        op.execute(backfill(daily, unit_daily, dims, measures))


def downgrade() -> None:
    for unit_daily in UNIT_DAY_TIERS.values():
        op.drop_table(unit_daily)
    op.drop_table("source_day_mask")
