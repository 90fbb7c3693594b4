"""RSS/Atom feeds: parsing, conditional GET through the guarded client, per-feed backoff."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import feedparser
import pytest

from streams.ingest.feeds import FeedPoller, parse_feed
from streams.ingest.fetch import FetchConfig, GuardedFetcher

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Example News</title><language>de</language>
<item><title>Alibaba unter Verdacht</title><link>https://news.example/a?utm_source=rss</link>
<description>&lt;p&gt;Spionagevorw\xc3\xbcrfe&lt;/p&gt;</description>
<pubDate>Thu, 05 Oct 2023 10:00:00 GMT</pubDate></item>
<item><title></title><link>https://news.example/no-title</link></item>
</channel></rss>"""


class _FeedHandler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, str | None]]] = []
    status = 200

    def do_GET(self) -> None:
        type(self).requests.append({"if_none_match": self.headers.get("If-None-Match")})
        if type(self).status != 200:
            self.send_response(type(self).status)
            self.end_headers()
            return
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(RSS)))
        self.end_headers()
        self.wfile.write(RSS)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feed_server() -> Iterator[str]:
    """A real HTTP server on loopback serving one RSS feed with an ETag."""
    _FeedHandler.requests = []
    _FeedHandler.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FeedHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.shutdown()
    server.server_close()


def test_parse_feed_keeps_entries_with_title_and_link() -> None:
    """Entries become text articles keyed by canonical URL; an entry without title is skipped."""
    (article,) = parse_feed(RSS, feed_url="https://news.example/feed")
    assert article.title == "Alibaba unter Verdacht"
    assert article.source == "Example News" and article.language == "de"
    assert article.content_type == "text" and article.text == "Spionagevorwürfe"
    assert article.published_at is not None and article.published_at.year == 2023


@pytest.mark.servers
async def test_conditional_get_yields_nothing_new_on_304(feed_server: str) -> None:
    """The second poll sends If-None-Match and a 304 produces no articles."""
    fetcher = GuardedFetcher(FetchConfig(allow=["127.0.0.1"], timeout_s=5))
    await fetcher.start()
    try:
        poller = FeedPoller(fetcher, [feed_server], interval_s=0.0)
        state = poller.states[feed_server]
        first = await poller.poll(state)
        second = await poller.poll(state)
    finally:
        await fetcher.stop()
    assert [a.title for a in first] == ["Alibaba unter Verdacht"] and second == []
    assert [r["if_none_match"] for r in _FeedHandler.requests] == [None, '"v1"']


@pytest.mark.servers
async def test_failing_feed_backs_off_and_loopback_is_refused_without_allow(
    feed_server: str,
) -> None:
    """A 500 backs the feed off exponentially; without allow-listing loopback is never fetched."""
    _FeedHandler.status = 500
    clock = [1000.0]
    fetcher = GuardedFetcher(FetchConfig(allow=["127.0.0.1"], timeout_s=5))
    await fetcher.start()
    try:
        poller = FeedPoller(fetcher, [feed_server], interval_s=10.0, clock=lambda: clock[0])
        state = poller.states[feed_server]
        assert await poller.poll(state) == []
        assert state.failures == 1 and 16 <= state.next_poll - clock[0] <= 24
        assert poller.due() == []
        assert await poller.poll(state) == []
        assert state.failures == 2 and 32 <= state.next_poll - clock[0] <= 48
    finally:
        await fetcher.stop()
    guarded = GuardedFetcher(FetchConfig(timeout_s=5))
    await guarded.start()
    try:
        refused = FeedPoller(guarded, [feed_server], interval_s=10.0)
        before = len(_FeedHandler.requests)
        assert await refused.poll(refused.states[feed_server]) == []
        assert len(_FeedHandler.requests) == before
        assert refused.states[feed_server].failures == 1
    finally:
        await guarded.stop()


# --------------------------------------------------------------------------- hostile feed servers


