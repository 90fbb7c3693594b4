"""URL keys for story grouping (pure); the canonical form itself lives in ``schemas.ids``."""

from __future__ import annotations

from schemas.ids import page_key

__all__ = ["canonical_url", "source_key"]


def canonical_url(url: str | None) -> str | None:
    """``host/path?query`` of an http(s) URL (``schemas.ids.page_key``), else ``None``."""
    return page_key(url)


def source_key(source: str | None, url: str | None) -> str | None:
    """Who published an article: the ``source`` field, else the URL host (casefolded)."""
    if source and source.strip():
        return source.strip().casefold()
    canon = page_key(url)
    return canon.split("/", 1)[0] if canon else None
