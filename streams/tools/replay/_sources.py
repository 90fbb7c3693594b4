"""Where a replay's articles come from: a topic (own consumer) or files; and republishing.

``replay_topic`` reads with a task while the previous batch is enriched and matched in a
worker thread, so the broker read overlaps the CPU work. ``Republisher`` produces selected
articles again to ``articles.raw`` with ``replayed: true`` (and a fresh ``ingested_at``);
the live pipeline routes the alerts of replayed articles to the test channel only.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, TextIO

from schemas.records import RawArticle
from streams.errors import BrokerError
from streams.settings import Settings
from streams.tools.replay._backtest import Backtest
from streams.tools.replay._options import ReplayOptions
from streams.tools.replay._progress import Progress
from streams.tools.report import PartitionRead

__all__ = ["check_broker", "replay_files", "replay_topic", "republish", "start_publisher"]

_QUEUE_BATCHES = 8


async def check_broker(settings: Settings) -> None:
    """Fail fast with a hint when no broker answers at the configured address."""
    from streams.kafka.broker import metadata_ok
    from streams.kafka.security import KafkaSecurity, check_connection

    security = KafkaSecurity.from_settings(settings)
    if security.protocol != "PLAINTEXT":  # TLS/SASL: one real handshake, one-line errors
        await check_connection(security, settings.bootstrap_servers)
        return
    host, _, port = settings.bootstrap_servers.split(",")[0].strip().rpartition(":")
    if not await asyncio.to_thread(metadata_ok, host or "127.0.0.1", int(port), 2.0):
        raise BrokerError(
            f"no Kafka broker answers at {settings.bootstrap_servers}: start `newswatch broker`, "
            "set KAFKA_BOOTSTRAP_SERVERS, or replay files offline with --input FILE.jsonl"
        )


async def start_publisher(settings: Settings) -> Any:
    """A started ``ArticleProducer`` for ``articles.raw`` (topics created if missing)."""
    from streams.ingest.producer import ArticleProducer
    from streams.kafka.topics import ensure_topics

    await ensure_topics(settings)
    producer = ArticleProducer(settings)
    await producer.start()
    return producer


async def republish(publisher: Any, articles: list[RawArticle]) -> None:
    """Produce ``articles`` again, marked ``replayed: true`` with a fresh ``ingested_at``."""
    now = time.time()
    for article in articles:
        await publisher.produce(article.model_copy(update={"replayed": True, "ingested_at": now}))


async def replay_files(
    engine: Backtest, options: ReplayOptions, publisher: Any, err: TextIO
) -> int:
    """Backtest articles read from files (``--input``); returns the number of bad inputs.

    A bad file or JSONL line is printed as ``FILE:LINE:COL: message`` and skipped (the
    policy of every command); the caller exits non-zero at the end when there was one.
    """
    from streams.ingest.files import BadInput, iter_path

    def read_all() -> tuple[list[RawArticle], int]:
        articles: list[RawArticle] = []
        problems = 0
        for path in options.inputs:
            for item in iter_path(path):
                if isinstance(item, BadInput):
                    problems += 1
                    print(f"newswatch replay: {item}", file=err)
                else:
                    articles.append(item)
        return articles, problems

    articles, problems = await asyncio.to_thread(read_all)
    progress = Progress(len(articles), stream=err, enabled=options.progress)
    for i in range(0, len(articles), options.batch_size):
        batch = articles[i : i + options.batch_size]
        before = engine.stats.articles
        selected = await asyncio.to_thread(engine.process_articles, batch)
        if publisher is not None:
            await republish(publisher, selected)
        progress.update(len(batch), engine.stats.articles - before)
    progress.close()
    return problems


async def replay_topic(
    settings: Settings,
    engine: Backtest,
    options: ReplayOptions,
    topic: str,
    since_ms: int | None,
    publisher: Any,
    err: TextIO,
) -> list[PartitionRead]:
    """Backtest a topic: plan the partitions, read with a task, process in a thread."""
    from streams.kafka.security import client_kwargs
    from streams.tools.replay._reader import TopicReader

    reader = TopicReader(
        settings.bootstrap_servers,
        topic,
        since_ms=since_ms,
        full_scan=options.full_scan,
        max_fetch_bytes=max(settings.max_record_bytes * 2, 1_048_576),
        max_records=options.batch_size,
        security=client_kwargs(settings),
    )
    await reader.start()
    try:
        plan = await reader.plan()
        progress = Progress(reader.total, stream=err, enabled=options.progress)
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=_QUEUE_BATCHES)

        async def fetch() -> None:
            try:
                async for batch in reader.batches():
                    await queue.put(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # hand the error to the processing loop
                await queue.put(exc)
                return
            await queue.put(None)

        fetcher = asyncio.create_task(fetch(), name="replay-fetch")
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, Exception):
                    raise item
                before = engine.stats.articles
                selected = await asyncio.to_thread(engine.process_records, item.records)
                if publisher is not None:
                    await republish(publisher, selected)
                progress.update(item.consumed, engine.stats.articles - before)
        finally:
            if not fetcher.done():
                fetcher.cancel()
            await asyncio.gather(fetcher, return_exceptions=True)
        progress.close()
        return plan
    finally:
        await reader.stop()
