"""A threshold rule's window: flows add up hour by hour, stocks count once, at its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models.units import legacy_units
from tests import ingest_builders as b
from tests.test_alerts import evaluate, ingest

pytestmark = pytest.mark.integration

AS_OF = datetime(2025, 6, 16, 1, 0, tzinfo=UTC)  # a Monday, 08:00 in Quảng Nam
DESK = b.source_for(b.ev.PUBLIC_SERVICE_DOSSIER)
DISTRICT = next(u.parent_code for u in legacy_units() if u.code == DESK.commune_code)


async def test_open_dossiers_count_once_over_a_weeks_window(clean_db: AsyncEngine) -> None:
    """25 dossiers completed in the week (4 late) and one open past its deadline all week:
    (21 on time + 0 open in time) ÷ (25 completed + 1 open) = 80.77 %. Summed hour by
    hour, the open dossier would count 168 times over (10.88 %)."""
    docs = []
    for i in range(25):
        received = AS_OF - timedelta(days=6, hours=i)
        docs += [
            b.dossier(f"D{i}", "received", received, received),
            b.dossier(f"D{i}", "completed", received + timedelta(days=1), received,
                      on_time=i >= 4),
        ]  # fmt: skip
    stale = AS_OF - timedelta(days=12)
    docs.append(b.dossier("OPEN", "received", stale, stale))
    await ingest(clean_db, docs)
    result = await evaluate(clean_db, "ps.on_time_low", AS_OF)
    assert [(a.unit_code, a.value) for a in result.opened] == [(DISTRICT, 80.77)]
