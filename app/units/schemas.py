"""Administrative-unit responses."""

from __future__ import annotations

from pydantic import BaseModel, Field


class UnitOut(BaseModel):
    code: str = Field(examples=["503"])
    name: str = Field(examples=["Thành phố Hội An"])
    level: str = Field(examples=["district"])
    parent_code: str | None = Field(default=None, examples=["49"])
    lat: float | None = None
    lon: float | None = None
    population: int | None = None


class UnitNode(UnitOut):
    children: list[UnitNode] = Field(default_factory=list)


class UnitDetail(UnitOut):
    hierarchy: str = Field(examples=["2020"])
    ancestors: list[UnitOut] = Field(description="From the top (province) down.")
    children: list[UnitOut]
