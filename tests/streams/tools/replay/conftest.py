"""Fixtures for replay tests: watch-list files, labels, the corpus as JSONL, one enricher."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from replay_corpus import BASELINE_YAML, LABELS, NEW_YAML, corpus_articles


@pytest.fixture
def watchlists(tmp_path: Path) -> tuple[Path, Path]:
    """(NEW, BASELINE) watch-list files."""
    new, base = tmp_path / "new.yaml", tmp_path / "baseline.yaml"
    new.write_text(NEW_YAML, encoding="utf-8")
    base.write_text(BASELINE_YAML, encoding="utf-8")
    return new, base


@pytest.fixture
def labels_file(tmp_path: Path) -> Path:
    """The corpus labels as JSONL."""
    path = tmp_path / "labels.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in LABELS) + b"\n")
    return path


@pytest.fixture
def corpus_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """Factory: the corpus as a JSONL file, each article's time as ``published_at``."""

    def factory(name: str = "corpus.jsonl") -> Path:
        path = tmp_path / name
        lines = []
        for article, ts in corpus_articles():
            published = datetime.fromtimestamp(ts / 1000, tz=UTC)
            lines.append(article.model_copy(update={"published_at": published}).model_dump_json())
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return factory


@pytest.fixture(scope="session")
def replay_enricher() -> Any:
    """One real Enricher (blank spaCy pipelines) shared by the replay tests."""
    from streams.enrich import EnrichConfig, Enricher

    enricher = Enricher(EnrichConfig(languages=["en", "de"]))
    return enricher
