"""Tourism payloads from the smart-tourism platform: arrivals at sites and lodgings, feedback."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TourismArrival(BaseModel):
    """A party arriving at a tourist site (ticket scan) or checking in at a lodging."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["site_visit", "lodging_checkin"]
    visitors: int = Field(ge=1, le=500, description="People in the party.")
    international: bool
    nights: int = Field(
        default=0, ge=0, le=90, description="Nights booked; 0 for a site visit (guest-nights)."
    )


class TourismFeedback(BaseModel):
    """A visitor's review or social-media mention, with the platform's sentiment score."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Literal["app", "portal", "social"]
    topic: Literal["service", "price", "cleanliness", "safety", "transport", "other"]
    sentiment: float = Field(ge=-1, le=1, description="-1 very negative … +1 very positive.")
    rating: int | None = Field(default=None, ge=1, le=5)
    international: bool
