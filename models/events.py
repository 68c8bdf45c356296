"""The event contract: CloudEvents 1.0 (structured JSON, or binary content mode over HTTP
and on Kafka), and the registry of event types.

Every stage imports this module and nothing else to know what an event is, which topic it
travels on and how its payload is validated: the simulators build envelopes with it, the
ingest workers parse with it, the HTTP gateway validates with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import orjson
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings import http as http_binding
from cloudevents.core.bindings import kafka as kafka_binding
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from models.payloads.citizen import CitizenReport
from models.payloads.education import SchoolAttendance, SchoolReport
from models.payloads.health import BedCensus, HealthEncounter, InsuranceClaim
from models.payloads.public_service import DossierEvent
from models.payloads.tourism import TourismArrival, TourismFeedback
from models.registry import Registry
from models.sectors import CITIZEN, EDUCATION, HEALTH, PUBLIC_SERVICE, TOURISM, require_sector

TYPE_PREFIX = "vn.gov.quangnam"
MAX_EVENT_BYTES = 64 * 1024
"""Larger messages are rejected unread: no legitimate sector event comes near this."""


@dataclass(frozen=True, slots=True)
class EventType:
    """One registered CloudEvents ``type``: its payload model and the topic it travels on."""

    sector: str
    kind: str
    payload: type[BaseModel]

    @property
    def type(self) -> str:
        return f"{TYPE_PREFIX}.{self.sector}.{self.kind}"

    def topic(self, prefix: str) -> str:
        return f"{prefix}.{self.sector}.{self.kind}"


REGISTRY: Registry[EventType] = Registry("event type")
"""The single list of event types every stage uses, by CloudEvents ``type``."""


def register_event_type(event_type: EventType) -> EventType:
    """Declare an event type of a declared sector: from here on producers may send it,
    ingest subscribes to its topic and validates it, the gateway accepts it."""
    require_sector(event_type.sector)
    return REGISTRY.add(event_type.type, event_type)


HEALTH_ENCOUNTER = register_event_type(EventType(HEALTH, "encounter", HealthEncounter))
HEALTH_BED_CENSUS = register_event_type(EventType(HEALTH, "bed_census", BedCensus))
HEALTH_CLAIM = register_event_type(EventType(HEALTH, "claim", InsuranceClaim))
EDUCATION_ATTENDANCE = register_event_type(EventType(EDUCATION, "attendance", SchoolAttendance))
EDUCATION_REPORT = register_event_type(EventType(EDUCATION, "report", SchoolReport))
TOURISM_ARRIVAL = register_event_type(EventType(TOURISM, "arrival", TourismArrival))
TOURISM_FEEDBACK = register_event_type(EventType(TOURISM, "feedback", TourismFeedback))
PUBLIC_SERVICE_DOSSIER = register_event_type(EventType(PUBLIC_SERVICE, "dossier", DossierEvent))
CITIZEN_REPORT = register_event_type(EventType(CITIZEN, "report", CitizenReport))


def topics(prefix: str) -> list[str]:
    return [t.topic(prefix) for t in REGISTRY.values()]


class Envelope(BaseModel):
    """CloudEvents 1.0 attributes; ``data`` is validated separately against the type's model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: str = Field(pattern=r"^1\.0$")
    id: UUID = Field(description="Unique per source: with `source`, the dedupe key.")
    source: str = Field(min_length=3, max_length=120, pattern=r"^[a-z0-9]+/[A-Za-z0-9._-]+$")
    type: str
    time: AwareDatetime = Field(description="When it happened at the source, with offset.")
    subject: str = Field(pattern=r"^\d{5}$", description="GSO code of the commune.")
    datacontenttype: str = "application/json"
    dataschema: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$",
        description="URI of the schema the data adheres to (optional attribute).",
    )
    traceparent: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        description="W3C trace context (the distributed tracing extension).",
    )
    tracestate: str | None = Field(default=None, max_length=512)
    partitionkey: str | None = Field(
        default=None,
        max_length=256,
        description="The partitioning extension: the key the event travels under.",
    )
    data: dict[str, Any]

    def kept_attributes(self) -> dict[str, str]:
        """The optional attributes and extensions the event came with (kept in
        ``event_key`` beside its identity)."""
        return {name: v for name in KEPT_ATTRIBUTES if (v := getattr(self, name)) is not None}


