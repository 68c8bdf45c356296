"""The indicator catalogue, as data: adding an indicator is adding an entry
to its sector's module here.

Definitions follow ../shared/INDICATORS.md (Decision 766/QĐ-TTg for public services) and
the targets the seed articles state (Quảng Nam's digital-government plan 2021–2025 and
Resolution 04 on digital transformation). Rates are shown with two decimals; a rate whose
denominator is 0 is N/A (null), never 0.
"""

from __future__ import annotations

from collections.abc import ValuesView

from models.catalogue.citizen import CITIZEN
from models.catalogue.data_quality import DATA_QUALITY
from models.catalogue.education import EDUCATION
from models.catalogue.health import HEALTH
from models.catalogue.public_services import PUBLIC_SERVICES
from models.catalogue.tourism import TOURISM
from models.indicators import Indicator, Metric
from models.registry import Registry
from models.tables import TIERS, Base, kept_columns, tiers_of

BY_CODE: Registry[Indicator] = Registry("indicator")
"""Indicator code → its entry."""
CATALOGUE: ValuesView[Indicator] = BY_CODE.values()
"""Every entry, in declaration order (a live view: an indicator registered later is in it)."""


def register_indicator(indicator: Indicator) -> Indicator:
    """Add an entry: the API lists, answers, exports and streams it from here on. Its
    metrics must name declared roll-ups (:data:`models.tables.TIERS`) or state tables and
    their columns, so a typo fails here, not in a query."""
    for metric in (indicator.numerator, indicator.denominator):
        if metric is not None:
            check_metric(indicator.code, metric)
    return BY_CODE.add(indicator.code, indicator)


OPEN_KINDS = ("open_at_start", "open_at_end", "open_overdue_at_end")
"""Lifecycle counts of entities open (or open and overdue) at a moment."""


def check_metric(code: str, metric: Metric) -> None:
    """ValueError unless every table and column the metric names is declared."""
    for part in (metric, *metric.plus):
        if part.rollup is None:
            continue
        if part.kind == "sum":
            table = tiers_of(part.rollup).hour if part.rollup in TIERS else None
        else:
            table = Base.metadata.tables.get(part.rollup)
        if table is None:
            raise ValueError(f"{code}: {part.rollup!r} is not a declared roll-up or state table")
        named = {part.measure} if part.measure else set()
        missing = sorted((named | set(part.filters) | set(part.unless)) - set(table.c.keys()))
        if missing:
            raise ValueError(f"{code}: {part.rollup} has no column {', '.join(missing)}")
        if part.kind in ("received_in_period", "completed_in_period"):
            # Counted from per-unit day rows, which keep only these columns' values.
            unkept = sorted({*part.filters, *part.unless} - set(kept_columns(part.rollup)))
            if unkept:
                raise ValueError(
                    f"{code}: {part.rollup} completions are not counted by "
                    f"{', '.join(unkept)} (models.tables.lifecycle_totals.KEPT_COLUMNS)"
                )
        if part.kind in OPEN_KINDS and (part.filters or part.unless):
            # Open and overdue counts are running totals of every entity: a filter would
            # be silently ignored, so a figure would not be what its definition says.
            raise ValueError(f"{code}: {part.kind} counts every open entity; it takes no filters")


for _indicator in (*HEALTH, *EDUCATION, *TOURISM, *PUBLIC_SERVICES, *CITIZEN, *DATA_QUALITY):
    register_indicator(_indicator)
