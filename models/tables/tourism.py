"""Tourism tables: arrivals and feedback (counters)."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import PARTITIONED, Base, Count, EventColumns, HourlyColumns


class TourismArrivalRow(EventColumns, Base):
    """A party arriving at a site or checking in at a lodging."""

    __tablename__ = "tourism_arrival"
    __table_args__ = PARTITIONED

    kind: Mapped[str] = mapped_column(String(16))
    visitors: Mapped[int] = mapped_column(Integer)
    international: Mapped[bool] = mapped_column(Boolean)
    nights: Mapped[int] = mapped_column(Integer)


class TourismArrivalHourly(HourlyColumns, Base):
    """Hour × commune × kind × international: parties, visitors, guest-nights."""

    __tablename__ = "tourism_arrival_hourly"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    international: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    arrivals: Mapped[int] = mapped_column(Count)
    visitors_sum: Mapped[int] = mapped_column(Count)
    visitors_sumsq: Mapped[int] = mapped_column(Count)
    guest_nights_sum: Mapped[int] = mapped_column(Count)


class TourismFeedbackRow(EventColumns, Base):
    """A visitor review or social-media mention with its sentiment."""

    __tablename__ = "tourism_feedback"
    __table_args__ = PARTITIONED

    channel: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str] = mapped_column(String(12))
    sentiment: Mapped[float] = mapped_column(Float)
    rating: Mapped[int | None] = mapped_column(Integer)
    international: Mapped[bool] = mapped_column(Boolean)


class TourismFeedbackHourly(HourlyColumns, Base):
    """Hour × commune × channel × topic × international: feedback and sentiment sums.

    Mean sentiment = ``sentiment_sum / feedback``; mean rating = ``rating_sum / rated``.
    """

    __tablename__ = "tourism_feedback_hourly"

    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    topic: Mapped[str] = mapped_column(String(12), primary_key=True)
    international: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    feedback: Mapped[int] = mapped_column(Count)
    negative: Mapped[int] = mapped_column(Count)
    positive: Mapped[int] = mapped_column(Count)
    sentiment_sum: Mapped[float] = mapped_column(Float)
    sentiment_sumsq: Mapped[float] = mapped_column(Float)
    rated: Mapped[int] = mapped_column(Count)
    rating_sum: Mapped[int] = mapped_column(Count)
