"""The one guarded HTTP client for untrusted URLs (feeds and article pages).

Every URL that comes from outside (a feed list, a link inside a feed, a redirect) is fetched
through :class:`GuardedFetcher`, which refuses with :class:`streams.errors.FetchRefused`:

- schemes other than ``http``/``https``, URLs with credentials;
- cloud metadata endpoints by name (``metadata.google.internal`` ...) or address
  (``169.254.169.254``, ``fd00:ec2::254`` ...);
- hosts that resolve to a loopback, private (10/8, 172.16/12, 192.168/16), link-local
  (169.254/16, fe80::/10), shared/CGNAT (100.64/10), unique-local (fc00::/7), multicast,
  unspecified, reserved or otherwise non-global address. IPv6 addresses that embed an IPv4
  address (IPv4-mapped ``::ffff:a.b.c.d``, 6to4, Teredo, NAT64) are judged by that address.
  If *any* resolved address is refused, the URL is refused;
- more than ``max_redirects`` redirects (each hop is checked again, redirects are followed
  here, never by httpx);
- bodies over ``max_bytes`` (``Content-Length`` first, then counted while streaming the
  decoded body), a ``Content-Type`` outside ``accept``, and fetches that exceed the
  connect/read timeouts or the total deadline (``reason`` ``timeout``, ``retriable``).

The allow-list (:attr:`FetchConfig.allow`) holds host names (``feeds.example.org``,
``*.example.org``) and addresses/CIDRs (``10.0.0.0/8``, ``::1``). An allowed host name skips
the address check for private, shared and link-local answers; an allowed CIDR admits the
addresses it contains. Two classes are stricter, because a wildcard entry lets whoever runs
the zone point a name anywhere:

- metadata addresses (``169.254.169.254``, ``fd00:ec2::254`` ...) and metadata host names are
  admitted only by an exact single-address entry (``169.254.169.254/32``): never by a host
  name (exact or wildcard), never by a broad CIDR;
- loopback and unspecified addresses (``127.0.0.0/8``, ``::1``, ``0.0.0.0``, ``::``) are
  admitted by an address entry that lies inside loopback/unspecified itself (``127.0.0.1``,
  ``::1``) or by an *exact* host name entry (``localhost``), never by a wildcard
  (``*.allowed.test``) and never by a broad CIDR such as ``0.0.0.0/0``.

DNS rebinding: the guard resolves the name itself (``loop.getaddrinfo``), checks the
answers, and *pins* the connection to exactly those addresses. The choice is a custom
network backend under a normal httpx transport (:class:`PinnedTransport`), not rewriting the
URL to an IP: the URL keeps its host name, so the ``Host`` header, TLS SNI and certificate
verification all use the name, and the connection pool is keyed by name. The backend reads
the checked addresses from a context variable set around each request and connects only to
them; a connection attempt without a pin is refused (fail closed). Environment proxies are
ignored (``trust_env=False``) because a proxy would resolve the name again.

Error statuses (>= 400) raise :class:`streams.errors.IngestError` (``retriable`` for 408, 425,
429 and 5xx); transport failures raise ``IngestError`` with ``retriable=True``. A refusal's
``source`` is the URL refused (``... (redirected from ...)`` on a redirect hop) and its message
starts with the reason code (``private``, ``scheme``, ``too-large`` ...), which
:func:`refusal_reason` returns, e.g. for ``Metrics.fetch_refused``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from streams.errors import ConfigError, FetchRefused, IngestError
from streams.ingest._guard import (
    METADATA_ADDRESSES,
    METADATA_HOSTS,
    IPAddress,
    PinnedTransport,
    classify_address,
    pinned,
    plain_address,
    refused,
)

__all__ = [
    "DEFAULT_ACCEPT",
    "METADATA_ADDRESSES",
    "METADATA_HOSTS",
    "FetchConfig",
    "FetchResult",
    "GuardedFetcher",
    "PinnedTransport",
    "Resolver",
    "build_client",
    "classify_address",
    "refusal_reason",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``async (host, port) -> [address, ...]``; the default uses ``loop.getaddrinfo``."""

DEFAULT_ACCEPT: tuple[str, ...] = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "text/html",
    "application/xhtml+xml",
    "application/feed+json",
    "application/json",
    "text/plain",
)
_RETRIABLE_STATUS = frozenset({408, 425, 429})
_LOCAL_REASONS = frozenset({"loopback", "unspecified"})


def _is_local_network(net: IPNetwork) -> bool:
    """The whole network is loopback (or the one unspecified address)."""
    return (net.is_loopback and net.prefixlen >= (8 if net.version == 4 else 128)) or (
        net.num_addresses == 1 and net.network_address.is_unspecified
    )


