"""A trained pipeline (tiny tok2vec+NER, built in the session) loaded by path like a real model."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from schemas.records import RawArticle
from streams.enrich import Enricher

MakeEnricher = Callable[..., Enricher]


def test_trained_pipeline_finds_alibaba_as_model_entity(
    make_enricher: MakeEnricher, seed_article: RawArticle, tiny_de_pipeline: Path
) -> None:
    """The statistical NER of a pipeline loaded by path tags Alibaba; origin is 'model'."""
    enricher = make_enricher(patterns=[], models={"de": str(tiny_de_pipeline)})
    rec = enricher.enrich(seed_article)
    assert rec.pipeline == str(tiny_de_pipeline) and rec.language == "de"
    alibaba = [e for e in rec.entities if e.text == "Alibaba"]
    assert alibaba and {(e.label, e.origin) for e in alibaba} == {("ORG", "model")}
    assert enricher.loaded_pipelines() == {"de": str(tiny_de_pipeline)}


def test_ruler_adds_what_the_model_misses(
    make_enricher: MakeEnricher, seed_article: RawArticle, tiny_de_pipeline: Path
) -> None:
    """Ruler entities sit after NER: model entities stay, unseen aliases come from the ruler."""
    patterns = [
        {"label": "ORG", "pattern": "Alibaba", "id": "alibaba"},
        {"label": "FAC", "pattern": "Frachtflughafen", "id": "cargo-airport"},
    ]
    rec = make_enricher(patterns=patterns, models={"de": str(tiny_de_pipeline)}).enrich(
        seed_article
    )
    origins = {(e.text, e.origin) for e in rec.entities}
    assert ("Alibaba", "model") in origins and ("Alibaba", "ruler") not in origins
    assert ("Frachtflughafen", "ruler") in origins


def test_trained_pipeline_gets_sentences_and_lookup_lemmas(
    make_enricher: MakeEnricher, seed_article: RawArticle, tiny_de_pipeline: Path
) -> None:
    """A pipeline without parser or lemmatizer still yields sentences and lookup lemmas."""
    enricher = make_enricher(models={"de": str(tiny_de_pipeline)})
    rec = enricher.enrich(seed_article)
    assert len(rec.sentences) == 11 and rec.sentences[0].paragraph == 0
    lemmas = {rec.clean_text[lem.start : lem.end]: lem.lemma for lem in rec.lemmas}
    assert lemmas["überwacht"] == "überwachen"


def test_xx_model_serves_languages_without_their_own(
    make_enricher: MakeEnricher, tiny_de_pipeline: Path, make_article: Callable[..., RawArticle]
) -> None:
    """A language without a model uses the 'xx' model, with its own language's lookup lemmas."""
    enricher = make_enricher(models={"xx": str(tiny_de_pipeline)})
    rec = enricher.enrich(make_article("Ze gingen naar huis.", title="Thuis", language="nl"))
    assert rec.pipeline == str(tiny_de_pipeline) and rec.language == "nl"
    lemmas = {rec.clean_text[lem.start : lem.end]: lem.lemma for lem in rec.lemmas}
    assert lemmas == {"gingen": "gaan"}


def test_broken_model_falls_back_with_an_error_log(
    make_enricher: MakeEnricher,
    seed_article: RawArticle,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A model directory that cannot be loaded is reported; articles still get enriched."""
    broken = tmp_path / "broken_model"
    broken.mkdir()
    (broken / "config.cfg").write_text("[nlp\nthis is not a config\n")
    with caplog.at_level(logging.ERROR, logger="streams.enrich"):
        rec = make_enricher(models={"de": str(broken)}).enrich(seed_article)
    assert rec.pipeline == "blank:de" and any(e.text == "Alibaba" for e in rec.entities)
    assert any(str(broken) in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_long_article_beyond_model_max_chars_keeps_offsets_and_ruler(
    make_enricher: MakeEnricher, seed_article: RawArticle, tiny_de_pipeline: Path
) -> None:
    """Past model_max_chars only the cheap components run; entities and offsets stay exact."""
    body = "\n\n".join([seed_article.text.strip()] * 4)
    article = seed_article.model_copy(update={"text": body})
    enricher = make_enricher(models={"de": str(tiny_de_pipeline)}, model_max_chars=2_500)
    rec = enricher.enrich(article)
    assert len(rec.clean_text) > 8_000 and not rec.truncated
    head = [e for e in rec.entities if e.start < 2_500]
    tail = [e for e in rec.entities if e.start > 3_000]
    assert any(e.origin == "model" for e in head)
    assert tail and {e.origin for e in tail} == {"ruler"}
    for ent in rec.entities:
        assert rec.clean_text[ent.start : ent.end] == ent.text
    tail_lemmas = {rec.clean_text[x.start : x.end]: x.lemma for x in rec.lemmas if x.start > 3_000}
    assert tail_lemmas["überwacht"] == "überwachen"
    assert rec.sentences[-1].paragraph == len(rec.paragraphs) - 1
