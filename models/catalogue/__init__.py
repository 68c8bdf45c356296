"""The indicator catalogue, as data: adding an indicator is adding an entry
to its sector's module here.

Definitions follow ../shared/INDICATORS.md (Decision 766/QĐ-TTg for public services) and
the targets the seed articles state (Quảng Nam's digital-government plan 2021–2025 and
Resolution 04 on digital transformation). Rates are shown with two decimals; a rate whose
denominator is 0 is N/A (null), never 0.
"""

from __future__ import annotations

from models.catalogue.citizen import CITIZEN
from models.catalogue.data_quality import DATA_QUALITY
from models.catalogue.education import EDUCATION
from models.catalogue.health import HEALTH
from models.catalogue.public_services import PUBLIC_SERVICES
from models.catalogue.tourism import TOURISM
from models.indicators import Indicator

CATALOGUE: tuple[Indicator, ...] = (
    *HEALTH,
    *EDUCATION,
    *TOURISM,
    *PUBLIC_SERVICES,
    *CITIZEN,
    *DATA_QUALITY,
)
BY_CODE: dict[str, Indicator] = {i.code: i for i in CATALOGUE}
assert len(BY_CODE) == len(CATALOGUE), "duplicate indicator codes"
