"""The change notice ingest sends with ``NOTIFY`` after each commit, and the API listens for.

Kept small (PostgreSQL caps a payload at 8,000 bytes): which roll-ups changed, over which
communes and which span of hour buckets. The API turns it into indicator updates.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

CHANNEL = "ioc_changes"
MAX_COMMUNES = 300  # beyond this a notice says "all communes" (empty list) to stay small


class ChangeNotice(BaseModel):
    rollups: list[str] = Field(description="Roll-up tables that changed.")
    communes: list[str] = Field(description="Commune codes touched; empty means all.")
    first_bucket: datetime
    last_bucket: datetime
    committed_at: datetime
