"""The guarded HTTP client: every SSRF refusal, limits, redirects, pinning, conditional GET.

Real HTTP(S) servers on loopback serve the responses; a fetch that must succeed reaches them
through an allow-list entry. Refusals are shown to happen *before* any connection: the live
server behind a refused URL records no request.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from streams.errors import ConfigError, FetchRefused, IngestError
from streams.ingest.fetch import (
    FetchConfig,
    GuardedFetcher,
    build_client,
    classify_address,
    refusal_reason,
)
from streams.settings import Settings

pytestmark = pytest.mark.servers

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
LOOPBACK = "127.0.0.1/32"


# --------------------------------------------------------------------------- loopback server


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    target: str
    headers: dict[str, str]


Handler = Callable[[Seen, asyncio.StreamWriter], Awaitable[None]]


def head(status: int, headers: dict[str, str | None]) -> bytes:
    """Raw response head; a header mapped to None is left out."""
    lines = [f"HTTP/1.1 {status} Status"]
    lines += [f"{k}: {v}" for k, v in headers.items() if v is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def serve(
    status: int = 200,
    body: bytes = RSS,
    content_type: str | None = "application/rss+xml",
    **headers: str,
) -> Handler:
    """A handler answering with a fixed response."""

    async def handler(_: Seen, writer: asyncio.StreamWriter) -> None:
        extra = {k.replace("_", "-"): v for k, v in headers.items()}
        writer.write(
            head(
                status,
                {
                    "Content-Type": content_type,
                    "Content-Length": str(len(body)),
                    "Connection": "close",
                    **extra,
                },
            )
            + body
        )

    return handler


def redirect_to(location: str, status: int = 302) -> Handler:
    """A handler redirecting to ``location``."""
    return serve(status, b"", None, Location=location)


def conditional(etag: str = '"v1"', modified: str = "Mon, 01 Jan 2024 00:00:00 GMT") -> Handler:
    """A handler honouring If-None-Match / If-Modified-Since with 304."""

    async def handler(seen: Seen, writer: asyncio.StreamWriter) -> None:
        fresh = seen.headers.get("if-none-match") == etag or (
            seen.headers.get("if-modified-since") == modified
        )
        if fresh:
            writer.write(head(304, {"ETag": etag, "Connection": "close"}))
        else:
            await serve(ETag=etag, Last_Modified=modified)(seen, writer)

    return handler


def chunked(chunk: bytes, count: int, delay_s: float = 0.0) -> Handler:
    """A chunked response without Content-Length: ``count`` chunks, ``delay_s`` apart."""

    async def handler(_: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, {"Content-Type": "text/html", "Transfer-Encoding": "chunked"}))
        for _i in range(count):
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
            if delay_s:
                await asyncio.sleep(delay_s)
        writer.write(b"0\r\n\r\n")

    return handler


async def hang(_: Seen, writer: asyncio.StreamWriter) -> None:
    """Accept the request and never answer."""
    await asyncio.sleep(3600)


@dataclass
class LoopbackHTTP:
    """A minimal HTTP/1.1 server on a loopback address that records what it receives."""

    routes: dict[str, Handler]
    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def start(self) -> LoopbackHTTP:
        """Listen on an ephemeral port."""
        self._server = await asyncio.start_server(self._handle, self.host, 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close the listener and cancel hanging handlers."""
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def url(self, path: str = "/feed", *, host: str | None = None) -> str:
        """An URL of this server (``host`` overrides the name in the URL)."""
        name = host or self.host
        name = f"[{name}]" if ":" in name else name
        return f"{'https' if self.tls else 'http'}://{name}:{self.port}{path}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
            first, *lines = raw.decode("latin-1").split("\r\n")
            method, target, _ = first.split(" ", 2)
            headers = {
                k.strip().lower(): v.strip()
                for k, v in (line.split(":", 1) for line in lines if ":" in line)
            }
            seen = Seen(method, target, headers)
            self.seen.append(seen)
            handler = self.routes.get(target.split("?", 1)[0], serve(404, b"no"))
            await handler(seen, writer)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)