class _BodyHandler(BaseHTTPRequestHandler):
    body = b""
    content_type = "application/rss+xml"

    def do_GET(self) -> None:
        body = type(self).body
        self.send_response(200)
        self.send_header("Content-Type", type(self).content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def body_server() -> Iterator[type[_BodyHandler]]:
    """A loopback HTTP server answering every GET with ``_BodyHandler.body``."""
    handler = type("Handler", (_BodyHandler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/feed"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler
    server.shutdown()
    server.server_close()


async def _poll_once(url: str, **kw: Any) -> tuple[FeedPoller, list[Any]]:
    fetcher = GuardedFetcher(FetchConfig(allow=["127.0.0.1"], timeout_s=5))
    await fetcher.start()
    try:
        poller = FeedPoller(fetcher, [url], interval_s=10.0, **kw)
        return poller, await poller.poll(poller.states[url])
    finally:
        await fetcher.stop()


@pytest.mark.servers
async def test_feed_body_naming_dev_zero_is_not_opened(body_server: Any) -> None:
    """A feed answering the 9 bytes ``/dev/zero`` is parsed as (bad) XML, never opened as a file."""
    body_server.body = b"/dev/zero"
    poller, articles = await _poll_once(body_server.url)
    state = poller.states[body_server.url]
    assert articles == [] and state.failures == 1 and poller.errors == 1
    assert state.last_error is not None and "not an RSS/Atom feed" in state.last_error


@pytest.mark.servers
async def test_feed_body_naming_a_local_feed_file_is_not_read(
    body_server: Any, tmp_path: Path
) -> None:
    """A feed answering the path of a local RSS file yields nothing from that file."""
    secret = tmp_path / "secret.xml"
    secret.write_bytes(RSS.replace(b"Alibaba unter Verdacht", b"LOCAL SECRET"))
    body_server.body = str(secret).encode()
    poller, articles = await _poll_once(body_server.url)
    assert articles == [] and poller.states[body_server.url].failures == 1


class _ExplodingFetcher:
    """A fetcher whose fetch raises the given exception (as a parser running out of memory)."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    async def fetch(self, url: str, **kw: Any) -> Any:
        raise self.exc


async def test_any_exception_in_one_poll_is_contained_and_counted() -> None:
    """MemoryError or a plain bug inside one feed's poll is logged and counted, never raised."""
    for exc in (MemoryError(), ValueError("boom"), KeyError("x")):
        poller = FeedPoller(_ExplodingFetcher(exc), ["https://feed.test/rss"], interval_s=1.0)
        state = poller.states["https://feed.test/rss"]
        assert await poller.poll(state) == []
        assert poller.errors == 1 and state.failures == 1
        assert state.last_error and type(exc).__name__ in state.last_error


def _big_feed(items: int) -> bytes:
    entries = "".join(
        f"<item><title>Item {i}</title><link>https://big.test/{i}</link>"
        f"<description>Body {i}</description></item>"
        for i in range(items)
    )
    channel = f"<channel><title>Big</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@pytest.mark.servers
async def test_big_feed_is_parsed_off_the_event_loop_with_an_item_limit(
    body_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 20,000-item feed is parsed in a worker thread while the loop keeps running; 100 kept."""
    body_server.body = _big_feed(20_000)
    ticks = 0
    seen: list[tuple[str, int, int]] = []
    real_parse = feedparser.parse

    def spy(*args: Any, **kw: Any) -> Any:
        before = ticks
        result = real_parse(*args, **kw)
        seen.append((threading.current_thread().name, before, ticks))
        return result

    monkeypatch.setattr(feedparser, "parse", spy)

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        _, articles = await _poll_once(body_server.url, max_items=100)
    finally:
        task.cancel()
    assert len(articles) == 100 and articles[-1].title == "Item 99"
    ((thread, before, after),) = seen
    assert thread != threading.main_thread().name
    assert after > before, "the event loop did not run while the feed was parsed"


def test_entry_with_oversized_link_is_skipped_not_fatal() -> None:
    """An entry the record schema refuses (5,000-char link) is skipped; the others are kept."""
    long_link = "https://news.example/" + "a" * 5000
    body = RSS.replace(b"https://news.example/no-title", long_link.encode()).replace(
        b"<item><title></title>", b"<item><title>Long link</title>"
    )
    assert [a.title for a in parse_feed(body, feed_url="https://news.example/feed")] == [
        "Alibaba unter Verdacht"
    ]
