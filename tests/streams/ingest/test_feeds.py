"""RSS/Atom feeds: parsing, conditional GET through the guarded client, per-feed backoff."""

from __future__ import annotations

import asyncio
import logging
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
    """A 6,000-item feed is parsed in a worker thread while the loop keeps running; 1,000 kept."""
    body_server.body = _big_feed(6_000)
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
        _, articles = await _poll_once(body_server.url, max_items=1_000)
    finally:
        task.cancel()
    assert len(articles) == 1_000 and articles[-1].title == "Item 999"
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


# ------------------------------------------------------------------ real-world feeds (14.6)

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Gull Atom</title>
<entry><title>Harbour reopens</title><link href="https://gull.example/harbour"/>
<updated>2024-03-02T08:00:00Z</updated><summary>Ships sail again.</summary></entry></feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://gull.example/"><title>Gull RDF</title></channel>
<item rdf:about="https://gull.example/rdf-1"><title>Pier repaired</title>
<link>https://gull.example/rdf-1</link><description>Work is done.</description></item>
</rdf:RDF>"""


def _rss_item(title: str, link: str, extra: str) -> str:
    return f"<item><title>{title}</title><link>{link}</link>{extra}</item>"


@pytest.mark.parametrize(("suffix", "body"), [(".rss", RSS), (".atom", ATOM), (".xml", RDF)])
def test_local_feed_files_are_ingested(tmp_path: Path, suffix: str, body: bytes) -> None:
    """``.rss``/``.atom``/``.xml`` files are read as feeds, one article per entry."""
    from streams.ingest.files import read_path

    path = tmp_path / f"saved{suffix}"
    path.write_bytes(body)
    articles = list(read_path(path))
    assert len(articles) == 1 and articles[0].url and articles[0].url.startswith("https://")
    assert articles[0].source in ("Example News", "Gull Atom", "Gull RDF")


@pytest.mark.servers
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-rss+xml", RSS),
        ("application/rdf+xml", RDF),
        ("text/xml; charset=utf-8", RSS),
        ("application/atom+xml", ATOM),
        ("text/html; charset=utf-8", RSS),  # an XML feed served as HTML: sniffed
        ("application/octet-stream", ATOM),
    ],
)
async def test_content_types_real_servers_send_are_accepted(
    body_server: Any, content_type: str, body: bytes
) -> None:
    """Feeds served as x-rss+xml, rdf+xml, text/xml, text/html … are fetched and parsed."""
    body_server.body, body_server.content_type = body, content_type
    poller, articles = await _poll_once(body_server.url)
    assert poller.errors == 0 and len(articles) == 1


def test_localized_dates_and_fetch_time_fallback() -> None:
    """ "Seg, 24 Set 2018" is read; an undated entry gets the fetch time, labelled as such."""
    from datetime import UTC, datetime

    items = _rss_item(
        "Porto reabre",
        "https://gull.example/pt",
        "<pubDate>Seg, 24 Set 2018 10:00:00 -0300</pubDate>",
    ) + _rss_item("Undated", "https://gull.example/none", "")
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>G</title>{items}</channel></rss>'
    )
    fetched = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    dated, undated = parse_feed(
        body.encode(), feed_url="https://gull.example/f", fetched_at=fetched
    )
    assert dated.published_at == datetime(2018, 9, 24, 13, 0, tzinfo=UTC)
    assert dated.published_at_is_fetch_time is False
    assert undated.published_at == fetched and undated.published_at_is_fetch_time is True


def test_short_html_summaries_are_kept_as_text_without_error_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A short HTML fragment summary and a plain-text one both reach the clean text."""
    from streams.enrich.boilerplate import load_boilerplate
    from streams.enrich.clean import clean_article

    items = _rss_item(
        "Harbour closes",
        "https://gull.example/1",
        "<description>&lt;p&gt;The harbour &lt;b&gt;closed&lt;/b&gt; after spying claims.&lt;/p&gt;"
        "</description>",
    ) + _rss_item(
        "Pier opens",
        "https://gull.example/2",
        "<description>Plain text: the pier opened.</description>",
    )
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>G</title>{items}</channel></rss>'
    )
    with caplog.at_level(logging.WARNING):
        first, second = parse_feed(body.encode(), feed_url="https://gull.example/f")
        cleaned = [
            clean_article(
                a.title,
                a.text,
                content_type=a.content_type,
                boilerplate=load_boilerplate(["en"]),
                max_chars=10_000,
            ).text
            for a in (first, second)
        ]
    assert cleaned[0] == "Harbour closes\n\nThe harbour closed after spying claims."
    assert cleaned[1] == "Pier opens\n\nPlain text: the pier opened."
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_legacy_charset_feed_is_decoded() -> None:
    """A feed declaring windows-1252 in its XML declaration keeps its umlauts."""
    body = (
        '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>G</title>'
        + _rss_item(
            "Größere Prüfung",
            "https://gull.example/de",
            "<description>Müller äußert sich.</description>",
        )
        + "</channel></rss>"
    ).encode("cp1252")
    (article,) = parse_feed(body, feed_url="https://gull.example/f", content_type="text/xml")
    assert article.title == "Größere Prüfung" and article.text == "Müller äußert sich."
