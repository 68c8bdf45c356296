"""Create the event topics (and the dead-letter topic) up front, with the partition count we
scale ingest by."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ingest.deadletter import dead_letter_topic
from models.events import topics


async def ensure_topics(bootstrap: str, prefix: str, partitions: int) -> list[str]:
    """Create any missing topic of the registry and the dead-letter topic; return the event
    topics (what ingest subscribes to)."""
    names = topics(prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        wanted = [*names, dead_letter_topic(prefix)]
        missing = [NewTopic(n, partitions, 1) for n in wanted if n not in existing]
        if missing:
            # another process may win the race to create them: that is fine
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()
    return names
