"""Multilingual enrichment: cleaning, language id, spaCy entities — pure, no Kafka imports.

    from streams.enrich import Enricher, EnrichConfig
    enricher = Enricher(EnrichConfig.from_settings(settings))
    enricher.set_entity_patterns(compiled_watchlist.entity_patterns())
    enriched = enricher.enrich_batch(raw_articles)        # list[EnrichedArticle]

In the worker use ``AsyncEnricher`` (``start()`` / ``await try_enrich_batch(...)`` /
``stop()``): the CPU work runs in a thread (default) or a process pool
(``mode="process", processes=n``), never on the event loop. ``try_enrich_batch`` returns
an ``ArticleEnrichError`` in the slot of an article that failed (dead-letter it), so one
bad article never fails its batch.

Contract of an ``EnrichedArticle`` produced here (the matcher relies on it):

* ``clean_text`` = the clean **title as paragraph 0** (when the title is not empty), then
  the body paragraphs, joined by ``"\\n\\n"``. Paragraphs contain no line break and no
  double space; ``paragraphs[i]`` is exactly ``clean_text[start:end]``. So title and body
  share one offset space and the matcher scans ``clean_text`` only. A first body paragraph
  repeating the title is dropped.
* Text is NFKC-normalised; soft hyphens, zero-width spaces, BOMs and control characters are
  removed; boilerplate lines (data files in ``streams/enrich/data/boilerplate/``, extended
  by ``EnrichConfig.boilerplate_dirs``) are gone.
* ``sentences`` never cross a paragraph; each carries its paragraph index.
* ``lemmas``: only tokens whose casefolded lemma differs from their casefolded surface;
  ``lemma`` is casefolded.
* ``entities``: ``origin="model"`` from statistical NER, ``"ruler"`` from the watch-list
  EntityRuler; ``sentence`` is the index of the sentence holding the entity's start.
* ``language``: the producer's code when given (confidence 1.0), else lingua's choice among
  the configured languages; ``"xx"`` with confidence 0.0 when undetermined.
* ``truncated`` / ``original_chars``: ``original_chars`` is the clean length before the cut
  at ``max_chars`` (the cut is at a paragraph or word boundary). Past ``model_max_chars``
  (default 50,000) statistical components (NER, trained lemmatizer) are skipped: the rest
  of the text still gets sentences, lookup lemmas and watch-list ruler entities, so one
  huge article cannot hold its partition for seconds.
* ``pipeline``: spaCy model name, path, or ``"blank:<lang>"`` for the fallback.
* ``timings_ms``: ``clean``, ``language``, ``nlp`` (the article's share of its batch by
  characters), ``record``, ``total``.
* ``matches`` / ``watchlist_version`` are left empty for the matcher.
"""

from __future__ import annotations

from streams.enrich.aio import AsyncEnricher
from streams.enrich.boilerplate import BoilerplateFilter, load_boilerplate
from streams.enrich.clean import CleanText, clean_article
from streams.enrich.config import EnrichConfig, normalize_lang
from streams.enrich.errors import (
    ArticleEnrichError,
    BoilerplateFileError,
    EnrichError,
    EnricherStopped,
    PatternError,
)
from streams.enrich.language import UNDETERMINED, LanguageIdentifier
from streams.enrich.patterns import normalize_patterns
from streams.enrich.pipeline import Enricher

__all__ = [
    "UNDETERMINED",
    "ArticleEnrichError",
    "AsyncEnricher",
    "BoilerplateFileError",
    "BoilerplateFilter",
    "CleanText",
    "EnrichConfig",
    "EnrichError",
    "Enricher",
    "EnricherStopped",
    "LanguageIdentifier",
    "PatternError",
    "clean_article",
    "load_boilerplate",
    "normalize_lang",
    "normalize_patterns",
]
