"""Fixtures for the Kafka security tests: test PKI, a TLS proxy and a SASL-enforcing broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tls_support import Pki, SecureBroker, TlsProxy, make_pki, start_tansu, stop_process

from streams.kafka.broker import free_port, resolve_broker_binary


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA, a server certificate for 127.0.0.1, a client pair and a foreign CA."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def tls_broker(pki: Pki) -> Iterator[SecureBroker]:
    """Tansu advertising the (mutual) TLS proxy's address: every client connection is TLS."""
    proxy_port, broker_port = free_port(), free_port()
    proc = start_tansu(resolve_broker_binary(), broker_port, advertised_port=proxy_port)
    proxy = TlsProxy(pki, ("127.0.0.1", broker_port), proxy_port, client_certs=True).start()
    try:
        yield SecureBroker(proxy.bootstrap, pki, proxy)
    finally:
        proxy.stop()
        stop_process(proc)


@pytest.fixture(scope="session")
def sasl_broker(pki: Pki) -> Iterator[SecureBroker]:
    """Tansu with ``--authentication`` (SASL required) behind the TLS proxy."""
    proxy_port, broker_port = free_port(), free_port()
    proc = start_tansu(
        resolve_broker_binary(), broker_port, advertised_port=proxy_port, authentication=True
    )
    proxy = TlsProxy(pki, ("127.0.0.1", broker_port), proxy_port).start()
    try:
        yield SecureBroker(proxy.bootstrap, pki, proxy)
    finally:
        proxy.stop()
        stop_process(proc)


@pytest.fixture
def secret_files(tmp_path: Path) -> Path:
    """A folder for secret files (``*_FILE`` settings)."""
    folder = tmp_path / "secrets"
    folder.mkdir()
    return folder
