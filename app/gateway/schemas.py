"""What the gateway answers: one verdict per event of the batch, in the order sent."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class EventVerdict(BaseModel):
    index: int = Field(description="Position of the event in the posted array.")
    id: str | None = Field(description="The event's CloudEvents id, when it had one.")
    status: Literal["accepted", "rejected"]
    reason: str | None = Field(
        default=None,
        description="Why it was rejected: too_large, bad_json, schema, unknown_type, "
        "unknown_unit or unknown_source.",
    )
    detail: str | None = None


class BatchVerdict(BaseModel):
    accepted: int
    rejected: int
    results: list[EventVerdict]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "accepted": 1,
                    "rejected": 1,
                    "results": [
                        {"index": 0, "id": "0b6c…", "status": "accepted"},
                        {
                            "index": 1,
                            "id": "5f1e…",
                            "status": "rejected",
                            "reason": "unknown_unit",
                            "detail": "subject '99999' is not a commune",
                        },
                    ],
                }
            ]
        }
    }
