"""RSS/Atom feeds: parse entries into articles; poll feeds with conditional GET and backoff.

Fetching goes through the one guarded client (``streams.ingest.fetch``); this module only
keeps per-feed state (ETag, Last-Modified, failures, next poll time).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import feedparser

from schemas.ids import article_id
from schemas.records import RawArticle
from streams.errors import IngestError, NewswatchError

__all__ = ["FeedPoller", "FeedState", "Fetcher", "parse_feed"]

log = logging.getLogger(__name__)


class _FetchResult(Protocol):
    status: int
    body: bytes
    headers: Any
    not_modified: bool


class Fetcher(Protocol):
    """What the poller needs from the guarded HTTP client."""

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Any: ...


def _entry_time(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    year, month, day, hour, minute, second = parsed[:6]
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def parse_feed(body: bytes, *, feed_url: str) -> list[RawArticle]:
    """Articles from an RSS/Atom document (entries without title or link are skipped)."""
    parsed = feedparser.parse(body)
    if parsed.get("bozo") and not parsed.entries:
        raise IngestError(f"not an RSS/Atom feed: {parsed.get('bozo_exception')}", source=feed_url)
    source = parsed.feed.get("title") or urlsplit(feed_url).hostname or feed_url
    articles = []
    for entry in parsed.entries:
        link, title = entry.get("link"), (entry.get("title") or "").strip()
        if not link or not title:
            continue
        content = entry.get("content") or []
        body_html = content[0].get("value") if content else entry.get("summary", "")
        articles.append(
            RawArticle(
                id=article_id(url=link),
                title=title[:2000],
                text=body_html or "",
                url=link,
                source=str(source)[:512],
                published_at=_entry_time(entry),
                content_type="html",
                language=(parsed.feed.get("language") or "")[:2] or None,
            )
        )
    return articles


@dataclass
class FeedState:
    """Poll state of one feed."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0
    next_poll: float = 0.0


class FeedPoller:
    """Polls a set of feeds: conditional GET, per-feed exponential backoff with jitter."""

    def __init__(
        self,
        fetcher: Fetcher,
        urls: list[str],
        *,
        interval_s: float = 300.0,
        max_backoff_s: float = 3600.0,
        clock: Any = time.monotonic,
    ) -> None:
        self.fetcher = fetcher
        self.states = {url: FeedState(url) for url in urls}
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self.clock = clock

    def due(self) -> list[FeedState]:
        """Feeds whose next poll time has come."""
        now = self.clock()
        return [s for s in self.states.values() if s.next_poll <= now]

    async def poll(self, state: FeedState) -> list[RawArticle]:
        """Fetch one feed once; errors are logged and back the feed off, never raised."""
        now = self.clock()
        try:
            result = await self.fetcher.fetch(
                state.url, etag=state.etag, last_modified=state.last_modified
            )
            if result.not_modified:
                articles: list[RawArticle] = []
            else:
                articles = parse_feed(result.body, feed_url=state.url)
                state.etag = result.headers.get("etag") or state.etag
                state.last_modified = result.headers.get("last-modified") or state.last_modified
        except NewswatchError as exc:
            state.failures += 1
            backoff = min(self.max_backoff_s, self.interval_s * 2 ** min(state.failures, 10))
            state.next_poll = now + backoff * random.uniform(0.8, 1.2)
            log.warning(
                "feed %s failed (%s); next try in %.0fs", state.url, exc, state.next_poll - now
            )
            return []
        state.failures = 0
        state.next_poll = now + self.interval_s
        return articles
