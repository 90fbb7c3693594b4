"""Create newswatch's topics explicitly, or verify them when someone else manages topics.

The embedded broker auto-creates unknown topics with 4 partitions on a metadata request; we
create ours first with the configured partition count. With ``NEWSWATCH_CREATE_TOPICS=false``
nothing is created: ``verify_topics`` lists every topic that is missing, has the wrong
partition count or (Faust changelogs) is not compacted, each with the command an admin runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from streams.errors import BrokerError
from streams.kafka.security import KafkaSecurity, check_connection
from streams.settings import Settings

__all__ = [
    "FAUST_TABLES",
    "TopicSpec",
    "ensure_topics",
    "required_topics",
    "topic_names",
    "verify_topics",
]

#: The Faust tables of the worker (streams/pipeline/app.py); each has a compacted changelog
#: topic ``<NEWSWATCH_APP_ID>-<table>-changelog`` (checked by tests/streams/kafka).
FAUST_TABLES = ("alert-policy", "alert-sent", "alert-digest")


@dataclass(frozen=True)
class TopicSpec:
    """A topic newswatch needs: name, partition count and whether it must be compacted."""

    name: str
    partitions: int
    compacted: bool = False

    def create_command(self, settings: Settings, bootstrap: str | None = None) -> str:
        """The ``kafka-topics.sh --create`` command an admin runs to create this topic."""
        cmd = [
            "kafka-topics.sh",
            f"--bootstrap-server {bootstrap or settings.bootstrap_servers}",
        ]
        if settings.kafka_security_protocol != "PLAINTEXT":
            cmd.append("--command-config client.properties")
        cmd += [
            f"--create --topic {self.name}",
            f"--partitions {self.partitions}",
            f"--replication-factor {settings.replication_factor}",
        ]
        if self.compacted:
            cmd.append("--config cleanup.policy=compact")
        return " ".join(cmd)


def topic_names(settings: Settings) -> list[str]:
    """The configured names of every newswatch topic."""
    return list(settings.topics.names())


def required_topics(settings: Settings) -> list[TopicSpec]:
    """Every topic a worker needs: newswatch's, the changelogs and Faust's leader topic."""
    silences = settings.topics.silences  # compacted: the latest record of a silence is its state
    specs = [
        TopicSpec(name, settings.partitions, compacted=name == silences)
        for name in topic_names(settings)
    ]
    specs += [
        TopicSpec(f"{settings.app_id}-{table}-changelog", settings.partitions, compacted=True)
        for table in FAUST_TABLES
    ]
    specs.append(TopicSpec(f"{settings.app_id}-__assignor-__leader", 1))
    return specs


async def _admin(settings: Settings, bootstrap: str | None) -> AIOKafkaAdminClient:
    """An admin client; with TLS/SASL one handshake first, so errors come as one line."""
    security = KafkaSecurity.from_settings(settings)
    if security.protocol != "PLAINTEXT":
        await check_connection(security, bootstrap or settings.bootstrap_servers)
    return AIOKafkaAdminClient(
        bootstrap_servers=bootstrap or settings.bootstrap_servers,
        client_id="newswatch-admin",
        request_timeout_ms=int(max(security.timeout_s, 5.0) * 1000),
        **security.client_kwargs(),
    )


async def ensure_topics(settings: Settings, bootstrap: str | None = None) -> list[str]:
    """Create any missing newswatch topic; return the names that were created.

    With ``NEWSWATCH_CREATE_TOPICS=false`` nothing is created (see ``verify_topics``).
    """
    if not settings.create_topics:
        return []
    admin = await _admin(settings, bootstrap)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        wanted = [n for n in topic_names(settings) if n not in existing]
        if not wanted:
            return []
        compact = {"cleanup.policy": "compact"}
        new = [
            NewTopic(
                n,
                settings.partitions,
                settings.replication_factor,
                topic_configs=compact if n == settings.topics.silences else None,
            )
            for n in wanted
        ]
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


async def verify_topics(
    settings: Settings,
    bootstrap: str | None = None,
    *,
    specs: list[TopicSpec] | None = None,
) -> list[str]:
    """One line per problem with the needed topics (missing, partitions, not compacted)."""
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    wanted = specs if specs is not None else required_topics(settings)
    admin = await _admin(settings, bootstrap)
    problems: list[str] = []
    try:
        await admin.start()
        described = {t["topic"]: t for t in await admin.describe_topics()}
        compacted = [s.name for s in wanted if s.compacted and s.name in described]
        policies = await _cleanup_policies(admin, compacted, ConfigResource, ConfigResourceType)
    except (TimeoutError, KafkaError, OSError) as exc:
        raise BrokerError(
            f"cannot list topics on {bootstrap or settings.bootstrap_servers}: {exc}"
        ) from None
    finally:
        await admin.close()
    for spec in wanted:
        topic = described.get(spec.name)
        if topic is None:
            problems.append(
                f"missing topic {spec.name}: {spec.create_command(settings, bootstrap)}"
            )
            continue
        count = len(topic.get("partitions") or [])
        if count != spec.partitions:
            problems.append(
                f"topic {spec.name} has {count} partition(s), expected {spec.partitions} "
                "(NEWSWATCH_PARTITIONS): recreate it or set NEWSWATCH_PARTITIONS"
            )
        policy = policies.get(spec.name)
        if spec.compacted and policy is not None and "compact" not in policy:
            problems.append(
                f"changelog topic {spec.name} has cleanup.policy={policy or 'delete'}, "
                f"expected compact: kafka-configs.sh --bootstrap-server "
                f"{bootstrap or settings.bootstrap_servers} --alter --entity-type topics "
                f"--entity-name {spec.name} --add-config cleanup.policy=compact"
            )
    return problems


async def _cleanup_policies(
    admin: AIOKafkaAdminClient, names: list[str], resource: Any, kind: Any
) -> dict[str, str]:
    """``cleanup.policy`` per topic ("" = broker default, i.e. delete)."""
    if not names:
        return {}
    responses = await admin.describe_configs(
        [resource(kind.TOPIC, name, configs=None) for name in names]
    )
    policies: dict[str, str] = {}
    for response in responses:
        for error_code, _msg, _type, name, entries, *_ in response.resources:
            if error_code:
                continue
            values = {entry[0]: entry[1] for entry in entries}
            policies[name] = values.get("cleanup.policy") or ""
    return policies
