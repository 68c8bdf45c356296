"""Public-service dossier lifecycle (one-stop shop / public-service portal).

One event per lifecycle step of a dossier; every event repeats the dossier's fixed facts
(procedure, channel, promised date…), so any single event is enough to create its state
row, and a late event never needs another to make sense. The fields are those the
national service-quality index (Decision 766/QĐ-TTg) computes from; see INDICATORS.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

DossierStage = Literal[
    "received",  # accepted at the desk or online
    "supplement_requested",  # citizen asked for more documents: the clock stops
    "supplement_received",  # the clock restarts
    "completed",  # result ready (returned to the citizen)
    "rated",  # citizen's satisfaction rating
]


class DossierEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dossier_id: str = Field(min_length=1, max_length=64, description="The lifecycle entity key.")
    stage: DossierStage
    # Fixed facts of the dossier, repeated on every event.
    procedure_code: str = Field(min_length=1, max_length=32, examples=["1.001234"])
    online_level: Literal["none", "partial", "full"] = Field(
        description="What the procedure offers online: none, partly (một phần), fully (toàn trình)."
    )
    agency_level: Literal["province", "district", "commune"]
    channel: Literal["online", "desk", "postal"]
    received_at: AwareDatetime
    due_at: AwareDatetime = Field(description="Promised return date (working days counted).")
    fee_vnd: int = Field(ge=0, le=1_000_000_000, description="0 for free procedures.")
    issues_result: bool = Field(default=True, description="The procedure issues a result.")
    synced_to_national_portal: bool
    digitised_inputs: bool = Field(description="Input documents digitised at reception.")
    reused_digitised_data: bool = Field(description="Filled from already-digitised data.")
    vneid_authenticated: bool = Field(description="VNeID login or population-DB data used.")
    # Stage facts.
    supplement_days: float | None = Field(
        default=None, ge=0, description="supplement_received: days the citizen took."
    )
    paid_online: bool | None = Field(default=None, description="completed: fee paid online.")
    e_result: bool | None = Field(default=None, description="completed: electronic result.")
    on_time: bool | None = Field(default=None, description="completed: as the system judged it.")
    rating: Literal["satisfied", "neutral", "dislike"] | None = None
    complaint: bool | None = Field(default=None, description="rated: a complaint was filed.")

    @model_validator(mode="after")
    def _stage_fields(self) -> DossierEvent:
        if self.due_at < self.received_at:
            raise ValueError("due_at is before received_at")
        if self.stage == "completed" and (self.e_result is None or self.paid_online is None):
            raise ValueError("a completed event needs e_result and paid_online")
        if self.stage == "rated" and self.rating is None:
            raise ValueError("a rated event needs rating")
        if self.stage == "supplement_received" and self.supplement_days is None:
            raise ValueError("a supplement_received event needs supplement_days")
        return self
