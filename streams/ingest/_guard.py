"""Address policy and connection pinning of the guarded HTTP client (see ``fetch``).

``classify_address`` says why an address must not be fetched; ``PinnedTransport`` is an httpx
transport whose network backend connects only to the addresses set by ``pinned(...)`` for
the current request (a context variable), and refuses any connection without a pin.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import ssl
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import httpcore
import httpx

from streams.errors import FetchRefused

__all__ = [
    "METADATA_ADDRESSES",
    "METADATA_HOSTS",
    "IPAddress",
    "PinnedTransport",
    "classify_address",
    "pinned",
    "plain_address",
    "refused",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTS = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def refused(reason: str, detail: str, url: str, *, retriable: bool = False) -> FetchRefused:
    """A FetchRefused whose message starts with the reason code; ``source`` is the URL."""
    error = FetchRefused(f"{reason}: {detail}", source=url)
    error.retriable = retriable
    return error


def classify_address(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be fetched (a reason code), or None for a public address."""
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip.teredo:
            embedded = ip.teredo[1]
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return classify_address(embedded)
    checks: tuple[tuple[bool, str], ...] = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.version == 4 and ip in _SHARED, "shared-address"),
        (ip.version == 6 and ip in _UNIQUE_LOCAL, "unique-local"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "non-global"),
    )
    return next((reason for hit, reason in checks if hit), None)


def plain_address(ip: IPAddress) -> IPAddress:
    """IPv4-mapped IPv6 addresses as IPv4 (so ``127.0.0.1/32`` admits ``::ffff:127.0.0.1``)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


# --------------------------------------------------------------------------- pinning

_PINS: contextvars.ContextVar[Mapping[str, tuple[str, ...]] | None] = contextvars.ContextVar(
    "newswatch_fetch_pins", default=None
)


@contextlib.contextmanager
def pinned(host: str, addresses: tuple[str, ...]) -> Iterator[None]:
    """Connections to ``host`` opened inside this block go only to ``addresses``."""
    token = _PINS.set({host: addresses})
    try:
        yield
    finally:
        _PINS.reset(token)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to the addresses the guard checked for this host (fail closed)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        pins = _PINS.get()
        addresses = pins.get(host) if pins else None
        if not addresses:
            raise refused("unpinned", f"connection to {host} was not checked by the guard", host)
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise refused("scheme", "unix sockets are not fetched", path)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx transport whose connections go only to addresses pinned by the guard.

    It keeps httpx's request/response mapping and swaps the connection pool (``_pool``, as in
    httpx 0.28) for one built on the pinning backend; the pinning tests fail if that stops
    working.
    """

    def __init__(
        self, *, verify: ssl.SSLContext | bool = True, limits: httpx.Limits | None = None
    ) -> None:
        limits = limits or httpx.Limits(max_connections=50, max_keepalive_connections=10)
        super().__init__(verify=verify, trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedBackend(),
        )
