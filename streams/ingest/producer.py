"""Produce articles to ``articles.raw``: the async producer behind ``newswatch ingest``.

Keys are stable article ids; within one producer's life an id is produced once. Idempotence
is off by default (the embedded broker rejects InitProducerId); on real Kafka it can be
switched on with ``NEWSWATCH_IDEMPOTENT_PRODUCER=true``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas.records import RawArticle
from streams.errors import BrokerError, IngestError
from streams.kafka.codec import dumps
from streams.kafka.security import KafkaSecurity
from streams.settings import Settings

__all__ = ["ArticleProducer", "collect_local", "poll_feeds", "run_ingest"]


class ArticleProducer:
    """An aiokafka producer for ``articles.raw`` that drops ids it already produced."""

    def __init__(self, settings: Settings, bootstrap: str | None = None) -> None:
        self.settings = settings
        self.topic = settings.topic("articles.raw")
        self.security = KafkaSecurity.from_settings(settings)
        self.bootstrap = bootstrap or settings.bootstrap_servers
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id="newswatch-ingest",
            acks="all",
            enable_idempotence=settings.idempotent_producer,
            linger_ms=5,
            max_request_size=max(settings.max_record_bytes + 4096, 1_048_576),
            request_timeout_ms=int(max(self.security.timeout_s, 30.0) * 1000),
            **self.security.client_kwargs(),
        )
        self._seen: set[str] = set()
        self.produced = 0
        self.skipped = 0

    async def start(self) -> None:
        """Connect to the broker (a TLS/SASL problem fails here, in one line)."""
        from streams.kafka.security import check_connection

        if self.security.protocol != "PLAINTEXT":
            await check_connection(self.security, self.bootstrap)
        try:
            await self._producer.start()
        except (KafkaError, OSError) as exc:
            raise BrokerError(
                f"cannot reach Kafka at {self.bootstrap}: {exc}; "
                "start `newswatch broker` or set KAFKA_BOOTSTRAP_SERVERS"
            ) from None

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

    async def produce(self, article: RawArticle) -> bool:
        """Send one article (key = id); False when its id was already produced in this run."""
        if article.id in self._seen:
            self.skipped += 1
            return False
        self._seen.add(article.id)
        if article.ingested_at is None:
            article = article.model_copy(update={"ingested_at": time.time()})
        await self._producer.send(self.topic, dumps(article), key=article.id.encode("utf-8"))
        self.produced += 1
        return True

    async def flush(self) -> None:
        """Wait until every sent article is acknowledged."""
        await self._producer.flush()

    async def __aenter__(self) -> ArticleProducer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def collect_local(sources: Iterable[str]) -> tuple[list[RawArticle], list[str]]:
    """Split sources into local articles (files/folders, ``-`` = JSONL on stdin) and feed URLs."""
    from streams.ingest.files import read_jsonl_lines, read_path

    articles: list[RawArticle] = []
    urls: list[str] = []
    for src in sources:
        if src.startswith(("http://", "https://")):
            urls.append(src)
        elif src == "-":
            articles.extend(read_jsonl_lines(sys.stdin.buffer, name="<stdin>"))
        else:
            articles.extend(read_path(Path(src)))
    return articles, urls


async def _ingest(settings: Settings, sources: list[str], follow: bool) -> int:
    from streams.kafka.topics import TopicSpec, ensure_topics, verify_topics

    articles, urls = collect_local(sources)
    await ensure_topics(settings)
    if not settings.create_topics:  # topics managed by someone else: ours must exist
        raw = TopicSpec(settings.topic("articles.raw"), settings.partitions)
        problems = await verify_topics(settings, specs=[raw])
        if problems:
            raise BrokerError("; ".join(problems))
    async with ArticleProducer(settings) as producer:
        for article in articles:
            await producer.produce(article)
        await producer.flush()
        if urls:
            await poll_feeds(settings, producer, urls, follow=follow)
        await producer.flush()
        print(
            f"newswatch: produced {producer.produced} article(s) to {producer.topic}"
            f" ({producer.skipped} duplicate id(s) skipped)",
            file=sys.stderr,
        )
    return 0


async def poll_feeds(
    settings: Settings, producer: ArticleProducer, urls: list[str], *, follow: bool
) -> None:
    from streams.ingest.feeds import FeedPoller
    from streams.ingest.fetch import FetchConfig, GuardedFetcher

    fetcher = GuardedFetcher(
        FetchConfig(
            allow=settings.fetch_allow_hosts,
            timeout_s=settings.fetch_timeout_s,
            max_bytes=settings.fetch_max_bytes,
        )
    )
    await fetcher.start()
    try:
        poller = FeedPoller(fetcher, urls)
        while True:
            for state in poller.due():
                for article in await poller.poll(state):
                    await producer.produce(article)
                await producer.flush()
            if not follow:
                return
            await asyncio.sleep(1.0)
    finally:
        await fetcher.stop()


def run_ingest(settings: Settings, sources: list[str], *, follow: bool = False) -> int:
    """``newswatch ingest``: produce every article from ``sources``; returns the exit code."""
    if not sources:
        raise IngestError("nothing to ingest: give files, folders, '-' or feed URLs")
    return asyncio.run(_ingest(settings, sources, follow))
