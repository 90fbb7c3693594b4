"""The enrichment part of the ``streams`` error tree.

    NewswatchError                   (streams.errors)
    └── EnrichError                  (streams.errors) enrichment failed
        ├── BoilerplateFileError     a boilerplate data file is invalid (file:line: message)
        ├── PatternError             an EntityRuler pattern from the watch-list is invalid
        ├── ArticleEnrichError       one article could not be enriched (carries article id)
        └── EnricherStopped          the async enricher is not running (retriable)

Every error carries its context as attributes so an agent can dead-letter the article or
report the file position; none of them ever reaches a user as a traceback.
"""

from __future__ import annotations

from pathlib import Path

from streams.errors import EnrichError

__all__ = [
    "ArticleEnrichError",
    "BoilerplateFileError",
    "EnrichError",
    "EnricherStopped",
    "PatternError",
]


class BoilerplateFileError(EnrichError):
    """A boilerplate file has a bad line (e.g. an invalid regular expression)."""

    def __init__(self, message: str, *, path: Path, line: int) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


class PatternError(EnrichError):
    """An EntityRuler pattern (from the watch-list aliases) is malformed."""

    def __init__(self, message: str, *, index: int) -> None:
        super().__init__(f"entity pattern #{index}: {message}")
        self.index = index


class ArticleEnrichError(EnrichError):
    """One article could not be enriched; the agent dead-letters it and goes on."""

    def __init__(self, message: str, *, article_id: str, retriable: bool = False) -> None:
        super().__init__(f"article {article_id!r}: {message}")
        self.detail = message
        self.article_id = article_id
        self.retriable = retriable


class EnricherStopped(EnrichError):
    """The async enricher was used before ``start()`` or after ``stop()``."""

    retriable = True
