"""Every sector stream: event tables, roll-ups, lifecycle state, source freshness.

Event tables are range-partitioned by ``occurred_at`` (monthly partitions are created at run
time by ingest), or TimescaleDB hypertables when the extension is available, as in 0001.
``ingest_reject`` becomes idempotent per message so a redelivered batch records its rejects
once. The tables and their measures are described in ``models/tables``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timescale() -> bool:
    bind = op.get_bind()
    return bool(
        bind.scalar(sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'"))
    )


def _event_table(name: str, *columns: sa.Column | sa.PrimaryKeyConstraint) -> None:
    """Create a table partitioned by event time: a hypertable when TimescaleDB is in use."""
    if _timescale():
        op.create_table(name, *columns)
        op.execute(
            f"SELECT create_hypertable('{name}', 'occurred_at', "
            "chunk_time_interval => interval '7 days')"
        )
    else:
        op.create_table(name, *columns, postgresql_partition_by="RANGE (occurred_at)")


def upgrade() -> None:
    op.create_table(
        "citizen_report",
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("stage", sa.String(length=10), nullable=False),
        sa.Column("stage_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_on_time", sa.Boolean(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.String(length=10), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handling_agency_level", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_citizen_report")),
    )
    op.create_index(
        op.f("ix_citizen_report_commune_code"), "citizen_report", ["commune_code"], unique=False
    )
    op.create_index(
        op.f("ix_citizen_report_resolved_at"), "citizen_report", ["resolved_at"], unique=False
    )
    _event_table(
        "citizen_report_event",
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("stage", sa.String(length=10), nullable=False),
        sa.Column("resolved_on_time", sa.Boolean(), nullable=True),
        sa.Column("rating", sa.String(length=10), nullable=True),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handling_agency_level", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("occurred_at", "event_id", name=op.f("pk_citizen_report_event")),
    )
    op.create_table(
        "citizen_report_hourly",
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("stage", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("handling_agency_level", sa.String(length=8), nullable=False),
        sa.Column("reports", sa.BigInteger(), nullable=False),
        sa.Column("resolved_on_time", sa.BigInteger(), nullable=False),
        sa.Column("late", sa.BigInteger(), nullable=False),
        sa.Column("handling_hours_sum", sa.Float(), nullable=False),
        sa.Column("handling_hours_sumsq", sa.Float(), nullable=False),
        sa.Column("rated_satisfied", sa.BigInteger(), nullable=False),
        sa.Column("rated_neutral", sa.BigInteger(), nullable=False),
        sa.Column("rated_dislike", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "bucket_start",
            "commune_code",
            "stage",
            "category",
            "channel",
            "handling_agency_level",
            name=op.f("pk_citizen_report_hourly"),
        ),
    )
    _event_table(
        "education_attendance",
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("school_level", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("enrolled", sa.Integer(), nullable=False),
        sa.Column("present", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("occurred_at", "event_id", name=op.f("pk_education_attendance")),
    )
    op.create_table(
        "education_attendance_hourly",
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("school_level", sa.String(length=16), nullable=False),
        sa.Column("readings", sa.BigInteger(), nullable=False),
        sa.Column("enrolled_sum", sa.BigInteger(), nullable=False),
        sa.Column("present_sum", sa.BigInteger(), nullable=False),
        sa.Column("latest_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_enrolled", sa.Integer(), nullable=False),
        sa.Column("latest_present", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "bucket_start",
            "commune_code",
            "source",
            "school_level",
            name=op.f("pk_education_attendance_hourly"),
        ),
    )
    _event_table(
        "education_report",
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("school_level", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=False),
        sa.Column("classes", sa.Integer(), nullable=False),
        sa.Column("teachers", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("occurred_at", "event_id", name=op.f("pk_education_report")),
    )
    op.create_table(
        "education_report_hourly",
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("school_level", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("reports", sa.BigInteger(), nullable=False),
        sa.Column("reports_on_time", sa.BigInteger(), nullable=False),
        sa.Column("pupils_sum", sa.BigInteger(), nullable=False),
        sa.Column("classes_sum", sa.BigInteger(), nullable=False),
        sa.Column("teachers_sum", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "bucket_start",
            "commune_code",
            "school_level",
            "period",
            name=op.f("pk_education_report_hourly"),
        ),
    )
    _event_table(
        "health_bed_census",
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("beds_total", sa.Integer(), nullable=False),
        sa.Column("beds_occupied", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("occurred_at", "event_id", name=op.f("pk_health_bed_census")),
    )
    op.create_table(
        "health_bed_census_hourly",
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("readings", sa.BigInteger(), nullable=False),
        sa.Column("beds_total_sum", sa.BigInteger(), nullable=False),
        sa.Column("beds_occupied_sum", sa.BigInteger(), nullable=False),
        sa.Column("latest_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_beds_total", sa.Integer(), nullable=False),
        sa.Column("latest_beds_occupied", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "bucket_start", "commune_code", "source", name=op.f("pk_health_bed_census_hourly")
        ),
    )
    _event_table(
        "health_claim",
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("encounter_id", sa.UUID(), nullable=True),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.Column("sent_for_everification", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("chip_id_lookup", sa.Boolean(), nullable=False),
        sa.Column("chip_id_lookup_ok", sa.Boolean(), nullable=True),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("occurred_at", "event_id", name=op.f("pk_health_claim")),
    )
    op.create_table(
        "health_claim_hourly",
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("claims", sa.BigInteger(), nullable=False),
        sa.Column("everified", sa.BigInteger(), nullable=False),
        sa.Column("chip_id_lookups", sa.BigInteger(), nullable=False),
        sa.Column("chip_id_lookups_ok", sa.BigInteger(), nullable=False),
        sa.Column("amount_vnd_sum", sa.BigInteger(), nullable=False),
        sa.Column("amount_vnd_sumsq", sa.Float(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "bucket_start", "commune_code", "source", "outcome", name=op.f("pk_health_claim_hourly")
        ),
    )
    op.create_table(
        "health_encounter_diagnosis_hourly",
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("icd_chapter", sa.String(length=5), nullable=False),
        sa.Column("age_band", sa.String(length=5), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("encounters", sa.BigInteger(), nullable=False),
        sa.Column("dengue", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "bucket_start",
            "commune_code",
            "icd_chapter",
            "age_band",
            "sex",
            name=op.f("pk_health_encounter_diagnosis_hourly"),
        ),
    )
    op.create_table(
        "public_service_dossier",
        sa.Column("dossier_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("stage_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supplement_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("supplement_received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("supplements", sa.Integer(), nullable=False),
        sa.Column("supplement_days", sa.Float(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("paid_online", sa.Boolean(), nullable=True),
        sa.Column("e_result", sa.Boolean(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.String(length=10), nullable=True),
        sa.Column("complaint", sa.Boolean(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("procedure_code", sa.String(length=32), nullable=False),
        sa.Column("online_level", sa.String(length=8), nullable=False),
        sa.Column("agency_level", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fee_vnd", sa.BigInteger(), nullable=False),
        sa.Column("issues_result", sa.Boolean(), nullable=False),
        sa.Column("synced_to_national_portal", sa.Boolean(), nullable=False),
        sa.Column("digitised_inputs", sa.Boolean(), nullable=False),
        sa.Column("reused_digitised_data", sa.Boolean(), nullable=False),
        sa.Column("vneid_authenticated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("dossier_id", name=op.f("pk_public_service_dossier")),
    )
    op.create_index(
        op.f("ix_public_service_dossier_commune_code"),
        "public_service_dossier",
        ["commune_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_public_service_dossier_completed_at"),
        "public_service_dossier",
        ["completed_at"],
        unique=False,
    )
    _event_table(
        "public_service_dossier_event",
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("supplement_days", sa.Float(), nullable=True),
        sa.Column("paid_online", sa.Boolean(), nullable=True),
        sa.Column("e_result", sa.Boolean(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("rating", sa.String(length=10), nullable=True),
        sa.Column("complaint", sa.Boolean(), nullable=True),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("dossier_id", sa.String(length=64), nullable=False),
        sa.Column("procedure_code", sa.String(length=32), nullable=False),
        sa.Column("online_level", sa.String(length=8), nullable=False),
        sa.Column("agency_level", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fee_vnd", sa.BigInteger(), nullable=False),
        sa.Column("issues_result", sa.Boolean(), nullable=False),
        sa.Column("synced_to_national_portal", sa.Boolean(), nullable=False),
        sa.Column("digitised_inputs", sa.Boolean(), nullable=False),
        sa.Column("reused_digitised_data", sa.Boolean(), nullable=False),
        sa.Column("vneid_authenticated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "occurred_at", "event_id", name=op.f("pk_public_service_dossier_event")
        ),
    )
    op.create_table(
        "public_service_dossier_hourly",
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("agency_level", sa.String(length=8), nullable=False),
        sa.Column("online_level", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("dossiers", sa.BigInteger(), nullable=False),
        sa.Column("synced", sa.BigInteger(), nullable=False),
        sa.Column("digitised_inputs", sa.BigInteger(), nullable=False),
        sa.Column("reused_digitised_data", sa.BigInteger(), nullable=False),
        sa.Column("vneid_authenticated", sa.BigInteger(), nullable=False),
        sa.Column("with_fee", sa.BigInteger(), nullable=False),
        sa.Column("issues_result", sa.BigInteger(), nullable=False),
        sa.Column("on_time", sa.BigInteger(), nullable=False),
        sa.Column("late", sa.BigInteger(), nullable=False),
        sa.Column("paid_online", sa.BigInteger(), nullable=False),
        sa.Column("e_result", sa.BigInteger(), nullable=False),
        sa.Column("digitised_with_e_result", sa.BigInteger(), nullable=False),
        sa.Column("elapsed_days_sum", sa.Float(), nullable=False),
        sa.Column("elapsed_days_sumsq", sa.Float(), nullable=False),
        sa.Column("supplement_days_sum", sa.Float(), nullable=False),
        sa.Column("rated_satisfied", sa.BigInteger(), nullable=False),
        sa.Column("rated_neutral", sa.BigInteger(), nullable=False),
        sa.Column("rated_dislike", sa.BigInteger(), nullable=False),
        sa.Column("complaints", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "bucket_start",
            "commune_code",
            "stage",
            "agency_level",
            "online_level",
            "channel",
            name=op.f("pk_public_service_dossier_hourly"),
        ),
    )
    op.create_table(
        "source_freshness",
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("first_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lag_seconds", sa.Float(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", "event_type", name=op.f("pk_source_freshness")),
    )
    op.create_table(
        "source_hourly",
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("within_1h", sa.BigInteger(), nullable=False),
        sa.Column("lag_seconds_sum", sa.Float(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "bucket_start", "commune_code", "source", "event_type", name=op.f("pk_source_hourly")
        ),
    )
    _event_table(
        "tourism_arrival",
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.Column("international", sa.Boolean(), nullable=False),
        sa.Column("nights", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("occurred_at", "event_id", name=op.f("pk_tourism_arrival")),
    )
    op.create_table(
        "tourism_arrival_hourly",
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("international", sa.Boolean(), nullable=False),
        sa.Column("arrivals", sa.BigInteger(), nullable=False),
        sa.Column("visitors_sum", sa.BigInteger(), nullable=False),
        sa.Column("visitors_sumsq", sa.BigInteger(), nullable=False),
        sa.Column("guest_nights_sum", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "bucket_start",
            "commune_code",
            "kind",
            "international",
            name=op.f("pk_tourism_arrival_hourly"),
        ),
    )
    _event_table(
        "tourism_feedback",
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("topic", sa.String(length=12), nullable=False),
        sa.Column("sentiment", sa.Float(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("international", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("occurred_at", "event_id", name=op.f("pk_tourism_feedback")),
    )
    op.create_table(
        "tourism_feedback_hourly",
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("topic", sa.String(length=12), nullable=False),
        sa.Column("international", sa.Boolean(), nullable=False),
        sa.Column("feedback", sa.BigInteger(), nullable=False),
        sa.Column("negative", sa.BigInteger(), nullable=False),
        sa.Column("positive", sa.BigInteger(), nullable=False),
        sa.Column("sentiment_sum", sa.Float(), nullable=False),
        sa.Column("sentiment_sumsq", sa.Float(), nullable=False),
        sa.Column("rated", sa.BigInteger(), nullable=False),
        sa.Column("rating_sum", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "bucket_start",
            "commune_code",
            "channel",
            "topic",
            "international",
            name=op.f("pk_tourism_feedback_hourly"),
        ),
    )
    op.add_column("health_encounter", sa.Column("icd_code", sa.String(length=3), nullable=True))
    op.create_index(
        "uq_ingest_reject_message",
        "ingest_reject",
        ["topic", "partition", "offset", sa.literal_column("md5(raw)")],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_ingest_reject_message", table_name="ingest_reject")
    op.drop_column("health_encounter", "icd_code")
    op.drop_table("tourism_feedback_hourly")
    op.drop_table("tourism_feedback")
    op.drop_table("tourism_arrival_hourly")
    op.drop_table("tourism_arrival")
    op.drop_table("source_hourly")
    op.drop_table("source_freshness")
    op.drop_table("public_service_dossier_hourly")
    op.drop_table("public_service_dossier_event")
    op.drop_index(
        op.f("ix_public_service_dossier_completed_at"), table_name="public_service_dossier"
    )
    op.drop_index(
        op.f("ix_public_service_dossier_commune_code"), table_name="public_service_dossier"
    )
    op.drop_table("public_service_dossier")
    op.drop_table("health_encounter_diagnosis_hourly")
    op.drop_table("health_claim_hourly")
    op.drop_table("health_claim")
    op.drop_table("health_bed_census_hourly")
    op.drop_table("health_bed_census")
    op.drop_table("education_report_hourly")
    op.drop_table("education_report")
    op.drop_table("education_attendance_hourly")
    op.drop_table("education_attendance")
    op.drop_table("citizen_report_hourly")
    op.drop_table("citizen_report_event")
    op.drop_index(op.f("ix_citizen_report_resolved_at"), table_name="citizen_report")
    op.drop_index(op.f("ix_citizen_report_commune_code"), table_name="citizen_report")
    op.drop_table("citizen_report")
