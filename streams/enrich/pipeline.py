"""``Enricher``: clean → language → spaCy (batched per pipeline) → ``EnrichedArticle``."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from schemas.records import ArticleRef, EnrichedArticle, RawArticle, Span
from streams.enrich.boilerplate import BoilerplateFilter, load_boilerplate
from streams.enrich.clean import CleanText, clean_article
from streams.enrich.config import EnrichConfig
from streams.enrich.errors import ArticleEnrichError
from streams.enrich.language import LanguageIdentifier
from streams.enrich.nlp import LoadedPipeline, PipelineStore, freeze_heap, lemma_lookup
from streams.enrich.partial import partial_reason
from streams.enrich.patterns import normalize_patterns
from streams.enrich.record import entities_of, lemmas_of, sentences_of

__all__ = ["Enricher"]

log = logging.getLogger(__name__)

#: Entries of one language's lemma decision cache before it is cleared (bounded memory:
#: ≈ 150 B per entry, so ≈ 3 MB per language; it was 200,000 ≈ 30 MB, which a stream of
#: new tokens — names, ids — filled at ≈ 0.5 MB/min at 50 articles/s; issue 15, target 4).
_MEMO_LIMIT = 20_000


@dataclass
class _Prepared:
    article: RawArticle
    clean: CleanText
    language: str
    confidence: float
    timings: dict[str, float]


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


class Enricher:
    """Enriches raw articles; one per process (pipelines are loaded lazily and kept).

    Thread-safety: ``set_entity_patterns`` may be called from any thread at any time; the
    ``enrich*`` methods may run in several threads (each pipeline is used by one at a time).
    """

    def __init__(self, config: EnrichConfig | None = None) -> None:
        self.config = config or EnrichConfig()
        self._boilerplate: BoilerplateFilter = load_boilerplate(
            self.config.languages,
            self.config.boilerplate_dirs,
            max_words=self.config.boilerplate_max_words,
        )
        self._language = LanguageIdentifier(
            self.config.detected_languages(), sample_chars=self.config.language_sample_chars
        )
        self._store = PipelineStore(
            self.config.models,
            max_chars=self.config.max_chars,
            ruler_attr=self.config.ruler_attr,
            import_modules=self.config.import_modules,
            max_vocab_strings=self.config.max_vocab_strings,
            freeze_gc=self.config.freeze_gc,
        )
        #: (pipeline name, language) → lemma decisions; a rebuilt pipeline decides the same
        self._lemma_memo: dict[tuple[str, str], dict[Any, str]] = {}
        self._patterns_lock = threading.Lock()
        self.patterns_count = 0

    # ------------------------------------------------------------------ control
    def set_entity_patterns(self, patterns: Iterable[Mapping[str, Any]]) -> None:
        """Replace the watch-list EntityRuler patterns (validated; ``PatternError`` if bad)."""
        normalized = normalize_patterns(patterns)
        with self._patterns_lock:
            self._store.set_patterns(normalized)
            self.patterns_count = len(normalized)

    def warm_up(self, languages: Iterable[str] | None = None) -> None:
        """Build the language detector and load the pipelines of ``languages`` now."""
        self._language.warm_up()
        for lang in languages if languages is not None else self.config.preload:
            pipe = self._store.get(lang)
            with pipe.lock:
                self._store.sync_ruler(pipe)
            lemma_lookup(lang)
        if self.config.freeze_gc:
            gc.set_threshold(self.config.gc_threshold, 20, 20)
            freeze_heap()

    @property
    def pipeline_loads(self) -> int:
        """spaCy pipelines built so far by this enricher (first loads and rebuilds)."""
        return self._store.loads

    def wait_rebuilds(self, timeout: float | None = None) -> None:
        """Wait until the pipelines being rebuilt in the background are swapped in."""
        self._store.wait_rebuilds(timeout)

    def loaded_pipelines(self) -> dict[str, str]:
        """language → name of the spaCy pipeline serving it (``'blank:de'`` for fallbacks)."""
        return self._store.loaded()

    # ------------------------------------------------------------------ enrichment
    def enrich(self, article: RawArticle) -> EnrichedArticle:
        """Enrich one article; ``ArticleEnrichError`` if it cannot be."""
        return self.enrich_batch([article])[0]

    def enrich_batch(self, articles: Sequence[RawArticle]) -> list[EnrichedArticle]:
        """Enrich articles in order; raises the first ``ArticleEnrichError``."""
        results = self.try_enrich_batch(articles)
        for result in results:
            if isinstance(result, ArticleEnrichError):
                raise result
        return results  # type: ignore[return-value]

    def try_enrich_batch(
        self, articles: Sequence[RawArticle]
    ) -> list[EnrichedArticle | ArticleEnrichError]:
        """Enrich articles in order; a failing article yields its error in its slot."""
        out: list[EnrichedArticle | ArticleEnrichError | None] = [None] * len(articles)
        groups: dict[int, tuple[LoadedPipeline, list[int]]] = {}
        prepared: list[_Prepared | None] = [None] * len(articles)
        # Two passes: clean every article, then identify every language back to back. The
        # detector's models are large tables; interleaved with cleaning they drop out of
        # the CPU caches and each detection costs about twice as much (same result).
        cleaned: list[tuple[CleanText, float] | None] = [None] * len(articles)
        for i, article in enumerate(articles):
            try:
                cleaned[i] = self._clean(article)
            except Exception as exc:  # one bad article must not fail the batch
                out[i] = self._error(article, exc, "cleaning")
        for i, article in enumerate(articles):
            if (done := cleaned[i]) is None:
                continue
            try:
                prep = self._identify(article, *done)
                pipe = self._store.get(prep.language)
                lemma_lookup(prep.language)  # load once, outside the article's timings
            except Exception as exc:  # one bad article must not fail the batch
                out[i] = self._error(article, exc, "cleaning")
                continue
            prepared[i] = prep
            groups.setdefault(id(pipe), (pipe, []))[1].append(i)
        for pipe, indexes in groups.values():
            items = [p for i in indexes if (p := prepared[i]) is not None]
            for i, result in zip(indexes, self._run_pipeline(pipe, items), strict=True):
                out[i] = result
        return [r for r in out if r is not None]

    # ------------------------------------------------------------------ steps
    def _clean(self, article: RawArticle) -> tuple[CleanText, float]:
        t0 = time.perf_counter()
        clean = clean_article(
            article.title,
            article.text,
            content_type=article.content_type,
            boilerplate=self._boilerplate,
            max_chars=self.config.max_chars,
        )
        return clean, _ms(time.perf_counter() - t0)

    def _identify(self, article: RawArticle, clean: CleanText, clean_ms: float) -> _Prepared:
        t1 = time.perf_counter()
        language, confidence = self._language.identify(clean.text, article.language)
        t2 = time.perf_counter()
        return _Prepared(
            article, clean, language, confidence, {"clean": clean_ms, "language": _ms(t2 - t1)}
        )

    def _run_pipeline(
        self, pipe: LoadedPipeline, items: list[_Prepared]
    ) -> list[EnrichedArticle | ArticleEnrichError]:
        texts = [p.clean.text for p in items]
        with pipe.lock:
            self._store.sync_ruler(pipe)
            t0 = time.perf_counter()
            limit = self.config.model_max_chars if pipe.statistical else None
            short = [t for t in texts if limit is None or len(t) <= limit]
            try:
                done = iter(list(pipe.nlp.pipe(short, batch_size=self.config.batch_size)))
                docs: list[Any] = [
                    next(done) if limit is None or len(t) <= limit else pipe.process_long(t, limit)
                    for t in texts
                ]
            except Exception:
                docs = []
                for item, text in zip(items, texts, strict=True):
                    try:
                        if limit is not None and len(text) > limit:
                            docs.append(pipe.process_long(text, limit))
                        else:
                            docs.append(pipe.nlp(text))
                    except Exception as exc:
                        docs.append(self._error(item.article, exc, f"spaCy {pipe.name}"))
            elapsed = time.perf_counter() - t0
            self._store.recycle_if_bloated(pipe)  # rebuilt in the background, swapped in
        total_chars = sum(len(t) for t in texts) or 1
        results: list[EnrichedArticle | ArticleEnrichError] = []
        for item, doc in zip(items, docs, strict=True):
            if isinstance(doc, ArticleEnrichError):
                results.append(doc)
                continue
            item.timings["nlp"] = _ms(elapsed * len(item.clean.text) / total_chars)
            try:
                results.append(self._record(item, doc, pipe))
            except Exception as exc:
                results.append(self._error(item.article, exc, "building the record"))
        return results

    def _record(self, item: _Prepared, doc: Any, pipe: LoadedPipeline) -> EnrichedArticle:
        t0 = time.perf_counter()
        clean = item.clean
        sentences = sentences_of(doc, clean.text, clean.paragraphs)
        lookup = lemma_lookup(item.language)
        memo = self._lemma_memo.setdefault((pipe.name, item.language), {})
        if len(memo) > _MEMO_LIMIT:
            memo.clear()
        lemmas = lemmas_of(doc, lookup, pipe.sets_lemmas, memo)
        entities = entities_of(doc, sentences)
        art = item.article
        item.timings["record"] = _ms(time.perf_counter() - t0)
        item.timings["total"] = round(sum(item.timings.values()), 3)
        return EnrichedArticle(
            article=ArticleRef(
                id=art.id,
                title=art.title,
                url=art.url,
                source=art.source,
                published_at=art.published_at,
                language=item.language,
                replayed=art.replayed,
                ingested_at=art.ingested_at,
                partial_text=partial_reason(
                    clean.text,
                    language=item.language,
                    raw_text=art.text,
                    content_type=art.content_type,
                    text_origin=art.text_origin,
                ),
            ),
            language=item.language,
            language_confidence=item.confidence,
            clean_text=clean.text,
            paragraphs=[Span(start=s, end=e) for s, e in clean.paragraphs],
            sentences=sentences,
            lemmas=lemmas,
            entities=entities,
            truncated=clean.truncated,
            original_chars=clean.original_chars,
            pipeline=pipe.name,
            timings_ms=item.timings,
        )

    @staticmethod
    def _error(article: RawArticle, exc: Exception, stage: str) -> ArticleEnrichError:
        log.warning("article %r failed in %s: %s: %s", article.id, stage, type(exc).__name__, exc)
        err = ArticleEnrichError(
            f"{stage} failed: {type(exc).__name__}: {exc}", article_id=article.id
        )
        err.__cause__ = exc
        return err
