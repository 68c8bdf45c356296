"""Health-sector payloads, as a hospital information system (HIS) reports them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EncounterClass = Literal["outpatient", "inpatient", "emergency"]
AgeBand = Literal["0-4", "5-14", "15-49", "50-64", "65+"]
Sex = Literal["F", "M"]
# ICD-10 chapters by Roman numeral: coarse enough to publish, fine enough for the wall.
IcdChapter = Literal[
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI",
    "XII", "XIII", "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX", "XXI", "XXII",
]  # fmt: skip


class HealthEncounter(BaseModel):
    """One patient contact at a facility: the unit the HIS counts and BHYT pays for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    encounter_class: EncounterClass
    age_band: AgeBand
    sex: Sex
    insured: bool = Field(description="Covered by social health insurance (BHYT).")
    icd_chapter: IcdChapter
    wait_minutes: int = Field(ge=0, le=24 * 60, description="Arrival to first examination.")
    cost_vnd: int = Field(ge=0, le=10_000_000_000, description="Total cost of the encounter, VND.")