KEPT_ATTRIBUTES = ("dataschema", "traceparent", "tracestate", "partitionkey")


class RejectReason(StrEnum):
    TOO_LARGE = "too_large"
    BAD_JSON = "bad_json"
    SCHEMA = "schema"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_UNIT = "unknown_unit"
    UNKNOWN_SOURCE = "unknown_source"
    TIME_OUT_OF_RANGE = "time_out_of_range"
    STORE_REFUSED = "store_refused"
    """Valid by the contract, yet the store refused it (or deriving its rows failed)."""


class EventRejected(Exception):
    """Raised by :func:`parse_event`; carries a machine reason and a human detail."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


DEFAULT_MAX_AGE_DAYS = 3650
DEFAULT_MAX_AHEAD_HOURS = 24


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The event times accepted, relative to now: ``[now - max_age, now + max_ahead]``.

    Beyond the store's reach (year 9999, year 1, a time the retention would drop at once),
    an event is refused with a reason instead of reaching the partitioning code, where such
    a time overflows month arithmetic and would fail its batch on every redelivery.
    """

    max_age: timedelta = timedelta(days=DEFAULT_MAX_AGE_DAYS)
    max_ahead: timedelta = timedelta(hours=DEFAULT_MAX_AHEAD_HOURS)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @classmethod
    def of(
        cls,
        max_age_days: int = DEFAULT_MAX_AGE_DAYS,
        max_ahead_hours: int = DEFAULT_MAX_AHEAD_HOURS,
        retention_days: int | None = None,
    ) -> TimeWindow:
        """The window the settings give: never older than the retention window, when set
        (an event the next maintenance would drop is refused at the door instead)."""
        days = min(max_age_days, retention_days) if retention_days else max_age_days
        return cls(timedelta(days=days), timedelta(hours=max_ahead_hours))

    def bounds(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        now = now or self.clock()
        return now - self.max_age, now + self.max_ahead

    def check(self, moment: datetime, now: datetime | None = None) -> None:
        """Raise :class:`EventRejected` (``time_out_of_range``) unless ``moment`` is inside
        the window as of ``now`` (default: the clock; a batch passes the one it read)."""
        earliest, latest = self.bounds(now)
        try:
            # in UTC: one offset look-up, then plain comparisons
            inside = earliest <= moment.astimezone(UTC) <= latest
        except OverflowError:  # an offset pushing the time past year 1 or 9999
            inside = False
        if not inside:
            raise EventRejected(
                RejectReason.TIME_OUT_OF_RANGE,
                f"time {moment.isoformat()} is outside the accepted window "
                f"{earliest.isoformat(timespec='seconds')} to "
                f"{latest.isoformat(timespec='seconds')} "
                f"(at most {self.max_age.days} days old, {_hours(self.max_ahead)} h ahead)",
            )


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g}"


@dataclass(frozen=True, slots=True)
class Event:
    """A validated event: envelope attributes plus its typed payload."""

    envelope: Envelope
    event_type: EventType
    payload: BaseModel


def parse_event(raw: bytes) -> Event:
    """Validate raw bytes into an :class:`Event` or raise :class:`EventRejected`."""
    if len(raw) > MAX_EVENT_BYTES:
        raise EventRejected(RejectReason.TOO_LARGE, f"{len(raw)} bytes > {MAX_EVENT_BYTES}")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EventRejected(RejectReason.BAD_JSON, str(exc)) from None
    if not isinstance(doc, dict):
        raise EventRejected(RejectReason.BAD_JSON, "a CloudEvent must be a JSON object")
    return validate_event(doc)