@dataclass(frozen=True)
class FetchConfig:
    """Limits and allow-list of the guarded client (``from_settings`` maps the env names)."""

    allow: Sequence[str] = ()
    timeout_s: float = 10.0
    connect_timeout_s: float | None = None
    total_timeout_s: float | None = None
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch)"
    _hosts: frozenset[str] = field(init=False, repr=False, compare=False)
    _wildcards: frozenset[str] = field(init=False, repr=False, compare=False)
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in self.allow:
            text = entry.strip().lower().rstrip(".")
            if not text:
                continue
            try:
                networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if "/" in text or " " in text or ":" in text:
                raise ConfigError(f"NEWSWATCH_FETCH_ALLOW: {entry!r} is neither a host nor a CIDR")
            hosts.add(text)
        if self.max_bytes < 1 or self.max_redirects < 0 or self.timeout_s <= 0:
            raise ConfigError("fetch limits must be positive (max_bytes, max_redirects, timeout)")
        object.__setattr__(self, "allow", tuple(self.allow))
        object.__setattr__(self, "_hosts", frozenset(h for h in hosts if not h.startswith("*.")))
        object.__setattr__(
            self, "_wildcards", frozenset(h[2:] for h in hosts if h.startswith("*."))
        )
        object.__setattr__(self, "_networks", tuple(networks))

    @classmethod
    def from_settings(cls, settings: Any) -> FetchConfig:
        """The config of ``streams.settings.Settings`` (``NEWSWATCH_FETCH_*``)."""
        return cls(
            allow=tuple(settings.fetch_allow_hosts),
            timeout_s=settings.fetch_timeout_s,
            max_bytes=settings.fetch_max_bytes,
        )

    def host_rule(self, name: str) -> str | None:
        """``"exact"`` or ``"wildcard"`` when the normalized host name is allow-listed."""
        if name in self._hosts:
            return "exact"
        parts = name.split(".")
        if any(".".join(parts[i:]) in self._wildcards for i in range(1, len(parts))):
            return "wildcard"
        return None

    def allows_host(self, name: str) -> bool:
        """True when the normalized host name is allow-listed (exact or ``*.suffix``)."""
        return self.host_rule(name) is not None

    def allows_address(self, ip: IPAddress, *, metadata: bool = False) -> bool:
        """True when an allow-listed CIDR contains ``ip`` (metadata: only a one-address entry)."""
        ip = plain_address(ip)
        return any(
            ip.version == net.version and ip in net and (not metadata or net.num_addresses == 1)
            for net in self._networks
        )

    def admits(self, ip: IPAddress, reason: str, host_rule: str | None) -> bool:
        """Whether the allow-list admits ``ip`` refused for ``reason`` under this host rule."""
        if reason == "metadata":
            return self.allows_address(ip, metadata=True)
        if reason in _LOCAL_REASONS:
            plain = plain_address(ip)
            return host_rule == "exact" or any(
                plain.version == net.version and plain in net and _is_local_network(net)
                for net in self._networks
            )
        return host_rule is not None or self.allows_address(ip)

    @property
    def total_deadline_s(self) -> float:
        """Deadline for one whole fetch including redirects and the body."""
        return self.total_timeout_s or self.timeout_s * 3


@dataclass(frozen=True)
class FetchResult:
    """A successful (2xx) or not-modified (304) response; ``url`` is the final URL."""

    status: int
    body: bytes
    headers: httpx.Headers
    url: str
    not_modified: bool = False

    @property
    def etag(self) -> str | None:
        """The ``ETag`` validator for the next conditional GET."""
        value: str | None = self.headers.get("etag")
        return value

    @property
    def last_modified(self) -> str | None:
        """The ``Last-Modified`` validator for the next conditional GET."""
        value: str | None = self.headers.get("last-modified")
        return value

    @property
    def content_type(self) -> str | None:
        """The media type without parameters, lower case."""
        value = self.headers.get("content-type")
        return _media_type(value) if value else None


