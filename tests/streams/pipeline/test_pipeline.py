"""End to end on the real embedded broker: a `newswatch worker` subprocess, real topics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streams.ingest.files import read_path
from streams.ingest.producer import ArticleProducer
from streams.kafka.broker import EmbeddedBroker, free_port
from streams.kafka.topics import ensure_topics
from streams.settings import SAMPLES_DIR, Settings
from streams.testing import WorkerProcess, read_topic, settings_env, web_json

pytestmark = pytest.mark.broker

SEED_TITLE = "Belgien überwacht Chinas Alibaba wegen Spionagebedenken"


@pytest.fixture(scope="module")
def pipeline(
    broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, WorkerProcess]]:
    """One worker subprocess on its own topics of the session broker."""
    import uuid

    tag = uuid.uuid4().hex[:8]
    tmp = tmp_path_factory.mktemp("pipeline")
    settings = Settings.load(
        kafka_bootstrap_servers=broker.bootstrap_servers,
        data_dir=tmp / "data",
        app_id=f"nw-e2e-{tag}",
        topic_prefix=f"e2e{tag}.",
        partitions=2,
        session_timeout_s=4.0,
        log_level="info",
    )
    asyncio.run(ensure_topics(settings))
    worker = WorkerProcess(
        settings_env(settings), web_port=free_port(), log_path=tmp / "worker.log"
    )
    worker.start()
    try:
        # The bundled watch-list names Slack and email, which this worker lacks: /ready says so.
        worker.wait_ready(90, failing={"channels"})
        yield settings, worker
    finally:
        worker.stop()


async def _produce_articles(settings: Settings, articles: list) -> None:
    async with ArticleProducer(settings) as producer:
        for article in articles:
            await producer.produce(article)
        await producer.flush()


def _produce_foreign(settings: Settings, values: list[bytes]) -> None:
    """Produce with librdkafka (the C client behind kcat), not with newswatch's producer."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": settings.bootstrap_servers})
    for value in values:
        producer.produce(settings.topic("articles.raw"), value, key=b"raw")
    assert producer.flush(30) == 0


def _alert_lines(settings: Settings) -> list[dict]:
    lines = []
    for path in sorted((Path(settings.data_dir) / "alerts").glob("*.jsonl")):
        lines += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return lines


def _wait(predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_seed_article_alerts_and_negatives_do_not(pipeline: tuple[Settings, WorkerProcess]) -> None:
    """The German Alibaba article alerts on rule alibaba-espionage; the negative samples do not."""
    settings, worker = pipeline
    articles = list(read_path(SAMPLES_DIR))
    assert len(articles) >= 3
    asyncio.run(_produce_articles(settings, articles))
    enriched = read_topic(
        settings.bootstrap_servers,
        settings.topic("articles.enriched"),
        expect=len(articles),
        timeout=90,
    )
    assert {r["value"]["article"]["id"] for r in enriched} >= {a.id for a in articles}
    assert _wait(lambda: len(_alert_lines(settings)) >= 1), worker.log_tail()
    assert [line["alert"]["article"]["title"] for line in _alert_lines(settings)] == [SEED_TITLE]
    alerts = read_topic(settings.bootstrap_servers, settings.topic("alerts"), expect=1, timeout=30)
    titles = {a["value"]["article"]["title"] for a in alerts}
    assert titles == {SEED_TITLE}
    assert {a["value"]["rule_id"] for a in alerts} == {"alibaba-espionage"}
    seed = next(r["value"] for r in enriched if r["value"]["article"]["title"] == SEED_TITLE)
    assert seed["language"] == "de" and seed["watchlist_version"]
    assert [m["rule_id"] for m in seed["matches"]] == ["alibaba-espionage"]
    assert all(
        not r["value"]["matches"] for r in enriched if r["value"]["article"]["title"] != SEED_TITLE
    )
    assert worker.alive()


def test_foreign_client_article_alerts(pipeline: tuple[Settings, WorkerProcess]) -> None:
    """A JSON article produced by librdkafka (as kcat would) is matched and alerted on.

    It is about the same story as the seed article (same rule, same entity), so the policy
    reports it as an update of that story rather than as a second new alert."""
    settings, worker = pipeline
    article = {
        "id": "librdkafka-1",
        "title": "Alibaba unter Spionageverdacht",
        "text": "Die Behörden prüfen Spionagevorwürfe gegen Alibaba und Cainiao.",
        "url": "https://example.org/librdkafka-1",
    }
    _produce_foreign(settings, [json.dumps(article).encode()])

    def alerted() -> bool:
        ids = set()
        for line in _alert_lines(settings):
            ids |= {line["alert"]["article"]["id"], *(r["id"] for r in line["alert"]["related"])}
        return "librdkafka-1" in ids

    assert _wait(alerted, timeout=60), worker.log_tail()
    assert worker.alive()


def test_garbage_goes_to_dead_letters_and_worker_keeps_going(
    pipeline: tuple[Settings, WorkerProcess],
) -> None:
    """Non-JSON and schema-violating records land in articles.raw.dlq with reason and offset."""
    settings, worker = pipeline
    good = {"id": "after-garbage", "title": "Routine market report", "text": "Shares rose."}
    _produce_foreign(
        settings, [b"this is not json", b'{"id": "x", "title": 5}', json.dumps(good).encode()]
    )
    letters = read_topic(
        settings.bootstrap_servers, settings.topic("articles.raw.dlq"), expect=2, timeout=60
    )
    assert len(letters) == 2
    reasons = [letter["value"]["reason"] for letter in letters]
    assert any("not valid UTF-8 JSON" in r for r in reasons)
    assert any("schema violation" in r for r in reasons)
    for letter in letters:
        value = letter["value"]
        assert value["source_topic"] == settings.topic("articles.raw")
        assert value["partition"] in (0, 1) and value["offset"] >= 0

    def seen() -> bool:
        records = read_topic(
            settings.bootstrap_servers, settings.topic("articles.enriched"), expect=100, timeout=2
        )
        return "after-garbage" in {r["value"]["article"]["id"] for r in records}

    assert _wait(seen, timeout=60)
    assert worker.alive()


def test_unconfigured_channels_show_on_ready_and_dead_letter_the_alert(
    pipeline: tuple[Settings, WorkerProcess],
) -> None:
    """A rule naming Slack/email without their settings: /ready 503 names rule, channel and
    setting, the log has one ERROR per channel, and the seed alert reaches alerts.dlq."""
    settings, worker = pipeline
    status, body = web_json(worker.web_port, "/ready")
    detail = body["checks"]["channels"]["detail"]
    assert status == 503 and not body["checks"]["channels"]["ok"]
    assert "alibaba-espionage" in detail and "slack:#sec-alerts" in detail
    assert "SLACK_BOT_TOKEN" in detail and "SMTP_HOST" in detail
    asyncio.run(_produce_articles(settings, list(read_path(SAMPLES_DIR))))
    letters = read_topic(
        settings.bootstrap_servers, settings.topic("alerts.dlq"), expect=2, timeout=90
    )
    channels = {letter["value"]["channel"] for letter in letters}
    assert {"slack:#sec-alerts", "email:secops@example.com"} <= channels
    for letter in letters:
        assert letter["value"]["reason"].startswith("channel not configured")
        assert letter["value"]["retriable"] is True
        assert letter["value"]["source_topic"] == settings.topic("alerts")
    log = worker.log_path.read_text()
    assert log.count("which this worker cannot reach") == 2
