"""Create newswatch's topics explicitly, before any client's metadata request auto-creates them.

The embedded broker auto-creates unknown topics with 4 partitions on a metadata request; we
create ours first with the configured partition count.
"""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from streams.errors import BrokerError
from streams.settings import Settings

__all__ = ["ensure_topics", "topic_names"]


def topic_names(settings: Settings) -> list[str]:
    """The configured names of every newswatch topic."""
    return list(settings.topics.names())


async def ensure_topics(settings: Settings, bootstrap: str | None = None) -> list[str]:
    """Create any missing newswatch topic; return the names that were created."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap or settings.bootstrap_servers, client_id="newswatch-admin"
    )
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        wanted = [n for n in topic_names(settings) if n not in existing]
        if not wanted:
            return []
        new = [NewTopic(n, settings.partitions, settings.replication_factor) for n in wanted]
        try:
            response = await admin.create_topics(new)
        except TopicAlreadyExistsError:
            return []
        created = []
        for topic, code, *rest in getattr(response, "topic_errors", []):
            if code == 0:
                created.append(topic)
            elif code != 36:  # 36 = TOPIC_ALREADY_EXISTS: another worker won the race
                raise BrokerError(f"cannot create topic {topic}: error code {code} {rest}")
        return created
    except (TimeoutError, KafkaError, OSError) as exc:
        raise BrokerError(
            f"cannot create topics on {bootstrap or settings.bootstrap_servers}: {exc}"
        ) from None
    finally:
        await admin.close()
