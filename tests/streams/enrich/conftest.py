"""Fixtures of the enrichment tests: article and enricher factories, one tiny trained pipeline."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from schemas.records import RawArticle
from streams.enrich import EnrichConfig, Enricher
from streams.enrich.testing import train_tiny_pipeline
from streams.settings import SAMPLES_DIR

SEED = SAMPLES_DIR / "alibaba-liege-de.txt"

#: No trained model is installed here; naming absent ones keeps the fallback explicit.
MISSING_MODELS = {"de": "de_core_news_sm", "en": "en_core_web_sm", "xx": "xx_ent_wiki_sm"}

ALIBABA_PATTERNS = [
    {"label": "ORG", "pattern": "Alibaba", "id": "alibaba"},
    {"label": "ORG", "pattern": "Alibaba Group", "id": "alibaba"},
    {"label": "ORG", "pattern": "阿里巴巴", "id": "alibaba"},
]


@pytest.fixture(scope="session")
def tiny_de_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tok2vec+NER German pipeline trained once per session and saved to a directory."""
    return train_tiny_pipeline("de", tmp_path_factory.mktemp("tiny") / "de_tiny_ner")


@pytest.fixture
def seed_article() -> RawArticle:
    """The seed article as a text file is read: first non-empty line is the title."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip())
    return RawArticle(id="seed", title=lines[first].strip(), text="\n".join(lines[first + 1 :]))


@pytest.fixture
def make_article() -> Callable[..., RawArticle]:
    """Factory of RawArticle records with unique ids."""
    counter = itertools.count(1)

    def factory(text: str = "Ein kurzer Text.", title: str = "Titel", **fields: Any) -> RawArticle:
        return RawArticle(
            id=fields.pop("id", f"a{next(counter)}"), title=title, text=text, **fields
        )

    return factory


@pytest.fixture
def make_enricher() -> Callable[..., Enricher]:
    """Factory of Enrichers: fallback models, Alibaba ruler patterns, no gc.freeze()."""

    def factory(patterns: list[dict[str, Any]] | None = None, **config: Any) -> Enricher:
        config.setdefault("models", MISSING_MODELS)
        config.setdefault("freeze_gc", False)  # keep the test process's GC untouched
        enricher = Enricher(EnrichConfig(**config))
        enricher.set_entity_patterns(ALIBABA_PATTERNS if patterns is None else patterns)
        return enricher

    return factory
