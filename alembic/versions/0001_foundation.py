"""Foundation: admin units, health encounters (time-partitioned), hourly rollup, rejects.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _timescale_available() -> bool:
    bind = op.get_bind()
    return bool(
        bind.scalar(
            sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'")
        )
    )


def upgrade() -> None:
    op.create_table(
        "admin_unit",
        sa.Column("hierarchy", sa.String(4), primary_key=True),
        sa.Column("code", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("parent_code", sa.String(8)),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("population", sa.Integer),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_to", sa.Date),
        sa.PrimaryKeyConstraint("hierarchy", "code", name="pk_admin_unit"),
    )
    op.create_table(
        "admin_unit_closure",
        sa.Column("hierarchy", sa.String(4)),
        sa.Column("ancestor_code", sa.String(8)),
        sa.Column("descendant_code", sa.String(8)),
        sa.Column("ancestor_level", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint(
            "hierarchy", "ancestor_code", "descendant_code", name="pk_admin_unit_closure"
        ),
    )
    op.create_index(
        "ix_admin_unit_closure_descendant_code", "admin_unit_closure", ["descendant_code"]
    )

    columns = """
        occurred_at timestamptz NOT NULL,
        event_id uuid NOT NULL,
        source varchar(120) NOT NULL,
        commune_code varchar(8) NOT NULL,
        encounter_class varchar(12) NOT NULL,
        age_band varchar(5) NOT NULL,
        sex varchar(1) NOT NULL,
        insured boolean NOT NULL,
        icd_chapter varchar(5) NOT NULL,
        wait_minutes integer NOT NULL,
        cost_vnd bigint NOT NULL,
        ingested_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_health_encounter PRIMARY KEY (occurred_at, event_id)
    """
    if _timescale_available():
        op.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        op.execute(f"CREATE TABLE health_encounter ({columns})")
        op.execute(
            "SELECT create_hypertable('health_encounter', 'occurred_at', "
            "chunk_time_interval => interval '7 days')"
        )
    else:
        op.execute(f"CREATE TABLE health_encounter ({columns}) PARTITION BY RANGE (occurred_at)")

    op.create_table(
        "health_encounter_hourly",
        sa.Column("bucket_start", TS),
        sa.Column("commune_code", sa.String(8)),
        sa.Column("encounter_class", sa.String(12)),
        sa.Column("insured", sa.Boolean),
        sa.Column("encounters", sa.BigInteger, nullable=False),
        sa.Column("wait_minutes_sum", sa.BigInteger, nullable=False),
        sa.Column("wait_minutes_sumsq", sa.BigInteger, nullable=False),
        sa.Column("cost_vnd_sum", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint(
            "bucket_start",
            "commune_code",
            "encounter_class",
            "insured",
            name="pk_health_encounter_hourly",
        ),
    )

    op.create_table(
        "ingest_reject",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("rejected_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("key", postgresql.BYTEA),
        sa.Column("raw", postgresql.BYTEA, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_reject"),
    )
    op.create_index("ix_ingest_reject_reason", "ingest_reject", ["reason"])


def downgrade() -> None:
    op.drop_table("ingest_reject")
    op.drop_table("health_encounter_hourly")
    op.execute("DROP TABLE health_encounter CASCADE")
    op.drop_table("admin_unit_closure")
    op.drop_table("admin_unit")
