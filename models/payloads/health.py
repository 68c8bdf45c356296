"""Health-sector payloads: what hospital information systems (HIS) and the BHYT
(social health insurance) e-verification system report."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

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
    icd_code: str | None = Field(
        default=None,
        pattern=r"^[A-Z][0-9]{2}$",
        description="3-character ICD-10 category when known, e.g. A90 (dengue).",
    )
    wait_minutes: int = Field(ge=0, le=24 * 60, description="Arrival to first examination.")
    cost_vnd: int = Field(ge=0, le=10_000_000_000, description="Total cost of the encounter, VND.")


class BedCensus(BaseModel):
    """A snapshot of a facility's inpatient beds (a gauge: averaged, not summed, over time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    beds_total: int = Field(ge=0, le=5_000)
    beds_occupied: int = Field(ge=0, le=10_000, description="Can exceed beds_total (shared beds).")


class InsuranceClaim(BaseModel):
    """A BHYT claim from an insured clinic, with its e-verification (giám định điện tử) outcome."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim_id: str = Field(min_length=1, max_length=64)
    encounter_id: UUID | None = Field(default=None, description="The encounter event it bills.")
    amount_vnd: int = Field(ge=0, le=10_000_000_000)
    sent_for_everification: bool = Field(description="Submitted to the e-verification portal.")
    outcome: Literal["accepted", "rejected", "pending"]
    chip_id_lookup: bool = Field(description="Insurance looked up with the chip-based ID (CCCD).")
    chip_id_lookup_ok: bool | None = Field(
        default=None, description="Whether that look-up succeeded; null when none was made."
    )
