"""``AsyncEnricher``: enrichment off the event loop, with an explicit start/stop lifecycle.

Two executors, chosen by ``mode``:

* ``"thread"`` (default): one worker thread owns the ``Enricher``. spaCy holds the GIL for
  most of its work, but the interpreter switches threads every 5 ms, so the event loop
  (Kafka heartbeats, other agents) keeps running; ``newswatch bench enrich`` measures the
  loop's lag while enriching.
* ``"process"``: a pool of ``processes`` spawned worker processes, each with its own
  ``Enricher`` (true parallelism on several cores; a crash in native code kills a worker
  process, not the Faust worker: the pool is rebuilt and the culprit article isolated).
  Watch-list patterns travel with each batch as a pickled blob (re-sent only as bytes,
  applied by a worker only when their version changed).
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import multiprocessing
import pickle
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal

from schemas.records import EnrichedArticle, RawArticle
from streams.enrich.config import EnrichConfig
from streams.enrich.errors import ArticleEnrichError, EnricherStopped
from streams.enrich.patterns import normalize_patterns
from streams.enrich.pipeline import Enricher

__all__ = ["AsyncEnricher"]

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- worker-process side
_WORKER: Enricher | None = None
_WORKER_VERSION = 0


def _init_worker(config_json: str) -> None:
    global _WORKER
    _WORKER = Enricher(EnrichConfig.model_validate_json(config_json))
    _WORKER.warm_up()


def _worker_batch(version: int, blob: bytes, articles: list[RawArticle]) -> list[Any]:
    global _WORKER_VERSION
    assert _WORKER is not None
    if version != _WORKER_VERSION:
        _WORKER.set_entity_patterns(pickle.loads(blob))
        _WORKER_VERSION = version
    out: list[Any] = []
    for result in _WORKER.try_enrich_batch(articles):
        if isinstance(result, ArticleEnrichError):
            out.append(("error", result.article_id, result.detail, result.retriable))
        else:
            out.append(result)
    return out


def _worker_ping() -> bool:
    return _WORKER is not None


# ---------------------------------------------------------------- event-loop side
class AsyncEnricher:
    """Runs ``Enricher.try_enrich_batch`` in a thread or process pool; ``start()`` first."""

    def __init__(
        self,
        config: EnrichConfig | None = None,
        *,
        mode: Literal["thread", "process"] = "thread",
        processes: int = 1,
    ) -> None:
        self.config = config or EnrichConfig()
        self.mode = mode
        self.processes = max(1, processes)
        self._executor: cf.Executor | None = None
        self._enricher: Enricher | None = None
        self._patterns: list[dict[str, Any]] = []
        self._version = 0
        self._blob = pickle.dumps([])

    @property
    def pipeline_loads(self) -> int | None:
        """spaCy pipelines built so far (thread mode; None in process mode or when stopped)."""
        enricher = self._enricher
        return enricher.pipeline_loads if enricher is not None else None

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._executor is not None

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Create the executor, build the enricher(s), warm up detector and preloaded models."""
        if self._executor is not None:
            return
        loop = asyncio.get_running_loop()
        if self.mode == "thread":
            executor = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="enrich")
            self._enricher = await loop.run_in_executor(executor, self._make_thread_enricher)
            self._executor = executor
        else:
            self._executor = self._make_pool()
            await asyncio.gather(
                *(loop.run_in_executor(self._executor, _worker_ping) for _ in range(self.processes))
            )
        log.info("enricher started (%s x%d)", self.mode, self.processes)

    async def stop(self) -> None:
        """Finish running work and shut the executor down (idempotent)."""
        executor, self._executor = self._executor, None
        self._enricher = None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, True, cancel_futures=True)

    def _make_thread_enricher(self) -> Enricher:
        enricher = Enricher(self.config)
        enricher.set_entity_patterns(self._patterns)
        enricher.warm_up()
        return enricher

    def _make_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.config.model_dump_json(),),
        )

    # ------------------------------------------------------------------ patterns
    def set_entity_patterns(self, patterns: Iterable[Mapping[str, Any]]) -> None:
        """Swap the watch-list patterns (validated here; ``PatternError`` if bad)."""
        normalized = normalize_patterns(patterns)
        self._patterns = normalized
        self._blob = pickle.dumps(normalized)
        self._version += 1
        if self._enricher is not None:
            self._enricher.set_entity_patterns(normalized)

    # ------------------------------------------------------------------ work
    async def enrich(self, article: RawArticle) -> EnrichedArticle:
        """Enrich one article off the loop; ``ArticleEnrichError`` if it cannot be."""
        return (await self.enrich_batch([article]))[0]

    async def enrich_batch(self, articles: Sequence[RawArticle]) -> list[EnrichedArticle]:
        """Enrich a batch off the loop; raises the first ``ArticleEnrichError``."""
        results = await self.try_enrich_batch(articles)
        for result in results:
            if isinstance(result, ArticleEnrichError):
                raise result
        return results  # type: ignore[return-value]

    async def try_enrich_batch(
        self, articles: Sequence[RawArticle]
    ) -> list[EnrichedArticle | ArticleEnrichError]:
        """Enrich a batch off the loop; each failing article yields its error in its slot."""
        if not articles:
            return []
        executor = self._executor
        if executor is None:
            raise EnricherStopped("the enricher is not running (call start() first)")
        loop = asyncio.get_running_loop()
        if self.mode == "thread":
            assert self._enricher is not None
            return await loop.run_in_executor(
                executor, self._enricher.try_enrich_batch, list(articles)
            )
        try:
            raw = await self._submit(list(articles))
        except BrokenProcessPool:
            log.error("an enrichment process died; isolating the %d articles", len(articles))
            return [await self._isolate(article) for article in articles]
        return [self._decode(item) for item in raw]

    async def _submit(self, articles: list[RawArticle]) -> list[Any]:
        executor = self._executor
        if executor is None:
            raise EnricherStopped("the enricher is not running")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            executor, _worker_batch, self._version, self._blob, articles
        )

    async def _isolate(self, article: RawArticle) -> EnrichedArticle | ArticleEnrichError:
        self._rebuild_pool()
        try:
            raw = await self._submit([article])
        except BrokenProcessPool:
            self._rebuild_pool()
            return ArticleEnrichError("the enrichment process died on it", article_id=article.id)
        return self._decode(raw[0])

    def _rebuild_pool(self) -> None:
        old = self._executor
        if old is None:
            raise EnricherStopped("the enricher is not running")
        broken = getattr(old, "_broken", False)
        if broken:
            old.shutdown(wait=False, cancel_futures=True)
            self._executor = self._make_pool()

    @staticmethod
    def _decode(item: Any) -> EnrichedArticle | ArticleEnrichError:
        if isinstance(item, tuple) and item and item[0] == "error":
            _, article_id, message, retriable = item
            err = ArticleEnrichError(message, article_id=article_id, retriable=retriable)
            return err
        return item  # type: ignore[no-any-return]
