"""RSS/Atom feeds: parse entries into articles; poll feeds with conditional GET and backoff.

Fetching goes through the one guarded client (``streams.ingest.fetch``); this module only
keeps per-feed state (ETag, Last-Modified, failures, next poll time).

Untrusted bodies: ``feedparser.parse`` opens a *string* argument as a file name or URL when it
can, so a feed server answering ``/dev/zero`` or the path of a local file would make it read
that file. ``parse_feed`` therefore hands it an ``io.BytesIO`` (read from memory, never
re-interpreted), keeps at most ``max_items`` entries, and :meth:`FeedPoller.poll` runs the
parse in a worker thread and contains *any* exception (``MemoryError`` included) to that one
feed: logged, counted in ``FeedPoller.errors`` and backed off.
"""

from __future__ import annotations

import asyncio
import io
import logging
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import feedparser
from pydantic import ValidationError

from schemas.ids import article_id
from schemas.records import MAX_TITLE_CHARS, RawArticle
from streams.errors import IngestError
from streams.ingest.pages import fragment_to_text

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "FEED_ACCEPT",
    "FeedPoller",
    "FeedState",
    "Fetcher",
    "parse_feed",
    "parse_feed_async",
]

log = logging.getLogger(__name__)

#: Entries kept per feed document (``NEWSWATCH_FEED_MAX_ITEMS``); the rest are dropped.
DEFAULT_MAX_ITEMS = 500

#: Content types accepted for a feed: the registered ones, the ``x-`` variants real servers
#: still send, and generic XML/HTML/text/binary types (the body is sniffed by the parser).
FEED_ACCEPT: tuple[str, ...] = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/x-rss+xml",
    "application/x-atom+xml",
    "application/x-rdf+xml",
    "application/rss",
    "application/feed+json",
    "application/xml",
    "text/xml",
    "text/rss+xml",
    "text/atom+xml",
    "application/xhtml+xml",
    "text/html",
    "text/plain",
    "application/octet-stream",
    "binary/octet-stream",
)


class Fetcher(Protocol):
    """What the poller needs from the guarded HTTP client."""

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: Sequence[str] = ...,
    ) -> Any: ...


def _charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip("\"'"):
            return value.strip().strip("\"'")
    return None


_ITEM_END = re.compile(rb"</(?:[A-Za-z][\w.-]*:)?(?:item|entry)\s*>", re.I)


def _cut_after_items(body: bytes, max_items: int) -> bytes:
    """``body`` cut after its ``max_items``-th ``</item>``/``</entry>`` (feedparser parses
    every entry of a document, so the item limit also bounds the parse time); the parser
    reads the truncated rest leniently."""
    for count, found in enumerate(_ITEM_END.finditer(body), start=1):
        if count >= max_items:
            return body[: found.end()]
    return body


def _entry_time(entry: Any) -> datetime | None:
    # dict.get: FeedParserDict maps published_parsed to updated_parsed with a warning
    parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    if parsed:
        year, month, day, hour, minute, second = parsed[:6]
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            pass
    raw = dict.get(entry, "published") or dict.get(entry, "updated")
    if not raw or not isinstance(raw, str) or len(raw) > 200:
        return None
    from streams.ingest.dates import parse_date

    return parse_date(raw)


def _entry_text(entry: Any) -> str:
    content = entry.get("content") or []
    body = content[0].get("value") if content else entry.get("summary", "")
    return fragment_to_text(str(body or ""))


def _entry_origin(entry: Any) -> Literal["feed_content", "feed_summary"]:
    """``feed_content`` when the entry carries its full content, else ``feed_summary``."""
    return "feed_content" if entry.get("content") else "feed_summary"


