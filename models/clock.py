"""The province's clock, shared by every stage: its time zone and the hour an event falls in.

Hour buckets are UTC hours (Việt Nam keeps UTC+7 all year, so they are local hours too);
day and longer buckets are cut in local time by ``app.kit.buckets``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = "Asia/Ho_Chi_Minh"
LOCAL = ZoneInfo(LOCAL_TZ)


def floor_hour(moment: datetime) -> datetime:
    """The start of the (UTC) hour ``moment`` falls in: the key of every hourly roll-up."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def floor_local_day(moment: datetime) -> datetime:
    """The local midnight starting the calendar day ``moment`` falls in: the key of every
    day-tier roll-up (the same instant as ``date_trunc('day', t, 'Asia/Ho_Chi_Minh')``)."""
    return moment.astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