@pytest.fixture
async def http_server() -> AsyncIterator[Callable[..., Awaitable[LoopbackHTTP]]]:
    """Factory: start a loopback server with the given routes (plus ``/feed``)."""
    servers: list[LoopbackHTTP] = []

    async def start(routes: dict[str, Handler] | None = None, **kw: Any) -> LoopbackHTTP:
        server = await LoopbackHTTP({"/feed": serve(), **(routes or {})}, **kw).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def make_fetcher() -> AsyncIterator[Callable[..., Awaitable[GuardedFetcher]]]:
    """Factory: a started GuardedFetcher (allow-list defaults to 127.0.0.1/32)."""
    made: list[GuardedFetcher] = []

    async def make(
        *,
        allow: tuple[str, ...] = (LOOPBACK,),
        resolver: Any = None,
        client: Any = None,
        **limits: Any,
    ) -> GuardedFetcher:
        fetcher = GuardedFetcher(FetchConfig(allow=allow, **limits), client, resolver=resolver)
        await fetcher.start()
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        await fetcher.stop()


def static_resolver(answers: dict[str, list[str]], calls: list[str] | None = None) -> Any:
    """A resolver answering from a table (names not in it fail like NXDOMAIN)."""

    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise OSError(f"{host}: Name or service not known")
        return answers[host]

    return resolve


async def refused(fetcher: GuardedFetcher, url: str, reason: str) -> FetchRefused:
    """Fetch ``url``, expect a FetchRefused with ``reason``, return it."""
    with pytest.raises(FetchRefused) as info:
        await fetcher.fetch(url)
    assert refusal_reason(info.value) == reason, str(info.value)
    assert str(info.value).startswith(f"{info.value.source}: {reason}: ")
    return info.value


# --------------------------------------------------------------------------- success paths


async def test_allow_listed_loopback_fetch_returns_body(http_server, make_fetcher) -> None:
    """With 127.0.0.1/32 allow-listed a real fetch returns status, body and headers."""
    server = await http_server()
    result = await (await make_fetcher()).fetch(server.url())
    assert (result.status, result.body, result.not_modified) == (200, RSS, False)
    assert result.content_type == "application/rss+xml"
    assert server.seen[0].headers["accept"].startswith("application/rss+xml")


async def test_allow_listed_host_name_skips_address_check(http_server, make_fetcher) -> None:
    """An allow-listed name (``localhost``) is fetched although it resolves to loopback."""
    server = await http_server()
    result = await (await make_fetcher(allow=("localhost",))).fetch(server.url(host="localhost"))
    assert result.body == RSS
    assert server.seen[0].headers["host"] == f"localhost:{server.port}"


async def test_conditional_get_with_etag_is_not_modified(http_server, make_fetcher) -> None:
    """The ETag of a first fetch sent back as If-None-Match yields not_modified and no body."""
    server = await http_server({"/feed": conditional()})
    fetcher = await make_fetcher()
    first = await fetcher.fetch(server.url())
    second = await fetcher.fetch(server.url(), etag=first.etag)
    assert (first.status, first.not_modified) == (200, False)
    assert (second.status, second.not_modified, second.body) == (304, True, b"")
    assert server.seen[1].headers["if-none-match"] == '"v1"'


async def test_conditional_get_with_last_modified(http_server, make_fetcher) -> None:
    """Last-Modified sent back as If-Modified-Since yields not_modified."""
    server = await http_server({"/feed": conditional()})
    fetcher = await make_fetcher()
    first = await fetcher.fetch(server.url())
    second = await fetcher.fetch(server.url(), last_modified=first.last_modified)
    assert second.not_modified
    assert "if-none-match" not in server.seen[1].headers


async def test_redirect_within_allow_list_is_followed(http_server, make_fetcher) -> None:
    """A relative redirect to an allowed address is followed and the final URL reported."""
    server = await http_server({"/old": redirect_to("/feed", 301)})
    result = await (await make_fetcher()).fetch(server.url("/old"))
    assert result.body == RSS
    assert result.url == server.url("/feed")