def parse_feed(
    body: bytes,
    *,
    feed_url: str,
    content_type: str | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    fetched_at: datetime | None = None,
    source: str | None = None,
) -> list[RawArticle]:
    """Articles from an RSS/Atom document held in memory (at most ``max_items``).

    Entries without title or link are skipped, and so is an entry the record schema refuses.
    Summaries/contents (HTML fragments) become plain text. An entry without a readable date
    gets ``fetched_at`` (default: now) with ``published_at_is_fetch_time`` set.
    """
    charset = _charset(content_type)
    headers = {
        "content-type": f"application/xml; charset={charset}" if charset else "application/xml",
        "content-location": feed_url,
    }
    parsed = feedparser.parse(
        io.BytesIO(_cut_after_items(body, max_items)), response_headers=headers
    )
    if parsed.get("bozo") and not parsed.entries:
        raise IngestError(f"not an RSS/Atom feed: {parsed.get('bozo_exception')}", source=feed_url)
    name = source or parsed.feed.get("title") or urlsplit(feed_url).hostname or feed_url
    language = (parsed.feed.get("language") or "")[:2] or None
    fetched = fetched_at or datetime.now(UTC)
    articles = []
    for entry in parsed.entries[: max(max_items, 0)]:
        link, title = entry.get("link"), " ".join(str(entry.get("title") or "").split())
        if not link or not title:
            continue
        published = _entry_time(entry)
        try:
            articles.append(
                RawArticle(
                    id=article_id(url=link),
                    title=title[:MAX_TITLE_CHARS],
                    text=_entry_text(entry),
                    url=link,
                    source=str(name)[:512],
                    published_at=published or fetched,
                    published_at_is_fetch_time=published is None,
                    content_type="text",
                    language=language,
                    text_origin=_entry_origin(entry),
                )
            )
        except ValidationError as exc:
            log.warning("feed %s: entry %s skipped: %s", feed_url, str(link)[:200], exc)
    return articles


async def parse_feed_async(body: bytes, **kwargs: Any) -> list[RawArticle]:
    """``parse_feed`` in a worker thread, so a large feed never blocks the event loop."""
    return await asyncio.to_thread(parse_feed, body, **kwargs)


@dataclass
class FeedState:
    """Poll state of one feed."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0
    next_poll: float = 0.0
    last_error: str | None = None
    last_parsed: int | None = None


class FeedPoller:
    """Polls a set of feeds: conditional GET, per-feed exponential backoff with jitter.

    ``errors`` counts failed polls; ``retry=False`` (one-shot ingest) leaves the
    "next try in" out of the log line.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        urls: list[str],
        *,
        interval_s: float = 300.0,
        max_backoff_s: float = 3600.0,
        max_items: int = DEFAULT_MAX_ITEMS,
        clock: Any = time.monotonic,
        retry: bool = True,
    ) -> None:
        self.fetcher = fetcher
        self.states = {url: FeedState(url) for url in urls}
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self.max_items = max_items
        self.clock = clock
        self.retry = retry
        self.errors = 0

    def due(self) -> list[FeedState]:
        """Feeds whose next poll time has come."""
        now = self.clock()
        return [s for s in self.states.values() if s.next_poll <= now]

    async def poll(self, state: FeedState) -> list[RawArticle]:
        """Fetch and parse one feed once; any error is logged and backs the feed off."""
        now = self.clock()
        try:
            result = await self.fetcher.fetch(
                state.url, etag=state.etag, last_modified=state.last_modified, accept=FEED_ACCEPT
            )
            if result.not_modified:
                articles: list[RawArticle] = []
                state.last_parsed = None
            else:
                articles = await parse_feed_async(
                    result.body,
                    feed_url=state.url,
                    content_type=result.headers.get("content-type"),
                    max_items=self.max_items,
                )
                state.last_parsed = len(articles)
                state.etag = result.headers.get("etag") or state.etag
                state.last_modified = result.headers.get("last-modified") or state.last_modified
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one feed's failure (even MemoryError) never stops the rest
            self._failed(state, now, exc)
            return []
        state.failures = 0
        state.last_error = None
        state.next_poll = now + self.interval_s
        return articles

    def _failed(self, state: FeedState, now: float, exc: Exception) -> None:
        self.errors += 1
        state.failures += 1
        backoff = min(self.max_backoff_s, self.interval_s * 2 ** min(state.failures, 10))
        state.next_poll = now + backoff * random.uniform(0.8, 1.2)
        detail = str(exc) if isinstance(exc, IngestError) else f"{type(exc).__name__}: {exc}"
        detail = detail.removeprefix(f"{state.url}: ")[:500]
        state.last_error = detail
        if self.retry:
            log.warning(
                "feed %s failed (%s); next try in %.0fs", state.url, detail, state.next_poll - now
            )
        else:
            log.warning("feed %s failed (%s)", state.url, detail)
