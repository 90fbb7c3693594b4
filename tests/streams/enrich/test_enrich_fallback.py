"""The Enricher on the fallback pipeline (no trained model installed): the seed article and more."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

import streams.enrich.pipeline as pipeline_module
from schemas.records import EnrichedArticle, RawArticle
from streams.enrich import Enricher
from streams.enrich.testing import FAIL_MARKER, save_pipeline_with
from streams.settings import SAMPLES_DIR

SEED = SAMPLES_DIR / "alibaba-liege-de.txt"

MakeEnricher = Callable[..., Enricher]
MakeArticle = Callable[..., RawArticle]


def _content_paragraphs() -> list[str]:
    """The seed file's paragraphs that are article text (everything but the boilerplate)."""
    blocks = [b.strip() for b in SEED.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    return [b for b in blocks if b not in {"WERBUNG", "source-121", "Leave a Reply"}]


def _check_offsets(rec: EnrichedArticle) -> None:
    text = rec.clean_text
    spans = [(p.start, p.end) for p in rec.paragraphs]
    assert "\n\n".join(text[s:e] for s, e in spans) == text
    for sent in rec.sentences:
        p = rec.paragraphs[sent.paragraph]
        assert p.start <= sent.start < sent.end <= p.end
        assert text[sent.start : sent.end] == text[sent.start : sent.end].strip()
    for ent in rec.entities:
        assert text[ent.start : ent.end] == ent.text
        if ent.sentence >= 0:
            sent = rec.sentences[ent.sentence]
            assert sent.start <= ent.start < sent.end


def test_seed_article(make_enricher: MakeEnricher, seed_article: RawArticle) -> None:
    """Seed article: German, all content paragraphs kept, boilerplate gone, Alibaba an entity."""
    rec = make_enricher().enrich(seed_article)
    assert rec.language == "de" and rec.language_confidence > 0.9
    paragraphs = [rec.clean_text[p.start : p.end] for p in rec.paragraphs]
    assert paragraphs == _content_paragraphs()
    for gone in ("WERBUNG", "source-121", "Leave a Reply"):
        assert gone not in rec.clean_text
    alibaba = [e for e in rec.entities if e.text == "Alibaba"]
    assert len(alibaba) == 6 and {e.origin for e in alibaba} == {"ruler"}
    assert {e.label for e in alibaba} == {"ORG"}
    assert any(e.text == "Alibaba Group" for e in rec.entities)
    assert rec.pipeline == "blank:de" and not rec.truncated
    assert rec.original_chars == len(rec.clean_text)
    assert rec.matches == [] and rec.watchlist_version == ""
    assert rec.article.id == "seed" and rec.article.language == "de"
    assert {"clean", "language", "nlp", "record", "total"} <= set(rec.timings_ms)
    _check_offsets(rec)


def test_title_is_its_own_sentence(make_enricher: MakeEnricher, seed_article: RawArticle) -> None:
    """The title (no full stop) does not merge with the first body sentence."""
    rec = make_enricher().enrich(seed_article)
    first = rec.sentences[0]
    assert rec.clean_text[first.start : first.end] == seed_article.title
    assert first.paragraph == 0 and rec.sentences[1].paragraph == 1


def test_lookup_lemmas_differ_from_surface(
    make_enricher: MakeEnricher, seed_article: RawArticle
) -> None:
    """Lemmas come from the lookup tables and are listed only where they differ."""
    rec = make_enricher().enrich(seed_article)
    by_surface = {rec.clean_text[lem.start : lem.end]: lem.lemma for lem in rec.lemmas}
    assert by_surface["überwacht"] == "überwachen"
    assert by_surface["Informationen"] == "information"
    assert all(lem.lemma != rec.clean_text[lem.start : lem.end].casefold() for lem in rec.lemmas)
    assert "Alibaba" not in by_surface


def test_missing_model_logs_one_warning(
    make_enricher: MakeEnricher, make_article: MakeArticle, caplog: pytest.LogCaptureFixture
) -> None:
    """A configured model that is not installed is named once, with how to install it."""
    with caplog.at_level(logging.WARNING, logger="streams.enrich"):
        enricher = make_enricher(models={"de": "de_nonexistent_model_sm"})
        for _ in range(3):
            enricher.enrich(make_article("Ein Text über die Stadt.", language="de"))
        make_enricher(models={"de": "de_nonexistent_model_sm"}).enrich(
            make_article("Noch ein Text.", language="de")
        )
    warnings = [
        r.getMessage() for r in caplog.records if "de_nonexistent_model_sm" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "python -m spacy download de_nonexistent_model_sm" in warnings[0]


def test_pattern_swap_takes_effect(make_enricher: MakeEnricher, make_article: MakeArticle) -> None:
    """After set_entity_patterns the ruler uses the new patterns only."""
    enricher = make_enricher()
    article = make_article("Alibaba und Cainiao expandieren.", language="de")
    assert [e.text for e in enricher.enrich(article).entities] == ["Alibaba"]
    enricher.set_entity_patterns([{"label": "ORG", "pattern": "Cainiao", "id": "cainiao"}])
    assert [e.text for e in enricher.enrich(article).entities] == ["Cainiao"]
    enricher.set_entity_patterns([])
    assert enricher.enrich(article).entities == []


def test_batch_keeps_order_across_languages(
    make_enricher: MakeEnricher, make_article: MakeArticle
) -> None:
    """A mixed-language batch is grouped per pipeline but returned in input order."""
    articles = [
        make_article("Alibaba verkauft mehr.", language="de"),
        make_article("Alibaba sells more.", language="en"),
        make_article("阿里巴巴在列日设立物流中心。", title="阿里巴巴", language="zh"),
        make_article("Alibaba wächst weiter.", language="de"),
    ]
    out = make_enricher().enrich_batch(articles)
    assert [r.article.id for r in out] == [a.id for a in articles]
    assert [r.pipeline for r in out] == ["blank:de", "blank:en", "blank:zh", "blank:de"]
    zh = out[2]
    assert [e.text for e in zh.entities] == ["阿里巴巴", "阿里巴巴"]


def test_language_without_tokenizer_dependencies_still_works(
    make_enricher: MakeEnricher, make_article: MakeArticle
) -> None:
    """Japanese needs SudachiPy for spaCy; the fallback segments characters instead."""
    rec = make_enricher(languages=["ja", "en"]).enrich(
        make_article("アリババはベルギーで調査されている。", title="阿里巴巴", language="ja")
    )
    assert rec.language == "ja" and rec.pipeline == "blank:zh"
    assert [e.text for e in rec.entities] == ["阿里巴巴"]
    assert len(rec.sentences) == 2


def test_long_article_is_truncated(make_enricher: MakeEnricher, make_article: MakeArticle) -> None:
    """An article beyond max_chars is cut, enriched, and says so."""
    body = "\n\n".join("Alibaba baut ein Logistikzentrum in Lüttich. " * 20 for _ in range(50))
    rec = make_enricher(max_chars=5_000).enrich(make_article(body, language="de"))
    assert rec.truncated and len(rec.clean_text) <= 5_000
    assert rec.original_chars > 40_000
    assert rec.entities and rec.sentences[-1].end <= len(rec.clean_text)


def test_failing_article_is_isolated(
    make_enricher: MakeEnricher, make_article: MakeArticle, tmp_path: object
) -> None:
    """An article that breaks the pipeline yields its error; the rest of the batch is enriched."""
    path = save_pipeline_with("de", ["newswatch_test_fail"], f"{tmp_path}/failing")
    enricher = make_enricher(models={"de": str(path)}, import_modules=["streams.enrich.testing"])
    good, bad = (
        make_article("Ein guter Text.", language="de"),
        make_article(f"Ein {FAIL_MARKER} Text.", language="de"),
    )
    results = enricher.try_enrich_batch([good, bad, good])
    assert isinstance(results[0], EnrichedArticle) and isinstance(results[2], EnrichedArticle)
    assert results[0].pipeline == str(path)
    error = results[1]
    assert not isinstance(error, EnrichedArticle)
    assert error.article_id == bad.id and "failed on purpose" in str(error)
    with pytest.raises(type(error)):
        enricher.enrich_batch([good, bad])


def test_empty_article_is_enriched(make_enricher: MakeEnricher, make_article: MakeArticle) -> None:
    """An article with neither title nor text becomes an empty, undetermined record."""
    rec = make_enricher().enrich(make_article("", title=""))
    assert rec.clean_text == "" and rec.language == "xx" and rec.language_confidence == 0.0
    assert rec.paragraphs == [] and rec.sentences == [] and rec.pipeline == "blank:xx"


def test_pipeline_is_reloaded_when_its_vocabulary_outgrows_the_limit(
    make_enricher: MakeEnricher, make_article: MakeArticle
) -> None:
    """A pipeline that interned too many strings is replaced; enrichment goes on unchanged."""
    enricher = make_enricher(max_vocab_strings=10_000)
    first = enricher._store.get("de")
    words = " ".join(f"Wort{i}x" for i in range(12_000))
    enricher.enrich(make_article(words, language="de"))
    enricher.wait_rebuilds(120)
    second = enricher._store.get("de")
    assert second is not first and len(second.nlp.vocab.strings) < 10_000
    rec = enricher.enrich(make_article("Alibaba wächst.", language="de"))
    assert [e.text for e in rec.entities] == ["Alibaba"]


def test_string_store_stays_bounded_over_many_unique_tokens(
    make_enricher: MakeEnricher, make_article: MakeArticle
) -> None:
    """50 batches of new tokens: the serving pipeline never holds more than its load-time
    strings + the limit + one batch's new strings, and is rebuilt off the caller's thread."""
    limit, per_batch = 2_000, 300
    enricher = make_enricher(max_vocab_strings=limit)
    enricher.enrich(make_article("Alibaba wächst.", language="de"))
    base = enricher._store.get("de").base_strings
    sizes = []
    for batch in range(50):
        words = " ".join(f"Token{batch}n{i}q" for i in range(per_batch))
        enricher.enrich(make_article(words, language="de"))
        enricher.wait_rebuilds(120)
        sizes.append(len(enricher._store.get("de").nlp.vocab.strings))
    assert max(sizes) <= base + limit + per_batch + 50  # 50: title and punctuation strings
    assert enricher.pipeline_loads >= 1 + (50 * per_batch) // (limit + per_batch)


def test_lemma_decision_cache_stays_bounded_over_many_unique_tokens(
    make_enricher: MakeEnricher, make_article: MakeArticle
) -> None:
    """New tokens article after article: a language's lemma cache is cleared at its limit."""
    enricher = make_enricher()
    sizes = []
    for batch in range(8):
        words = " ".join(f"Wort{batch}x{i}q" for i in range(3_000))
        enricher.enrich(make_article(words, language="de"))
        sizes.append(max(len(memo) for memo in enricher._lemma_memo.values()))
    assert max(sizes) <= pipeline_module._MEMO_LIMIT + 3_100  # the limit + one article
    assert sizes[-1] < sizes[-2] or sizes[-2] < sizes[-3]  # cleared at least once


def test_records_are_identical_after_a_pipeline_swap(
    make_enricher: MakeEnricher, seed_article: RawArticle
) -> None:
    """The record of an article is the same before and after its pipeline was rebuilt."""
    enricher = make_enricher(max_vocab_strings=1_000)
    article = seed_article.model_copy(update={"language": "de"})
    before = enricher.enrich(article)
    pipe = enricher._store.get("de")
    enricher._store.max_vocab_strings = 1_000
    pipe.base_strings -= 10_000  # as if it had interned 10,000 strings since loading
    assert enricher._store.recycle_if_bloated(pipe)
    enricher.wait_rebuilds(120)
    assert enricher._store.get("de") is not pipe
    after = enricher.enrich(article)
    strip = {"timings_ms"}
    assert after.model_dump(exclude=strip) == before.model_dump(exclude=strip)
    assert any(e.origin == "ruler" for e in after.entities)


def test_loading_a_pipeline_freezes_the_heap(
    make_enricher: MakeEnricher, make_article: MakeArticle
) -> None:
    """With freeze_gc the loaded pipeline leaves the cyclic GC's generations."""
    import gc

    gc.unfreeze()
    try:
        enricher = make_enricher(freeze_gc=True)
        enricher.enrich(make_article("Alibaba wächst.", language="de"))
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