async def test_accept_wildcard_admits_any_type(http_server, make_fetcher) -> None:
    """``accept=("image/*",)`` admits image/png, which the default list refuses."""
    server = await http_server({"/img": serve(body=b"\x89PNG", content_type="image/png")})
    fetcher = await make_fetcher()
    await refused(fetcher, server.url("/img"), "content-type")
    assert (await fetcher.fetch(server.url("/img"), accept=("image/*",))).body == b"\x89PNG"


# --------------------------------------------------------------------------- scheme and URL


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/feed.xml",
        "gopher://example.org:70/",
        "javascript:alert(1)",
        "dict://127.0.0.1:11211/stat",
    ],
)
async def test_non_http_scheme_is_refused(make_fetcher, url: str) -> None:
    """Only http and https are fetched."""
    error = await refused(await make_fetcher(), url, "scheme")
    assert error.source == url


async def test_credentials_in_url_are_refused(http_server, make_fetcher) -> None:
    """user:password@host URLs are refused, nothing is sent."""
    server = await http_server()
    await refused(await make_fetcher(), server.url().replace("://", "://u:p@"), "bad-url")
    assert server.seen == []


# --------------------------------------------------------------------------- address classes

ADDRESS_CASES = [
    ("127.0.0.1", "loopback"),
    ("127.9.9.9", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.5.4", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("169.254.1.1", "link-local"),
    ("169.254.169.254", "metadata"),
    ("100.64.0.1", "shared-address"),
    ("100.127.255.254", "shared-address"),
    ("224.0.0.1", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("240.0.0.1", "reserved"),
    ("192.0.2.10", "private"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "unique-local"),
    ("fd12:3456::1", "unique-local"),
    ("fd00:ec2::254", "metadata"),
    ("ff02::1", "multicast"),
    ("fec0::1", "site-local"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "metadata"),
    ("2002:7f00:1::", "loopback"),
    ("64:ff9b::a00:1", "private"),
]


@pytest.mark.parametrize(("address", "reason"), ADDRESS_CASES)
async def test_address_literal_is_refused(make_fetcher, address: str, reason: str) -> None:
    """Each non-public address class is refused with its reason when not allow-listed."""
    host = f"[{address}]" if ":" in address else address
    error = await refused(await make_fetcher(allow=()), f"http://{host}:8080/x", reason)
    assert error.retriable is False


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_not_classified(address: str) -> None:
    """Public IPv4, IPv6 and IPv4-mapped public addresses pass the classifier."""
    import ipaddress

    assert classify_address(ipaddress.ip_address(address)) is None


async def test_live_loopback_server_is_refused_before_connecting(http_server, make_fetcher) -> None:
    """A live server on 127.0.0.1 receives nothing when the address is not allow-listed."""
    server = await http_server()
    await refused(await make_fetcher(allow=()), server.url(), "loopback")
    assert server.seen == []


async def test_live_ipv6_loopback_server_is_refused(http_server, make_fetcher) -> None:
    """The same for a live server on ::1 (and it is reachable once ::1 is allow-listed)."""
    server = await http_server(host="::1")
    await refused(await make_fetcher(allow=(LOOPBACK,)), server.url(), "loopback")
    assert server.seen == []
    assert (await (await make_fetcher(allow=("::1/128",))).fetch(server.url())).body == RSS


async def test_ipv4_mapped_ipv6_literal_follows_ipv4_allow_list(http_server, make_fetcher) -> None:
    """``[::ffff:127.0.0.1]`` is refused by default and admitted by the 127.0.0.1/32 entry."""
    server = await http_server()
    url = server.url(host="::ffff:127.0.0.1")
    await refused(await make_fetcher(allow=()), url, "loopback")
    assert (await (await make_fetcher()).fetch(url)).body == RSS


async def test_dns_name_resolving_to_loopback_is_refused(http_server, make_fetcher) -> None:
    """``localhost`` resolved by the system resolver lands on loopback and is refused."""
    server = await http_server()
    error = await refused(await make_fetcher(allow=()), server.url(host="localhost"), "loopback")
    assert "localhost resolves to 127.0.0.1" in str(error)
    assert server.seen == []


async def test_any_bad_answer_among_several_refuses(make_fetcher) -> None:
    """A name answering one public and one private address is refused (rebinding smell)."""
    resolver = static_resolver({"mixed.test": ["93.184.216.34", "10.0.0.7"]})
    await refused(await make_fetcher(allow=(), resolver=resolver), "http://mixed.test/", "private")


async def test_metadata_host_name_is_refused_without_resolving(make_fetcher) -> None:
    """metadata.google.internal is refused by name; the resolver is never asked."""
    calls: list[str] = []
    fetcher = await make_fetcher(allow=(), resolver=static_resolver({}, calls))
    await refused(fetcher, "http://metadata.google.internal/computeMetadata/v1/", "metadata")
    assert calls == []


def test_metadata_address_needs_an_exact_allow_entry() -> None:
    """A broad CIDR admits link-local addresses but not 169.254.169.254; a /32 entry does."""
    import ipaddress

    metadata = ipaddress.ip_address("169.254.169.254")
    broad = FetchConfig(allow=("169.254.0.0/16",))
    assert broad.allows_address(ipaddress.ip_address("169.254.1.1"))
    assert not broad.allows_address(metadata, metadata=True)
    assert FetchConfig(allow=("169.254.169.254",)).allows_address(metadata, metadata=True)


def test_allow_list_entries_are_parsed() -> None:
    """Host names (exact and ``*.suffix``) and CIDRs are recognised; garbage is a ConfigError."""
    config = FetchConfig(allow=["Feeds.Example.org.", "*.corp.test", "10.0.0.0/8"])
    assert config.allows_host("feeds.example.org")
    assert config.allows_host("a.b.corp.test") and not config.allows_host("corp.test")
    assert not config.allows_host("evil-feeds.example.org")
    with pytest.raises(ConfigError, match="neither a host nor a CIDR"):
        FetchConfig(allow=("10.0.0.0/33",))


def test_config_from_settings_uses_fetch_env_names() -> None:
    """NEWSWATCH_FETCH_* settings become the fetch config."""
    settings = Settings.load(
        fetch_allow_hosts=["10.0.0.0/8"], fetch_timeout_s=3.0, fetch_max_bytes=4096
    )
    config = FetchConfig.from_settings(settings)
    assert (config.allow, config.timeout_s, config.max_bytes) == (("10.0.0.0/8",), 3.0, 4096)


# --------------------------------------------------------------------------- redirects


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://10.0.0.1/admin", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[::1]/", "loopback"),
        ("http://127.0.0.2/", "loopback"),
        ("file:///etc/passwd", "scheme"),
    ],
)
async def test_redirect_to_refused_target_is_refused(
    http_server, make_fetcher, location: str, reason: str
) -> None:
    """Every redirect hop is checked again: a redirect to a private/metadata/file target fails."""
    server = await http_server({"/go": redirect_to(location)})
    error = await refused(await make_fetcher(), server.url("/go"), reason)
    assert f"redirected from {server.url('/go')}" in (error.source or "")
    assert [s.target for s in server.seen] == ["/go"]


