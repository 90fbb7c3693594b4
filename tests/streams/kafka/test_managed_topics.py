"""Topics managed by someone else (NEWSWATCH_CREATE_TOPICS=false): verified, never created."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.kafka.broker import EmbeddedBroker, free_port
from streams.kafka.topics import TopicSpec, ensure_topics, required_topics, verify_topics
from streams.settings import SAMPLES_DIR, Settings
from streams.testing import WorkerProcess, settings_env, wait_until

REPO = Path(__file__).resolve().parents[3]


async def _create(bootstrap: str, specs: list[TopicSpec], *, compact: bool = True) -> None:
    """Create topics as an admin would (changelogs compacted unless ``compact`` is False)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    s.name,
                    s.partitions,
                    1,
                    topic_configs={"cleanup.policy": "compact"} if s.compacted and compact else {},
                )
                for s in specs
            ]
        )
    finally:
        await admin.close()


def test_required_topics_match_the_faust_app(make_settings: Callable[..., Settings]) -> None:
    """The changelog topics listed for admins are exactly those of the app's Faust tables."""
    from streams.pipeline.app import create_app

    settings = make_settings(kafka_bootstrap_servers="kafka:9092")
    app = create_app(settings)
    changelogs = {table.changelog_topic.get_topic_name() for table in app.tables.values()}
    compacted = {s.name for s in required_topics(settings) if s.compacted}
    assert changelogs == compacted - {settings.topics.silences}  # silences: compacted, no table
    assert f"{settings.app_id}-__assignor-__leader" in {s.name for s in required_topics(settings)}


@pytest.mark.broker
async def test_verify_topics_reports_each_problem_with_its_fix(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings]
) -> None:
    """Missing topic, wrong partition count and an uncompacted changelog: one line each."""
    settings = make_settings(broker, create_topics=False)
    assert await ensure_topics(settings) == []  # creation off: nothing created
    specs = required_topics(settings)
    assert len(await verify_topics(settings)) == len(specs)  # all missing
    by_name = {s.name: s for s in specs}
    dlq = settings.topic("alerts.dlq")
    raw = settings.topic("articles.raw")
    changelog = f"{settings.app_id}-alert-sent-changelog"
    others = [s for s in specs if s.name not in (dlq, raw, changelog)]
    await _create(broker.bootstrap_servers, others)
    await _create(broker.bootstrap_servers, [TopicSpec(raw, 3)])
    await _create(broker.bootstrap_servers, [by_name[changelog]], compact=False)
    problems = await verify_topics(settings)
    assert problems == [
        f"topic {raw} has 3 partition(s), expected 2 (NEWSWATCH_PARTITIONS): "
        "recreate it or set NEWSWATCH_PARTITIONS",
        f"missing topic {dlq}: kafka-topics.sh --bootstrap-server {broker.bootstrap_servers} "
        f"--create --topic {dlq} --partitions 2 --replication-factor 1",
        f"changelog topic {changelog} has cleanup.policy=delete, expected compact: "
        f"kafka-configs.sh --bootstrap-server {broker.bootstrap_servers} --alter "
        f"--entity-type topics --entity-name {changelog} --add-config cleanup.policy=compact",
    ]


@pytest.mark.broker
def test_ingest_refuses_a_missing_raw_topic(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings]
) -> None:
    """`newswatch ingest` with creation off and no articles.raw: one line with the command."""
    settings = make_settings(broker, create_topics=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSWATCH_", "KAFKA_"))}
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "ingest", str(SAMPLES_DIR)],
        cwd=REPO,
        env={**env, **settings_env(settings)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    raw = settings.topic("articles.raw")
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"newswatch: error: missing topic {raw}: kafka-topics.sh --bootstrap-server "
        f"{broker.bootstrap_servers} --create --topic {raw} --partitions 2 --replication-factor 1"
    ]


@pytest.mark.broker
def test_worker_not_ready_while_a_topic_is_missing(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Creation off, alerts.dlq missing: /ready is 503 naming it and the command to create it."""
    settings = make_settings(broker, create_topics=False)
    dlq = settings.topic("alerts.dlq")
    present = [s for s in required_topics(settings) if s.name != dlq]
    asyncio.run(_create(broker.bootstrap_servers, present))
    worker = WorkerProcess(settings_env(settings), web_port=free_port(), log_path=tmp_path / "w")
    worker.start()
    url = f"http://127.0.0.1:{worker.web_port}/ready"
    answers: list[httpx.Response] = []

    def topics_checked() -> bool:
        try:
            answers.append(httpx.get(url, timeout=1.0))
        except httpx.HTTPError:
            return False
        return "topics" in answers[-1].json()["checks"]

    try:
        assert wait_until(topics_checked, timeout=90), worker.log_tail()
        response = answers[-1]
        assert response.status_code == 503
        check = response.json()["checks"]["topics"]
        assert check["ok"] is False
        assert check["problems"] == [
            f"missing topic {dlq}: kafka-topics.sh --bootstrap-server "
            f"{broker.bootstrap_servers} --create --topic {dlq} --partitions 2 "
            "--replication-factor 1"
        ]
        assert response.json()["checks"]["broker"]["ok"]
        assert worker.alive()
    finally:
        worker.stop()
