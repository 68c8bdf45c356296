"""Education tables: daily attendance (gauge) and periodic school reports (counter)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import PARTITIONED, Base, Count, EventColumns, HourlyColumns, Timestamp


class EducationAttendanceRow(EventColumns, Base):
    """Attendance of one grade of one school on one school day."""

    __tablename__ = "education_attendance"
    __table_args__ = PARTITIONED

    school_level: Mapped[str] = mapped_column(String(16))
    grade: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    enrolled: Mapped[int] = mapped_column(Integer)
    present: Mapped[int] = mapped_column(Integer)


class EducationAttendanceHourly(HourlyColumns, Base):
    """Hour × commune × school system (``source``) × school level: readings and their sums.

    Attendance rate = ``present_sum / enrolled_sum``. ``latest_*`` as for bed census.
    """

    __tablename__ = "education_attendance_hourly"

    source: Mapped[str] = mapped_column(String(120), primary_key=True)
    school_level: Mapped[str] = mapped_column(String(16), primary_key=True)
    readings: Mapped[int] = mapped_column(Count)
    enrolled_sum: Mapped[int] = mapped_column(Count)
    present_sum: Mapped[int] = mapped_column(Count)
    latest_at: Mapped[datetime] = mapped_column(Timestamp)
    latest_enrolled: Mapped[int] = mapped_column(Integer)
    latest_present: Mapped[int] = mapped_column(Integer)


class EducationReportRow(EventColumns, Base):
    """A periodic school report with its headcounts."""

    __tablename__ = "education_report"
    __table_args__ = PARTITIONED

    school_level: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(8))
    pupils: Mapped[int] = mapped_column(Integer)
    classes: Mapped[int] = mapped_column(Integer)
    teachers: Mapped[int] = mapped_column(Integer)
    due: Mapped[date] = mapped_column(Date)


class EducationReportHourly(HourlyColumns, Base):
    """Hour × commune × school level × period: reports received, on time, and headcounts.

    ``reports_on_time``: sent on or before the due day (local time).
    """

    __tablename__ = "education_report_hourly"

    school_level: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    reports: Mapped[int] = mapped_column(Count)
    reports_on_time: Mapped[int] = mapped_column(Count)
    pupils_sum: Mapped[int] = mapped_column(Count)
    classes_sum: Mapped[int] = mapped_column(Count)
    teachers_sum: Mapped[int] = mapped_column(Count)