async def test_redirect_loop_stops_after_max_redirects(http_server, make_fetcher) -> None:
    """A redirect loop ends with a 'redirects' refusal after max_redirects + 1 requests."""
    server = await http_server({"/loop": redirect_to("/loop")})
    await refused(await make_fetcher(max_redirects=3), server.url("/loop"), "redirects")
    assert len(server.seen) == 4


# --------------------------------------------------------------------------- size, type, time


async def test_declared_oversize_body_is_refused(http_server, make_fetcher) -> None:
    """A Content-Length above max_bytes is refused before the body is read."""
    server = await http_server({"/big": serve(body=b"x" * 10_000, content_type="text/html")})
    error = await refused(await make_fetcher(max_bytes=4096), server.url("/big"), "too-large")
    assert "Content-Length 10000" in str(error)


async def test_streamed_oversize_body_is_refused(http_server, make_fetcher) -> None:
    """A chunked body without Content-Length is cut off once it passes max_bytes."""
    server = await http_server({"/stream": chunked(b"y" * 1024, 100)})
    fetcher = await make_fetcher(max_bytes=4096)
    error = await refused(fetcher, server.url("/stream"), "too-large")
    assert "body exceeds 4096 bytes" in str(error)


async def test_compressed_body_is_limited_by_decoded_size(http_server, make_fetcher) -> None:
    """A tiny gzip body that inflates past max_bytes (a zip bomb) is refused."""
    bomb = gzip.compress(b"\0" * 200_000)
    assert len(bomb) < 4096
    server = await http_server(
        {"/bomb": serve(body=bomb, content_type="text/html", Content_Encoding="gzip")}
    )
    await refused(await make_fetcher(max_bytes=4096), server.url("/bomb"), "too-large")