def refusal_reason(error: FetchRefused) -> str:
    """The reason code of a refusal (``private``, ``timeout`` ...), e.g. for a metrics label."""
    text = str(error)
    if error.source and text.startswith(f"{error.source}: "):
        text = text[len(error.source) + 2 :]
    return text.split(":", 1)[0]


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def build_client(config: FetchConfig, *, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """A client for :class:`GuardedFetcher`: pinned transport, timeouts, no proxies."""
    connect_s = config.connect_timeout_s or config.timeout_s
    return httpx.AsyncClient(
        transport=PinnedTransport(verify=verify),
        timeout=httpx.Timeout(config.timeout_s, connect=connect_s),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": config.user_agent},
    )


async def _system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


class GuardedFetcher:
    """Fetches untrusted URLs under the SSRF rules of this module; start() before use.

    ``client`` must come from :func:`build_client` (or use :class:`PinnedTransport`) for the
    DNS-rebinding pin to hold; every other check applies to any client.
    """

    def __init__(
        self,
        config: FetchConfig,
        client: httpx.AsyncClient | None = None,
        *,
        resolver: Resolver | None = None,
    ) -> None:
        self.config = config
        self._client = client
        self._owns_client = client is None
        self._resolve = resolver or _system_resolver

    async def start(self) -> None:
        """Create the shared client (unless one was given)."""
        if self._client is None:
            self._client = build_client(self.config)

    async def stop(self) -> None:
        """Close the client if this fetcher created it."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> GuardedFetcher:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: Sequence[str] = DEFAULT_ACCEPT,
    ) -> FetchResult:
        """GET ``url`` under the guard; conditional when ``etag``/``last_modified`` are given."""
        if self._client is None:
            raise RuntimeError("GuardedFetcher.fetch() before start()")
        headers = {"Accept": ", ".join(accept)}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = self.config.total_deadline_s
        try:
            async with asyncio.timeout(deadline):
                return await self._follow(self._client, url, headers, tuple(accept))
        except TimeoutError:
            raise refused(
                "timeout", f"no complete response within {deadline:g}s", url, retriable=True
            ) from None
        except httpx.TimeoutException as exc:
            raise refused("timeout", type(exc).__name__, url, retriable=True) from None
        except httpx.HTTPError as exc:
            error = IngestError(f"{type(exc).__name__}: {exc}", source=url)
            error.retriable = True
            raise error from None

    async def _follow(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], accept: tuple[str, ...]
    ) -> FetchResult:
        try:
            current = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise refused("bad-url", str(exc), url) from None
        for hop in range(self.config.max_redirects + 1):
            shown = url if hop == 0 else f"{current} (redirected from {url})"
            host, addresses = await self._check(current, shown)
            request = client.build_request("GET", current, headers=headers)
            with pinned(host, addresses):
                response = await client.send(request, stream=True, follow_redirects=False)
            try:
                if response.has_redirect_location:
                    try:
                        current = current.join(response.headers["location"])
                    except httpx.InvalidURL as exc:
                        raise refused("bad-url", f"redirect: {exc}", str(current)) from None
                    continue
                return await self._result(response, str(current), accept)
            finally:
                await response.aclose()
        raise refused("redirects", f"more than {self.config.max_redirects} redirects", url)

    async def _check(self, url: httpx.URL, shown: str) -> tuple[str, tuple[str, ...]]:
        """Scheme, name and every resolved address of one hop; returns the pin.

        ``shown`` is the URL as errors name it (with the redirect origin, if any).
        """
        if url.scheme not in ("http", "https"):
            raise refused("scheme", f"only http and https are fetched, not {url.scheme!r}", shown)
        if url.userinfo:
            raise refused("bad-url", "credentials in URLs are not sent", shown)
        host = url.raw_host.decode("ascii")
        name = host.lower().rstrip(".")
        if not name:
            raise refused("bad-url", "no host", shown)
        rule = self.config.host_rule(name)
        if name in METADATA_HOSTS and rule != "exact":
            raise refused("metadata", f"{name} is a cloud metadata endpoint", shown)
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await self._addresses(host, port, shown)
        for ip in addresses:
            reason = classify_address(ip)
            if reason and not self.config.admits(ip, reason, rule):
                where = name if name == str(ip) else f"{name} resolves to {ip}"
                how = " (a wildcard entry never admits it)" if rule == "wildcard" else ""
                raise refused(
                    reason, f"{where}, a {reason} address, is not allow-listed{how}", shown
                )
        return host, tuple(str(ip) for ip in addresses)

    async def _addresses(self, host: str, port: int, shown: str) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        try:
            answers = await self._resolve(host, port)
        except (OSError, UnicodeError) as exc:
            error = IngestError(f"cannot resolve {host}: {exc}", source=shown)
            error.retriable = True
            raise error from None
        addresses: list[IPAddress] = []
        for answer in answers:
            ip = ipaddress.ip_address(answer.split("%", 1)[0])
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise refused("no-address", f"{host} has no address", shown)
        return addresses

    async def _result(
        self, response: httpx.Response, url: str, accept: tuple[str, ...]
    ) -> FetchResult:
        status = response.status_code
        if status == 304:
            return FetchResult(status, b"", response.headers, url, not_modified=True)
        if not 200 <= status < 300:
            error = IngestError(f"HTTP {status} {response.reason_phrase}".rstrip(), source=url)
            error.retriable = status in _RETRIABLE_STATUS or status >= 500
            raise error
        raw_type = response.headers.get("content-type")
        if not raw_type:
            raise refused("content-type", "the response has no Content-Type", url)
        media = _media_type(raw_type)
        if not any(
            pattern in ("*/*", media) or (pattern.endswith("/*") and media.startswith(pattern[:-1]))
            for pattern in accept
        ):
            raise refused("content-type", f"{media} is not one of {', '.join(accept)}", url)
        return FetchResult(status, await self._body(response, url), response.headers, url)

    async def _body(self, response: httpx.Response, url: str) -> bytes:
        limit = self.config.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise refused("too-large", f"Content-Length {declared} exceeds {limit} bytes", url)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise refused("too-large", f"body exceeds {limit} bytes", url)
            chunks.append(chunk)
        return b"".join(chunks)
