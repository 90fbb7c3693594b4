"""``newswatch demo``: embedded broker + worker, ingest the bundled samples, print the alerts.

Runs the real pipeline end to end (real broker, real agents, real channels) and exits 0
once every sample article has been enriched, matched and alerted on (or dead-lettered).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from streams.settings import SAMPLES_DIR, Settings

__all__ = ["run_demo"]


def _done(counters: dict[str, int], expected: int, raw_dlq: str = "articles.raw.dlq") -> bool:
    handled = counters.get("enriched", 0) + counters.get(f"dlq:{raw_dlq}", 0)
    decided = counters.get("alert_events", 0) >= counters.get("matches", 0)
    return (
        handled >= expected
        and decided
        and counters.get("lane_done", 0) >= counters.get("lane_jobs", 0)
    )


def run_demo(settings: Settings, *, timeout: float = 120.0, samples: Path = SAMPLES_DIR) -> int:
    """Run the demo; returns 0 when all samples were processed within ``timeout`` seconds."""
    from streams.ingest.files import read_path
    from streams.ingest.producer import ArticleProducer
    from streams.kafka.broker import EmbeddedBroker, free_port, wait_for_broker
    from streams.kafka.security import KafkaSecurity
    from streams.pipeline.runner import prepare_topics, start_worker, stop_worker_soon

    started = time.monotonic()
    articles = list(read_path(samples))
    overrides: dict[str, Any] = {"web_port": 0}
    if settings.data_dir == Settings.model_fields["data_dir"].default:
        overrides["data_dir"] = Path(tempfile.mkdtemp(prefix="newswatch-demo-"))
    broker = None
    if settings.embedded_broker:
        broker = EmbeddedBroker(
            settings.broker_host, free_port(settings.broker_host), settings.tansu_bin
        )
        broker.start()
        overrides.update(broker_port=broker.port)
    demo_settings = settings.model_copy(update=overrides)
    outcome: dict[str, Any] = {"ok": False}

    async def ingest_and_wait(app: Any) -> None:
        worker = app.newswatch
        outcome["unreachable"] = worker.health.checks()["channels"]
        try:
            async with ArticleProducer(demo_settings) as producer:
                for article in articles:
                    await producer.produce(article)
                await producer.flush()
            print(
                f"demo: produced {len(articles)} sample article(s) from {samples}",
                file=sys.stderr,
                flush=True,
            )
            deadline = time.monotonic() + max(1.0, timeout - (time.monotonic() - started))
            counters = worker.services.counters
            while (
                not _done(counters, len(articles), demo_settings.topics.raw_dlq)
                and time.monotonic() < deadline
            ):
                await asyncio.sleep(0.1)
            outcome["ok"] = _done(counters, len(articles), demo_settings.topics.raw_dlq)
            outcome["counters"] = dict(counters)
        finally:
            stop_worker_soon()

    try:
        security = KafkaSecurity.from_settings(demo_settings)  # TLS/SASL on a real cluster
        wait_for_broker(demo_settings.bootstrap_servers, security=security)
        prepare_topics(demo_settings)
        start_worker(demo_settings, task=ingest_and_wait)
    finally:
        if broker is not None:
            broker.stop()
    counters = outcome.get("counters", {})
    elapsed = time.monotonic() - started
    alerts = counters.get("alerts", 0)
    topics = demo_settings.topics
    unreachable = outcome.get("unreachable") or {}
    if unreachable and not unreachable.get("ok", True):
        print(
            f"demo: channels not configured here, their alerts go to {topics.alerts_dlq}: "
            f"{unreachable.get('detail')}",
            file=sys.stderr,
        )
    print(
        f"demo: {len(articles)} article(s), {counters.get('enriched', 0)} enriched, "
        f"{counters.get('matches', 0)} match(es), {alerts} alert(s), "
        f"{counters.get('dlq:' + topics.raw_dlq, 0)} dead letter(s) in {topics.raw_dlq}, "
        f"{counters.get('dlq:' + topics.alerts_dlq, 0)} in {topics.alerts_dlq}, "
        f"in {elapsed:.1f}s; alert log: {Path(demo_settings.data_dir) / 'alerts'}",
        file=sys.stderr,
    )
    if not outcome["ok"]:
        print("demo: timed out before every sample was processed", file=sys.stderr)
        return 1
    return 0
