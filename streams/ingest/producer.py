"""Produce articles to ``articles.raw``: the async producer behind ``newswatch ingest``.

Keys are stable article ids; within one producer's life an id is produced once. Idempotence
is off by default (the embedded broker rejects InitProducerId); on real Kafka it can be
switched on with ``NEWSWATCH_IDEMPOTENT_PRODUCER=true``.

Bad input never aborts a run: a bad file or JSONL line is reported on stderr
(``FILE:LINE:COL: message`` / ``FILE: message``), an article that cannot be produced is
reported with its origin, every other source is still produced, and the exit code is 1 at
the end. A record larger than ``NEWSWATCH_MAX_RECORD_BYTES`` (the worker's limit, below the
producer's max request size) is trimmed at a paragraph boundary first (:func:`fit_record`).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas.records import RawArticle
from streams.errors import BrokerError, IngestError
from streams.kafka.codec import dumps
from streams.kafka.jsonl import BadInput
from streams.kafka.security import KafkaSecurity
from streams.settings import Settings

if TYPE_CHECKING:
    from streams.ingest.sources import SourceMonitor

__all__ = [
    "ArticleProducer",
    "collect_local",
    "fit_record",
    "iter_local",
    "poll_feeds",
    "run_ingest",
]

#: Trimming passes before a record that still does not fit is reported.
_TRIM_ROUNDS = 6


def fit_record(article: RawArticle, max_bytes: int) -> tuple[RawArticle, bytes]:
    """The article (its text cut at a paragraph/word boundary if needed) and its JSON bytes."""
    data = dumps(article)
    text = article.text
    for _ in range(_TRIM_ROUNDS):
        if len(data) <= max_bytes:
            return article, data
        keep = int(len(text) * max_bytes / len(data) * 0.97) - 64
        if keep <= 0:
            break
        cut = text[:keep]
        boundary = max(cut.rfind("\n\n"), cut.rfind("\n"))
        if boundary < keep // 2:
            boundary = cut.rfind(" ")
        text = cut[:boundary].rstrip() if boundary > keep // 2 else cut
        article = article.model_copy(update={"text": text})
        data = dumps(article)
    if len(data) <= max_bytes:
        return article, data
    raise IngestError(
        f"record of {len(data)} bytes does not fit NEWSWATCH_MAX_RECORD_BYTES={max_bytes}"
    )


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
        """Send one article (key = id); False when its id was already produced in this run.

        The record is trimmed to ``max_record_bytes``; IngestError when it cannot be sent.
        """
        if article.id in self._seen:
            self.skipped += 1
            return False
        if article.ingested_at is None:
            article = article.model_copy(update={"ingested_at": time.time()})
        article, value = fit_record(article, self.settings.max_record_bytes)
        try:
            await self._producer.send(self.topic, value, key=article.id.encode("utf-8"))
        except KafkaError as exc:
            raise IngestError(f"cannot produce article {article.id}: {exc!r}") from None
        self._seen.add(article.id)
        self.produced += 1
        return True

    async def send_raw(self, topic: str, key: bytes, value: bytes) -> None:
        """Send one record as is (ops alerts to ``alerts`` and the lane topics)."""
        try:
            await self._producer.send(topic, value, key=key)
        except KafkaError as exc:
            raise IngestError(f"cannot produce to {topic}: {exc!r}") from None

    async def flush(self) -> None:
        """Wait until every sent article is acknowledged."""
        await self._producer.flush()

    async def __aenter__(self) -> ArticleProducer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def iter_local(
    sources: Iterable[str], settings: Settings | None = None, *, stdin: TextIO | None = None
) -> Iterator[tuple[str, RawArticle | BadInput]]:
    """``(origin, article or problem)`` for every local source (files, folders, ``-``)."""
    from streams.ingest.files import iter_files, iter_jsonl_articles, iter_path

    limit = settings.max_record_bytes if settings else 1_000_000
    max_items = settings.feed_max_items if settings else None
    for src in sources:
        if src.startswith(("http://", "https://")):
            continue
        if src == "-":
            stream = getattr(sys.stdin, "buffer", sys.stdin) if stdin is None else stdin
            for item in iter_jsonl_articles(stream, name="<stdin>", max_bytes=limit):
                yield "<stdin>", item
            continue
        try:
            files = list(iter_files(Path(src)))
        except IngestError as exc:
            yield src, BadInput(src, str(exc).removeprefix(f"{src}: "))
            continue
        for file in files:
            for item in iter_path(file, max_bytes=limit, max_items=max_items):
                yield str(file), item


def collect_local(sources: Iterable[str]) -> tuple[list[RawArticle], list[str]]:
    """Local articles and feed URLs; the first bad file or line raises IngestError."""
    articles: list[RawArticle] = []
    for _, item in iter_local(sources):
        if isinstance(item, BadInput):
            raise IngestError(str(item))
        articles.append(item)
    return articles, [s for s in sources if s.startswith(("http://", "https://"))]


async def _ingest(settings: Settings, sources: list[str], follow: bool) -> int:
    from streams.ingest.local_health import produce_local
    from streams.ingest.sources import SourceMonitor
    from streams.kafka.topics import TopicSpec, ensure_topics, verify_topics

    urls = [s for s in sources if s.startswith(("http://", "https://"))]
    problems = 0
    await ensure_topics(settings)
    if not settings.create_topics:  # topics managed by someone else: ours must exist
        raw = TopicSpec(settings.topic("articles.raw"), settings.partitions)
        missing = await verify_topics(settings, specs=[raw])
        if missing:
            raise BrokerError("; ".join(missing))
    async with ArticleProducer(settings) as producer:
        monitor = SourceMonitor.from_settings(settings, producer.send_raw)
        problems += await produce_local(settings, producer, sources, monitor)
        await monitor.check(producer.flush)
        if urls:
            problems += await poll_feeds(
                settings, producer, urls, follow=follow, monitor=monitor if follow else None
            )
        await producer.flush()
        print(
            f"newswatch: produced {producer.produced} article(s) to {producer.topic}"
            f" ({producer.skipped} duplicate id(s) skipped"
            + (f"; {problems} problem(s) reported above)" if problems else ")"),
            file=sys.stderr,
        )
    return 1 if problems else 0


async def poll_feeds(
    settings: Settings,
    producer: ArticleProducer,
    urls: list[str],
    *,
    follow: bool,
    on_health: Callable[[list[dict[str, Any]]], None] | None = None,
    monitor: SourceMonitor | None = None,
) -> int:
    """Poll ``urls`` once (or forever with ``follow``); returns the number of failed feeds.

    With ``follow`` every fetch feeds the source health (``DATA_DIR/sources.json`` for
    ``newswatch sources``) and its incidents become ops alerts on the watch-list's
    ``ops_channels``; ``on_health`` gets the rows after each check (``/metrics``).
    ``monitor``: the one of the caller (which also recorded local files), else a new one.
    """
    from streams.ingest.feeds import FeedPoller
    from streams.ingest.fetch import FetchConfig, GuardedFetcher
    from streams.ingest.sources import SourceMonitor

    fetcher = GuardedFetcher(
        FetchConfig(
            allow=settings.fetch_allow_hosts,
            timeout_s=settings.fetch_timeout_s,
            max_bytes=settings.fetch_max_bytes,
        )
    )
    if follow and monitor is None:
        monitor = SourceMonitor.from_settings(settings, producer.send_raw)
    if monitor is not None:
        monitor.on_rows = on_health
    await fetcher.start()
    try:
        poller = FeedPoller(
            fetcher,
            urls,
            interval_s=settings.feed_interval_s,
            max_items=settings.feed_max_items,
            retry=follow,
        )
        while True:
            for state in poller.due():
                failures_before = state.failures
                new = 0
                articles = await poller.poll(state)
                if monitor is not None and articles:  # the worker names them by source
                    monitor.origins[state.url] = sorted({a.source or "unknown" for a in articles})
                for article in articles:
                    try:
                        new += await producer.produce(article)
                    except IngestError as exc:
                        print(f"newswatch ingest: {state.url}: {exc}", file=sys.stderr)
                await producer.flush()
                if monitor is not None:
                    if state.failures > failures_before:
                        monitor.health.failed(state.url, state.last_error or "failed")
                    else:
                        monitor.health.fetched(state.url, state.last_parsed, new)
                    await monitor.check(producer.flush)
                if not follow and state.last_error:
                    print(f"newswatch ingest: {state.url}: {state.last_error}", file=sys.stderr)
            if not follow:
                return sum(1 for s in poller.states.values() if s.failures)
            if monitor is not None:
                await monitor.check(producer.flush)
            await asyncio.sleep(min(1.0, settings.feed_interval_s))
    finally:
        await fetcher.stop()


def run_ingest(settings: Settings, sources: list[str], *, follow: bool = False) -> int:
    """``newswatch ingest``: produce every article from ``sources``; returns the exit code."""
    if not sources:
        raise IngestError("nothing to ingest: give files, folders, '-' or feed URLs")
    return asyncio.run(_ingest(settings, sources, follow))