@pytest.mark.parametrize("content_type", ["image/png", "application/octet-stream", None])
async def test_wrong_or_missing_content_type_is_refused(
    http_server, make_fetcher, content_type: str | None
) -> None:
    """Bodies outside the accepted media types (or without one) are refused."""
    server = await http_server({"/f": serve(content_type=content_type)})
    await refused(await make_fetcher(), server.url("/f"), "content-type")


async def test_server_that_never_answers_times_out(http_server, make_fetcher) -> None:
    """A server that accepts and stays silent ends in a retriable 'timeout' refusal."""
    server = await http_server({"/hang": hang})
    error = await refused(await make_fetcher(timeout_s=0.2), server.url("/hang"), "timeout")
    assert error.retriable is True


async def test_trickling_server_hits_the_total_deadline(http_server, make_fetcher) -> None:
    """Bytes trickling in under the read timeout still stop at the total deadline."""
    server = await http_server({"/drip": chunked(b"z", 1000, delay_s=0.05)})
    fetcher = await make_fetcher(timeout_s=5.0, total_timeout_s=0.3)
    error = await refused(fetcher, server.url("/drip"), "timeout")
    assert "within 0.3s" in str(error)


@pytest.mark.parametrize(("status", "retriable"), [(404, False), (429, True), (503, True)])
async def test_error_status_raises_ingest_error(
    http_server, make_fetcher, status: int, retriable: bool
) -> None:
    """HTTP errors are IngestErrors (not refusals); 429 and 5xx are retriable."""
    server = await http_server({"/e": serve(status, b"err", "text/plain")})
    with pytest.raises(IngestError, match=f"HTTP {status}") as info:
        await (await make_fetcher()).fetch(server.url("/e"))
    assert not isinstance(info.value, FetchRefused)
    assert info.value.retriable is retriable


async def test_fetch_before_start_is_a_programming_error() -> None:
    """fetch() on a fetcher that was never started raises RuntimeError."""
    with pytest.raises(RuntimeError, match="before start"):
        await GuardedFetcher(FetchConfig()).fetch("http://example.org/")


# --------------------------------------------------------------------------- DNS pinning


async def test_connection_goes_to_the_checked_address(http_server, make_fetcher) -> None:
    """The connection uses the address the guard checked, not a second lookup of the name."""
    server = await http_server(host="127.0.0.2")
    calls: list[str] = []
    resolver = static_resolver({"localhost": ["127.0.0.2"]}, calls)
    fetcher = await make_fetcher(allow=("127.0.0.2/32",), resolver=resolver)
    result = await fetcher.fetch(server.url(host="localhost"))
    assert result.body == RSS
    assert calls == ["localhost"]
    assert server.seen[0].headers["host"] == f"localhost:{server.port}"


