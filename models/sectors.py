"""The sectors: one spelling each, shared by event types (``vn.gov.quangnam.<sector>.<kind>``,
topics ``ioc.<sector>.<kind>``), source systems and catalogue indicators.

``data`` is the data-quality sector of indicators computed from every stream's arrivals;
it has no event type of its own. A new sector is declared with :func:`declare_sector`
before its event types and indicators.
"""

from __future__ import annotations

from models.registry import Registry

SECTORS: Registry[str] = Registry("sector")
"""Sector name → what it covers (English)."""

LEGACY_SPELLINGS = {"public_services": "public_service"}
"""Spellings older API clients may still send as a filter, and the sector each means."""


def declare_sector(name: str, covers: str) -> str:
    """Declare a sector; returns its name, the one spelling to use."""
    SECTORS.add(name, covers)
    return name


HEALTH = declare_sector("health", "hospital encounters, bed census, insurance claims")
EDUCATION = declare_sector("education", "school attendance and periodic reports")
TOURISM = declare_sector("tourism", "arrivals at sites and lodgings, visitor feedback")
PUBLIC_SERVICE = declare_sector("public_service", "one-stop desks' administrative dossiers")
CITIZEN = declare_sector("citizen", "the 1022 hotline's reports and their handling")
DATA = declare_sector("data", "data quality of every stream (no event type of its own)")


def require_sector(name: str) -> str:
    """``name`` if it is a declared sector, else ValueError naming the declared ones."""
    if name not in SECTORS:
        raise ValueError(f"unknown sector {name!r}; declared: {', '.join(SECTORS)}")
    return name
