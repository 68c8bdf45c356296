"""What each commit may have changed, for answers kept across commits that cannot change them.

Why: the API keeps the answers to settled questions (a district's months of last year, a
year's ranking) and serves them again while the data they read is unchanged. Under a live
feed every batch is a commit, and a commit of today's events cannot change last year's
figures; without knowing what a commit changed, each one sent every kept answer back to be
computed (``app.kit.answers``).

The contract: a transaction that writes rows the indicator answers read adds one row here,
in that same transaction, keyed by its own transaction id, saying the earliest moment its
rows count at (``since``): an event's time, a lifecycle entity's moments before and after
it changed. ``'infinity'`` says it changed nothing an answer reads (the live stream's log).
The row commits or rolls back with what it describes, so a snapshot that sees a commit sees
its row. A committed transaction without a row (an operator's target, a unit boundary, a
closure, a partition made, autovacuum) counts as having changed everything: forgetting to
log costs speed, never truth.

Rows are pruned after :data:`KEEP` (``ingest``'s maintenance); an API process that last
read the database before that treats the commits since as unknown, as above.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Index, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, Timestamp

KEEP = timedelta(hours=1)
"""How long a commit's row is kept: far longer than an API process goes between reads."""


class ChangeLog(Base):
    """One committed transaction's earliest changed moment."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_logged_at", "logged_at"),)

    xid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    since: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    logged_at: Mapped[datetime] = mapped_column(
        Timestamp, nullable=False, server_default=text("now()")
    )


LOG_CHANGE = (
    "INSERT INTO change_log (xid, since) VALUES (pg_current_xact_id()::text::bigint, %(since)s)"
    " ON CONFLICT (xid) DO UPDATE SET since = least(change_log.since, excluded.since)"
)
"""The statement a writing transaction runs (psycopg parameters): ``since`` its earliest
changed moment, ``'infinity'`` for nothing an answer reads. Run twice in one transaction,
the row keeps the earlier moment."""

NOTHING_READ = "infinity"
"""``since`` for a transaction that changed nothing an answer reads."""


async def log_change(conn: AsyncConnection, since: datetime | str = NOTHING_READ) -> None:
    """Log, in ``conn``'s transaction, that it changed nothing before ``since`` (by default:
    nothing an answer reads)."""
    await conn.exec_driver_sql(LOG_CHANGE, {"since": since})
