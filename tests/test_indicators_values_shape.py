"""A value as the service builds it, and an answer as it is written, are byte for byte what
the validated model and FastAPI's own rendering give, without a database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from starlette.responses import JSONResponse

from app.indicators.schemas import IndicatorSeries, IndicatorValue, known_value
from app.kit.answers import json_body
from app.kit.buckets import LOCAL
from models.catalogue import BY_CODE

FLOATS = [
    0.0, -0.0, 1.0, 12.5, 0.1 + 0.2, 1 / 3, 0.0001, 0.00012, 0.00009, 1e-5, 2.5e-5, 1e-7,
    5e-324, -1e-5, 1e15, 1e16, 1.5e16, 1e22, 123456789012345.6, -42.25,
]  # fmt: skip
"""Across pydantic's and ``json``'s notations: the same digits from 1e-4 up, not below."""


def _fields(n: int, number: float) -> dict[str, object]:
    return {
        "unit_code": f"5{n:02d}",
        "period_start": datetime(2025, 1, 1, tzinfo=LOCAL) + timedelta(days=n),
        "value": None if n % 3 == 0 else number,
        "numerator": number,
        "denominator": None if n % 2 else abs(number) + 1.0,
        "target": None if n % 4 else 50.0,
        "gap": None if n % 4 else -0.25,
        "status": ("green", "amber", "red", "none")[n % 4],
        "completeness": None if n % 5 == 0 else 0.9876,
        "as_of": None if n % 6 == 0 else datetime(2025, 3, 1, 1, 2, 3, 123456, tzinfo=UTC),
        "partial": n % 2 == 0,
        "period_covered": 1.0 if n % 2 else 0.4583,
    }


@pytest.mark.parametrize("n", range(len(FLOATS)))
def test_a_built_value_is_the_validated_one(n: int) -> None:
    fields = _fields(n, FLOATS[n])
    built = known_value(**fields)  # type: ignore[arg-type]
    validated = IndicatorValue.model_validate(fields)
    assert built == validated
    assert built.model_fields_set == validated.model_fields_set
    assert built.model_dump_json() == validated.model_dump_json()
    assert built.model_dump(mode="json") == validated.model_dump(mode="json")
    # Withheld for the public: a copy with counts removed, the built value left as it was.
    hidden = built.model_copy(update={"numerator": None, "suppressed": True})
    assert hidden.suppressed and hidden.numerator is None
    assert not built.suppressed and built.numerator == validated.numerator


@pytest.mark.parametrize("code", ["health.encounters", "ps.on_time_rate", "tourism.mean_sentiment"])
def test_an_answer_is_written_as_fastapi_renders_it(code: str) -> None:
    values = [known_value(**_fields(n, x)) for n, x in enumerate(FLOATS)]  # type: ignore[arg-type]
    for number in FLOATS:  # each float alone too: one small one sends the whole answer the slow way
        for series in (
            IndicatorSeries(indicator=BY_CODE[code], values=values),
            IndicatorSeries(indicator=BY_CODE[code], values=[known_value(**_fields(1, number))]),  # type: ignore[arg-type]
        ):
            expected = bytes(JSONResponse(series.model_dump(mode="json", by_alias=True)).body)
            assert json_body(series) == expected
            assert json.loads(expected)["indicator"]["code"] == code
