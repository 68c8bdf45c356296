"""One settings object for every stage, read from ``IOC_*`` environment variables or ``.env``.

Unset ``database_url`` / ``kafka_bootstrap`` mean "start the embedded service": that is what
lets a newcomer run the whole pipeline with nothing installed by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def normalise_database_url(url: str) -> str:
    """Point any PostgreSQL URL at the psycopg 3 driver, the only one we ship."""
    for prefix in (
        "postgresql+psycopg2://",
        "postgresql+asyncpg://",
        "postgres://",
        "postgresql://",
    ):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IOC_", env_file=".env", extra="ignore")

    database_url: str | None = None
    """PostgreSQL / TimescaleDB URL; unset starts an embedded PostgreSQL under ``data_dir``."""
    kafka_bootstrap: str | None = None
    """``host:port[,host:port]`` of a Kafka-protocol broker; unset starts an embedded broker."""
    data_dir: Path = Path(".ioc-data")
    """Where embedded services keep their files."""
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    topic_prefix: str = "ioc"
    """Topics are ``<prefix>.<sector>.<kind>``; tests use a unique prefix to stay isolated."""
    consumer_group: str = "ioc-ingest"
    topic_partitions: int = 3
    batch_max_records: int = 8000
    """The most events one ingest transaction takes. A live feed's batches are what has
    arrived (far fewer); a backlog (a backfill, a worker back from an outage) is read this
    many at a time, and each batch's statements (a COPY and a merge per table, the roll-ups'
    upserts) cost the same whatever its size: 8,000 rather than 2,000 took a quarter off the
    database's CPU per event (``bench/ingest_writer.py --size``, BENCHMARKS.md)."""
    batch_timeout_ms: int = 500
    log_level: str = "INFO"
    log_json: bool = False
    retention_days: int | None = None
    """Raw events older than this many days are dropped (whole monthly partitions or
    TimescaleDB chunks); roll-ups and lifecycle states are kept. Unset: keep everything."""
    event_max_age_days: int = 3650
    """Events older than this (or than ``retention_days``, when shorter) are refused with
    ``time_out_of_range`` by ingest and the gateway alike."""
    event_max_ahead_hours: int = 24
    """Events dated further ahead of now than this are refused (``time_out_of_range``)."""
    ingest_metrics_port: int | None = None
    """Port of the ingest worker's Prometheus ``/metrics`` (on ``api_host``); unset: none."""
    ingest_health_file: Path | None = None
    """File the ingest worker rewrites after every poll (a liveness probe checks its age)."""
    admin_api_key: str | None = None
    """Accepted as an admin API key (bootstrap, demo, tests); unset: only stored keys work."""
    alert_interval_seconds: float = 60.0
    """How often the API re-evaluates alert rules and source status; they are also evaluated
    after change notices. 0 turns automatic evaluation off (tests drive it themselves)."""
    cors_origins: list[str] = []
    """Origins allowed to call the API from a browser (the wall), e.g. ``["https://wall.example"]``."""
    max_body_bytes: int = 4 * 1024 * 1024
    """Largest request body the API reads (``POST /api/v1/events``: room for 1,000 events of
    about 4 KB each); a larger one is refused with 413 while it arrives. Other routes take
    at most 64 KiB."""
    gateway_timeout_seconds: float = 10.0
    """How long ``POST /api/v1/events`` waits for the broker to take a batch before a 503
    (while the broker is known to be down, the 503 is immediate)."""
    auth_failures_per_minute: int = 30
    """Failed API-key checks one client address may make per minute (burst as many); past
    that every key check from it is a 429 until the bucket refills. 0: no limit."""
    gateway_events_per_second: float = 5000.0
    """Events one API key may post to the gateway per second (burst: twice that, at least
    one full batch). 0: no limit."""
    db_pool_timeout_seconds: float = 10.0
    """How long an API request waits for a free database connection before a 503."""
    volume_scale: float = Field(default=1.0, gt=0)
    """The volume the sources send at against the province's (1): a simulated feed run with
    ``--scale F`` sends F, and the source registry expects that (``models.sources``)."""
    api_processes: int = Field(default=1, ge=1, le=64)
    """API processes ``ioc serve`` runs on its port (``ioc.processes``): one answers on one
    core; a machine whose cores are not all taken by PostgreSQL serves more with more."""
    answer_cache_mb: int = Field(default=64, ge=0)
    """Memory for answers to settled questions (``app.kit.answers``), kept until a commit
    may have changed them, so they are never served after the data they read changed; 0
    turns the cache off. The responses sent again to the public (``app.kit.kept_responses``)
    share the answers' bodies."""
    pinned_now: datetime | None = None
    """For drills, demos and tests (``IOC_PINNED_NOW``, ISO 8601 with its offset): the API
    reads and judges as of this moment instead of the clock: default ranges end there, a
    period is partial and a source late as of then, and the live values are computed for it.
    Events are still checked against the real clock, and alerts evaluated by it."""

    def now(self) -> datetime:
        """The moment the API answers as of: the clock, or :attr:`pinned_now` when set."""
        return self.pinned_now or datetime.now(UTC)

    @field_validator("admin_api_key")
    @classmethod
    def _no_placeholder_key(cls, value: str | None) -> str | None:
        if value is not None and (len(value) < 16 or value.lower() in {"changeme", "admin"}):
            raise ValueError(
                "IOC_ADMIN_API_KEY must be at least 16 characters and not a placeholder"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str | None) -> str | None:
        return normalise_database_url(value) if value else None


@lru_cache
def get_settings() -> Settings:
    return Settings()
