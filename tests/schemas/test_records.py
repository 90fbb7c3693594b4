"""The record contract: generated JSON Schema files are current and ids are stable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas.export import render_schemas
from schemas.ids import article_id, canonical_url
from schemas.records import RawArticle

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def test_committed_schema_files_match_the_models() -> None:
    """Every schemas/*.schema.json equals what `python -m schemas.export` generates now."""
    for name, text in render_schemas().items():
        assert (SCHEMA_DIR / name).read_text(encoding="utf-8") == text, f"regenerate {name}"


def test_raw_article_requires_id_title_text() -> None:
    """A raw article without an id is rejected with the field named."""
    with pytest.raises(ValidationError) as err:
        RawArticle.model_validate({"title": "t", "text": "x"})
    assert err.value.errors()[0]["loc"] == ("id",)


def test_canonical_url_drops_tracking_and_fragment() -> None:
    """Tracking parameters, fragments, default ports and host case do not change the URL."""
    a = canonical_url("HTTPS://Example.com:443/news/1/?utm_source=x&b=2&a=1#top")
    assert a == "https://example.com/news/1?a=1&b=2"


def test_article_id_is_stable_for_the_same_story() -> None:
    """The same canonical URL gives the same id; without a URL, whitespace/case do not matter."""
    assert article_id(url="https://e.com/a?utm_medium=rss") == article_id(url="https://e.com/a")
    assert article_id(title="Hello  World", text="Body") == article_id(
        title="hello world", text="body"
    )
    assert article_id(title="a", text="b") != article_id(title="a", text="c")
