"""Poison input: every kind of bad message a source system or a bug can send, as raw bytes
for the broker and as documents for the gateway, with the reason ingest must give."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from models import events as ev
from tests import ingest_builders as b

Doc = dict[str, Any]


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _valid(at: datetime | None = None) -> Doc:
    doc = b.encounter(at or datetime.now(UTC) - timedelta(hours=2), 3)
    doc["id"] = str(uuid.uuid4())
    return doc


def poison_documents(now: datetime) -> dict[str, tuple[str, Doc]]:
    """Name → (reason ingest gives, document): each is JSON, so the gateway can get it too."""
    good = _valid()
    data = good["data"]
    return {
        "schema: data misses a field": (
            "schema",
            {**good, "data": {k: v for k, v in data.items() if k != "age_band"}},
        ),
        "schema: specversion 2.0": ("schema", {**good, "specversion": "2.0"}),
        "schema: NUL in a data string": ("schema", {**good, "data": {**data, "sex": "F\u0000"}}),
        "schema: NUL in the subject": ("schema", {**good, "subject": "\u000050101"}),
        "unknown type": ("unknown_type", {**good, "type": "vn.gov.quangnam.health.nope"}),
        "unknown commune": ("unknown_unit", {**good, "subject": "99999"}),
        "unknown source": ("unknown_source", {**good, "source": "his/NOT-REGISTERED"}),
        "time 9999-12-15": ("time_out_of_range", {**good, "time": "9999-12-15T00:00:00+00:00"}),
        "time 0001-01-01": ("time_out_of_range", {**good, "time": "0001-01-01T00:00:00+00:00"}),
        "time 9999-12-31T23:00-05:00": (
            "time_out_of_range",
            {**good, "time": "9999-12-31T23:00:00-05:00"},
        ),
        "time 30 days ahead": (
            "time_out_of_range",
            {**good, "time": (now + timedelta(days=30)).isoformat()},
        ),
        "time 1900-01-01": ("time_out_of_range", {**good, "time": "1900-01-01T00:00:00+07:00"}),
        "nesting 300 deep in data": ("schema", {**good, "data": {**data, "x": _nested(300)}}),
        # (the gateway, which re-encodes each event, may call it bad_json: see GATEWAY_MAY_SAY)
    }


GATEWAY_MAY_SAY = {"nesting 300 deep in data": {"schema", "bad_json"}}
"""Kinds whose gateway verdict may name another reason than the broker path's reject."""


def poison_raw() -> dict[str, tuple[str, bytes]]:
    """Name → (reason, bytes) of what only reaches the broker: not JSON, or not an object."""
    good = orjson.dumps(_valid())
    return {
        "truncated JSON": ("bad_json", good[: len(good) // 2]),
        "not UTF-8": ("bad_json", b"\xff\xfe\x00garbage"),
        "a raw NUL byte": ("bad_json", good.replace(b'"specversion"', b'"spec\x00version"', 1)),
        "JSON null": ("bad_json", b"null"),
        "JSON array": ("bad_json", b"[1, 2, 3]"),
        "nesting 5000 deep": ("bad_json", b"[" * 5000 + b"]" * 5000),
    }


def every_message(now: datetime) -> dict[str, tuple[str, bytes]]:
    """Every poison kind as the bytes put on the broker."""
    docs = {  # the standard encoder: orjson refuses nesting deeper than 255
        k: (reason, json.dumps(doc).encode()) for k, (reason, doc) in poison_documents(now).items()
    }
    return {**docs, **poison_raw()}


def months_apart(count: int, now: datetime) -> list[Doc]:
    """``count`` valid-looking encounters, one in each month going back from now."""
    first = now.replace(day=15, hour=3, minute=0, second=0, microsecond=0)
    out = []
    for i in range(count):
        year, month = divmod(first.year * 12 + first.month - 1 - i, 12)
        out.append(_valid(first.replace(year=year, month=month + 1)))
    return out


BIG_TYPE = ev.HEALTH_ENCOUNTER
BIG_BYTES = 1_500_000
"""A message over Kafka's 1 MB default, on a topic configured to take it."""


def big_message() -> bytes:
    doc = _valid()
    doc["data"] = {**doc["data"], "icd_code": "x" * BIG_BYTES}
    return orjson.dumps(doc)
