"""Prometheus metrics of the ingest worker (served by ``ioc ingest --metrics-port``).

Labels stay low-cardinality: tables, topics, partitions and reject reasons, never sources.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from ingest.writer import BatchResult

CONSUMED = Counter("ioc_ingest_events_consumed", "Messages read from the broker.", ["topic"])
INSERTED = Counter("ioc_ingest_events_inserted", "New events stored.", ["table"])
DUPLICATES = Counter("ioc_ingest_duplicates", "Events already stored (replays).", ["table"])
REJECTS = Counter("ioc_ingest_rejects", "Messages refused, by reason.", ["reason"])
BATCH_SECONDS = Histogram(
    "ioc_ingest_batch_seconds",
    "Time to validate, store and commit one batch.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
LAG = Gauge(
    "ioc_ingest_consumer_lag", "Messages behind the partition's end.", ["topic", "partition"]
)
HEALTHY = Gauge(
    "ioc_ingest_healthy", "1 while the worker consumes, 0 while it starts or waits out an outage."
)
DEPENDENCY_UP = Gauge(
    "ioc_ingest_dependency_up",
    "0 while the worker waits for the dependency (database, broker) to come back, else 1.",
    ["dependency"],
)
RETRIES = Counter(
    "ioc_ingest_retries", "Attempts that failed on an unreachable dependency.", ["dependency"]
)
LAST_COMMIT = Gauge("ioc_ingest_last_commit_timestamp", "Unix time of the last offset commit.")


def record(result: BatchResult, consumed_by_topic: dict[str, int], seconds: float) -> None:
    for topic, n in consumed_by_topic.items():
        CONSUMED.labels(topic).inc(n)
    for table, n in result.inserted_by_table.items():
        INSERTED.labels(table).inc(n)
    for table, n in result.duplicates_by_table.items():
        DUPLICATES.labels(table).inc(n)
    for reason, n in result.rejected.items():
        REJECTS.labels(reason).inc(n)
    BATCH_SECONDS.observe(seconds)
    LAST_COMMIT.set_to_current_time()