async def test_unpinned_connection_is_refused() -> None:
    """The pinned transport refuses to connect when no guard check pinned the host."""
    client = build_client(FetchConfig())
    try:
        with pytest.raises(FetchRefused, match="unpinned"):
            await client.get("http://127.0.0.1:9/")
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for ``pinned.test`` made by the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed; HTTPS pinning test needs a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=pinned.test",
            "-addext",
            "subjectAltName=DNS:pinned.test",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_https_to_pinned_address_uses_host_name_for_sni_and_certificate(
    http_server, make_fetcher, tls_files: tuple[Path, Path]
) -> None:
    """Over TLS the pinned connection sends SNI ``pinned.test`` and verifies the cert for it."""
    cert, key = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    sni: list[str | None] = []
    server_ctx.sni_callback = lambda _sock, name, _ctx: sni.append(name)  # type: ignore[assignment,misc,func-returns-value]
    server = await http_server(tls=server_ctx)
    trust = ssl.create_default_context(cafile=str(cert))
    config = FetchConfig(allow=(LOOPBACK,))
    resolver = static_resolver({"pinned.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    client = build_client(config, verify=trust)
    fetcher = await make_fetcher(resolver=resolver, client=client)
    try:
        assert (await fetcher.fetch(server.url(host="pinned.test"))).body == RSS
        assert sni[0] == "pinned.test"
        with pytest.raises(IngestError, match="certificate") as info:
            await fetcher.fetch(server.url(host="other.test"))
        assert not isinstance(info.value, FetchRefused)
    finally:
        await client.aclose()


# ------------------------------------------------------------------ wildcard entries (13.6)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),
    ],
)
async def test_wildcard_entry_never_admits_metadata_or_loopback(
    http_server, make_fetcher, answer: str, reason: str
) -> None:
    """``*.allowed.test`` resolving to metadata or loopback is refused before connecting."""
    server = await http_server()
    resolver = static_resolver({"evil.allowed.test": [answer]})
    fetcher = await make_fetcher(allow=("*.allowed.test", "10.0.0.0/8"), resolver=resolver)
    error = await refused(fetcher, server.url(host="evil.allowed.test"), reason)
    assert "wildcard entry never admits it" in str(error)
    assert server.seen == []


async def test_exact_address_entry_admits_loopback_under_a_wildcard_name(
    http_server, make_fetcher
) -> None:
    """With ``127.0.0.1/32`` also listed, the same wildcard name reaches the loopback server."""
    server = await http_server()
    resolver = static_resolver({"feed.allowed.test": ["127.0.0.1"]})
    fetcher = await make_fetcher(allow=("*.allowed.test", LOOPBACK), resolver=resolver)
    assert (await fetcher.fetch(server.url(host="feed.allowed.test"))).body == RSS


async def test_metadata_host_name_under_a_wildcard_is_refused(make_fetcher) -> None:
    """``*.google.internal`` does not admit metadata.google.internal; it is never resolved."""
    calls: list[str] = []
    fetcher = await make_fetcher(allow=("*.google.internal",), resolver=static_resolver({}, calls))
    await refused(fetcher, "http://metadata.google.internal/computeMetadata/v1/", "metadata")
    assert calls == []


def test_allow_rules_per_address_class() -> None:
    """Wildcards admit private answers only; broad CIDRs never admit loopback or metadata."""
    import ipaddress

    ip = ipaddress.ip_address
    config = FetchConfig(allow=("*.corp.test", "intranet.test", "0.0.0.0/0", "::/0"))
    assert config.admits(ip("10.1.2.3"), "private", "wildcard")
    assert not config.admits(ip("127.0.0.1"), "loopback", "wildcard")
    assert config.admits(ip("127.0.0.1"), "loopback", "exact")
    assert not config.admits(ip("127.0.0.1"), "loopback", None)
    assert not config.admits(ip("::1"), "loopback", None)
    assert not config.admits(ip("169.254.169.254"), "metadata", "exact")
    exact = FetchConfig(allow=("127.0.0.0/8", "::1", "169.254.169.254"))
    assert exact.admits(ip("127.0.0.5"), "loopback", None)
    assert exact.admits(ip("::1"), "loopback", None)
    assert exact.admits(ip("169.254.169.254"), "metadata", None)
