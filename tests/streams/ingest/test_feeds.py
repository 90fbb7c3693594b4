"""RSS/Atom feeds: parsing, conditional GET through the guarded client, per-feed backoff."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

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
    """Entries become HTML articles keyed by canonical URL; an entry without title is skipped."""
    (article,) = parse_feed(RSS, feed_url="https://news.example/feed")
    assert article.title == "Alibaba unter Verdacht"
    assert article.source == "Example News" and article.language == "de"
    assert article.content_type == "html" and "Spionagevorwürfe" in article.text
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