def structured_from_kafka(
    headers: Sequence[tuple[str, bytes]], key: bytes | None, value: bytes
) -> bytes:
    """A Kafka message in CloudEvents *binary* content mode (attributes in ``ce_*``
    headers, ``content-type`` as ``datacontenttype``, the data as the value; the key as
    ``partitionkey``), as the structured JSON every stage validates; a structured-mode
    message (no ``ce_*`` header) is returned as it is. The conversion is the official
    ``cloudevents`` SDK's Kafka binding."""
    if not any(name.lower().startswith("ce_") for name, _ in headers):
        return value
    _require_stated((name for name, _ in headers), "ce_")
    message = kafka_binding.KafkaMessage(dict(headers), key, value)
    return _structured(lambda: kafka_binding.from_binary(message, JSONFormat()), value)


def is_binary_http(headers: Mapping[str, str]) -> bool:
    """An HTTP request in CloudEvents binary content mode carries its attributes as
    ``ce-*`` headers (a structured or batched one has none)."""
    return any(name.lower().startswith("ce-") for name in headers)


def structured_from_http(headers: Mapping[str, str], body: bytes) -> bytes:
    """One event posted over HTTP in CloudEvents *binary* content mode (attributes in
    ``ce-*`` headers, ``Content-Type`` as ``datacontenttype``, the body as the data), as the
    structured JSON every stage validates; read by the official SDK's HTTP binding."""
    if len(body) > MAX_EVENT_BYTES:
        raise EventRejected(RejectReason.TOO_LARGE, f"{len(body)} bytes > {MAX_EVENT_BYTES}")
    _require_stated(headers, "ce-")
    message = http_binding.HTTPMessage(dict(headers), body)
    return _structured(lambda: http_binding.from_binary(message, JSONFormat()), body)


STATED_ATTRIBUTES = ("specversion", "id", "source", "type", "time")
"""What a binary-mode sender must state itself: the SDK would make up a missing ``id`` or
``time``, and a resent event would then be stored twice, at the time it arrived."""


def _require_stated(names: Iterable[str], prefix: str) -> None:
    present = {n.lower().removeprefix(prefix) for n in names if n.lower().startswith(prefix)}
    missing = [prefix + name for name in STATED_ATTRIBUTES if name not in present]
    if missing:
        raise EventRejected(
            RejectReason.SCHEMA, f"binary content mode: no {', '.join(missing)} header"
        )


def _structured(read: Callable[[], BaseCloudEvent], data: bytes) -> bytes:
    """The event a binding reads, written as structured JSON; data that is not JSON (every
    event type's data is) is ``bad_json``, what the SDK cannot read (a bad ``time``, an
    attribute of the wrong form) is rejected with the SDK's reason."""
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise EventRejected(
            RejectReason.BAD_JSON, f"binary content mode: the data is not JSON: {exc}"
        ) from None
    try:
        return JSONFormat().write(read())
    except (BaseCloudEventException, ValueError, TypeError, OverflowError) as exc:
        raise EventRejected(RejectReason.SCHEMA, f"binary content mode: {exc}"[:500]) from None


def validate_event(doc: dict[str, Any]) -> Event:
    try:
        envelope = Envelope.model_validate(doc)
    except ValidationError as exc:
        raise EventRejected(RejectReason.SCHEMA, _first_error(exc)) from None
    event_type = REGISTRY.get(envelope.type)
    if event_type is None:
        raise EventRejected(RejectReason.UNKNOWN_TYPE, f"unknown type {envelope.type!r}")
    try:
        payload = event_type.payload.model_validate(envelope.data)
    except ValidationError as exc:
        raise EventRejected(RejectReason.SCHEMA, "data." + _first_error(exc)) from None
    return Event(envelope, event_type, payload)


def make_event(
    event_type: EventType,
    *,
    id: UUID,
    source: str,
    time: datetime,
    subject: str,
    payload: BaseModel,
) -> dict[str, Any]:
    """Build the JSON document of one CloudEvent (what producers put on the wire)."""
    return {
        "specversion": "1.0",
        "id": str(id),
        "source": source,
        "type": event_type.type,
        "time": time.isoformat(),
        "subject": subject,
        "datacontenttype": "application/json",
        "data": payload.model_dump(mode="json"),
    }


def dump_event(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(part) for part in err["loc"]) or "(root)"
    return f"{loc}: {err['msg']}"
