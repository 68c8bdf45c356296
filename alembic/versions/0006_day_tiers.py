"""Day tiers: every hourly roll-up gets a copy summed by local calendar day, filled from it.

Each ``<stream>_daily`` table has its hourly table's columns and key, with ``bucket_start``
the local (Asia/Ho_Chi_Minh) midnight. Ingest keeps both in the same transaction from then
on; here the day rows are filled from the hourly rows already stored: measures summed,
``updated_at`` the newest of the day, and for gauges the reading with the newest
``latest_at`` of the day (hours never share a ``latest_at``, so it is unique).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCAL_TZ = "Asia/Ho_Chi_Minh"
DAY_TIERS = {
    "health_encounter_hourly": "health_encounter_daily",
    "health_encounter_diagnosis_hourly": "health_encounter_diagnosis_daily",
    "health_bed_census_hourly": "health_bed_census_daily",
    "health_claim_hourly": "health_claim_daily",
    "education_attendance_hourly": "education_attendance_daily",
    "education_report_hourly": "education_report_daily",
    "tourism_arrival_hourly": "tourism_arrival_daily",
    "tourism_feedback_hourly": "tourism_feedback_daily",
    "public_service_dossier_hourly": "public_service_dossier_daily",
    "citizen_report_hourly": "citizen_report_daily",
    "source_hourly": "source_daily",
}


def _q(name: str) -> str:
    return f'"{name}"'


def _backfill(hourly: str, daily: str, columns: list[str], key: list[str]) -> str:
    dims = [c for c in key if c != "bucket_start"]
    latest = [c for c in columns if c.startswith("latest_") and c != "latest_at"]
    summed = [
        c for c in columns if c not in key and c not in latest and c not in ("updated_at", "latest_at")
    ]
    day = f"date_trunc('day', bucket_start, '{LOCAL_TZ}')"
    names = ["bucket_start", *dims, *summed, "updated_at"]
    values = [day, *map(_q, dims), *(f"sum({_q(c)})" for c in summed), "max(updated_at)"]
    if "latest_at" in columns:
        names += ["latest_at", *latest]
        values += ["max(latest_at)"]
        values += [f"(array_agg({_q(c)} ORDER BY latest_at DESC))[1]" for c in latest]
    return (
        f"INSERT INTO {_q(daily)} ({', '.join(map(_q, names))}) "
        f"SELECT {', '.join(values)} FROM {_q(hourly)} "
        f"GROUP BY {', '.join([day, *map(_q, dims)])}"
    )


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for hourly, daily in DAY_TIERS.items():
        columns = [c["name"] for c in inspector.get_columns(hourly)]
        key = inspector.get_pk_constraint(hourly)["constrained_columns"]
        op.execute(f"CREATE TABLE {_q(daily)} (LIKE {_q(hourly)} INCLUDING DEFAULTS)")
        op.create_primary_key(f"pk_{daily}", daily, key)
        op.execute(
            f"COMMENT ON TABLE {_q(daily)} IS "
            f"'{hourly} summed by local (Asia/Ho_Chi_Minh) calendar day'"
        )
        op.execute(_backfill(hourly, daily, columns, key))


def downgrade() -> None:
    for daily in DAY_TIERS.values():
        op.drop_table(daily)
