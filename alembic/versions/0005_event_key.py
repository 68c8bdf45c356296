"""The dedupe key of events, ``(source, id)`` whatever their time: table ``event_key``.

The partitioned event tables' primary key holds ``occurred_at``, so an event resent with
another time was stored and counted again. Keys of the events already stored are filled
in from the event tables (the oldest time of each key), so resending them is a no-op too.
The event tables' primary key gains ``source``, so two systems' events that share an id
(and a time) are both kept, as their keys say they are different events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_TABLES = {
    "health_encounter": "vn.gov.quangnam.health.encounter",
    "health_bed_census": "vn.gov.quangnam.health.bed_census",
    "health_claim": "vn.gov.quangnam.health.claim",
    "education_attendance": "vn.gov.quangnam.education.attendance",
    "education_report": "vn.gov.quangnam.education.report",
    "tourism_arrival": "vn.gov.quangnam.tourism.arrival",
    "tourism_feedback": "vn.gov.quangnam.tourism.feedback",
    "public_service_dossier_event": "vn.gov.quangnam.public_service.dossier",
    "citizen_report_event": "vn.gov.quangnam.citizen.report",
}


def upgrade() -> None:
    op.create_table(
        "event_key",
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("source", "event_id", name=op.f("pk_event_key")),
    )
    op.create_index(
        op.f("ix_event_key_occurred_at"), "event_key", ["occurred_at"], unique=False
    )
    for table, event_type in EVENT_TABLES.items():
        op.drop_constraint(f"pk_{table}", table, type_="primary")
        op.create_primary_key(f"pk_{table}", table, ["occurred_at", "event_id", "source"])
        op.execute(
            sa.text(
                "INSERT INTO event_key (source, event_id, event_type, occurred_at, ingested_at) "
                "SELECT DISTINCT ON (source, event_id) source, event_id, :type, occurred_at, "
                f"ingested_at FROM {table} ORDER BY source, event_id, occurred_at "
                "ON CONFLICT DO NOTHING"
            ).bindparams(type=event_type)
        )


def downgrade() -> None:
    for table in EVENT_TABLES:
        op.drop_constraint(f"pk_{table}", table, type_="primary")
        op.create_primary_key(f"pk_{table}", table, ["occurred_at", "event_id"])
    op.drop_index(op.f("ix_event_key_occurred_at"), table_name="event_key")
    op.drop_table("event_key")
