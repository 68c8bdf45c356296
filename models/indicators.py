"""The shape of an indicator catalogue entry; the entries themselves are in ``models.catalogue``.

Each indicator is ``factor × numerator / denominator`` (or ``factor × numerator`` when it is
a count) where both are :class:`Metric` sums, so every indicator rolls up from commune to
district to province and from hour to year by summing first and dividing last.
Targets come by year and level with a green/amber/red band, so the wall can colour a value
without code knowing what the indicator means.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.sectors import require_sector

Level = Literal["province", "district", "commune"]
BucketName = Literal["hour", "day", "week", "month", "quarter", "year"]
MetricKind = Literal[
    "sum", "population", "expected_events", "received_events", "on_time_events",
    "expected_slots", "received_slots",
    "open_at_start", "open_at_end", "open_overdue_at_end", "working_days_to_done",
    "received_in_period", "completed_in_period",
]  # fmt: skip

LIFECYCLE_KINDS = (
    "open_at_start", "open_at_end", "open_overdue_at_end", "working_days_to_done",
    "received_in_period", "completed_in_period",
)  # fmt: skip
SOURCE_KINDS = (
    "expected_events", "received_events", "on_time_events", "expected_slots", "received_slots",
)  # fmt: skip
"""Metrics counted from the data-quality roll-up (``source_hourly``) and the source registry."""


class Metric(BaseModel):
    """What to add up for a unit and a period.

    - ``sum``: ``sum(measure) WHERE filters`` over an hourly roll-up table;
    - ``population``: the unit's population (a per-capita denominator; time-invariant);
    - ``expected_events`` / ``received_events`` / ``on_time_events``: events the source
      registry expects from the sources located in the unit, events received from them,
      and those ingested within the on-time delay (data-quality indicators);
    - ``expected_slots`` / ``received_slots``: reporting slots those sources owe by their
      cadence (``models.cadence``) that are due, and those of them in which something
      arrived (completeness, ≤ 100 % by construction);
    - ``open_at_start`` / ``open_at_end`` / ``open_overdue_at_end``: entities of a
      lifecycle state table (``rollup``) still open when the bucket starts (carried over) or
      when it ends, or open and past their deadline when it ends (supplement days added to
      the deadline when the table has them);
    - ``working_days_to_done``: for entities completed in the bucket, the working days from
      receipt to completion (weekends, public holidays and Tết not counted; the citizen's
      supplement days deducted where the table has them);
    - ``received_in_period`` / ``completed_in_period``: entities of a lifecycle state table
      received, or completed (a dossier's completion, a report's resolution), in the bucket,
      those matching ``filters`` (state columns) and none of ``unless``.

    In a lifecycle state table an entity is *done* from its completion, or, when only a
    later step is known (a rating, with the completion lost or before the data starts), from
    that step: a later stage implies the earlier ones. Such an entity counts as open until
    that step and is never counted as completed in a bucket (its completion time and its
    punctuality are unknown). Times before receipt count as receipt (a skewed clock).

    ``plus`` adds further metrics, each times its ``weight`` (−1 subtracts), so an official
    formula such as (overdue completed + overdue open) is still one numerator.
    """

    model_config = ConfigDict(frozen=True)

    kind: MetricKind = "sum"
    rollup: str | None = Field(default=None, description="Roll-up table (kind=sum).")
    measure: str | None = Field(default=None, description="Additive column of that table.")
    filters: dict[str, str | bool | tuple[str, ...]] = Field(
        default_factory=dict, description="Column = value, or column IN (values)."
    )
    stream: str | None = Field(
        default=None, description="Event type of the sources (event kinds); None: every type."
    )
    unless: dict[str, str | bool] = Field(
        default_factory=dict,
        description="Lifecycle kinds: leave out entities where any column = value.",
    )
    weight: float = 1.0
    plus: tuple[Metric, ...] = ()

    @model_validator(mode="after")
    def _complete(self) -> Metric:
        if self.kind == "sum" and not (self.rollup and self.measure):
            raise ValueError("a sum metric needs rollup and measure")
        if self.kind in LIFECYCLE_KINDS and not self.rollup:
            raise ValueError("a lifecycle metric needs its state table as rollup")
        return self


class Target(BaseModel):
    """A goal for a year, at one level or (``level=None``) at every level.

    ``value`` reached is green; between ``value`` and ``amber_at`` is amber; beyond is red
    (``higher_is_better`` says which way is beyond).
    """

    model_config = ConfigDict(frozen=True)

    year: int = Field(ge=2000, le=2100)
    level: Level | None = None
    value: float
    amber_at: float
    source: str = Field(description="Where the target is set (decision, plan, seed article).")


class Indicator(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=r"^[a-z]+\.[a-z0-9_]+$", examples=["health.emergency_share"])
    name_vi: str
    name_en: str
    sector: str = Field(description="A declared sector (``models.sectors``).")
    unit: str = Field(description="What the value counts: 'encounters', '%', 'minutes'…")
    description: str = Field(default="", description="Numerator ÷ denominator in words.")
    numerator: Metric
    denominator: Metric | None = None
    factor: float = 1.0
    decimals: int = Field(default=2, ge=0, le=6)
    higher_is_better: bool | None = None
    additive: bool = Field(
        default=False, description="A count: a province's value is the sum of its districts'."
    )
    open_data: bool = Field(default=True, description="Readable and exportable without a key.")
    suppress_small_counts: bool = Field(
        default=False, description="Exports blank numerators/denominators below 5 (health)."
    )
    levels: tuple[Level, ...] = ("province", "district", "commune")
    buckets: tuple[BucketName, ...] = ("hour", "day", "week", "month", "quarter", "year")
    targets: tuple[Target, ...] = ()

    @field_validator("sector")
    @classmethod
    def _declared_sector(cls, sector: str) -> str:
        return require_sector(sector)

    @model_validator(mode="after")
    def _coherent(self) -> Indicator:
        if self.additive and self.denominator is not None:
            raise ValueError(f"{self.code}: a ratio is not additive")
        for target in self.targets:
            if self.higher_is_better is None:
                raise ValueError(f"{self.code}: a target needs higher_is_better")
            wrong_way = (
                target.amber_at > target.value
                if self.higher_is_better
                else target.amber_at < target.value
            )
            if wrong_way:
                raise ValueError(f"{self.code}: amber_at must be on the red side of the target")
        return self

    def target_for(self, year: int, level: str) -> Target | None:
        """The target in force: the next milestone (earliest year ≥ ``year``) for this level,
        else the latest one passed: "over 50% by 2025" still binds in 2026."""
        mine = [t for t in self.targets if t.level in (None, level)]
        ahead = [t for t in mine if t.year >= year]
        # A level-specific target beats a general one of the same year.
        if ahead:
            return min(ahead, key=lambda t: (t.year, t.level is None))
        if mine:
            return max(mine, key=lambda t: (t.year, t.level is not None))
        return None
