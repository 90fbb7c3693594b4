"""Kafka client security: the one place that turns settings into TLS and SASL client options.

Every client newswatch opens (Faust's consumer/producer/changelogs, ``ingest``, ``replay``,
topic administration, the ``/ready`` probe, the benches, the test helpers) takes its
security options from :class:`KafkaSecurity`: ``client_kwargs()`` for aiokafka,
``faust_kwargs()`` for Faust. ``KafkaSecurity.from_settings`` checks the settings and fails
with a one-line ``ConfigError`` naming the setting; ``check_connection`` performs one real
handshake (TLS, then SASL, then a Metadata request) within a bounded time and turns what
goes wrong into a one-line ``BrokerError`` ("certificate verify failed", "authentication
failed"). No message here contains a password or a user name.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from streams.errors import BrokerError, ConfigError
from streams.settings import Settings

__all__ = [
    "KafkaSecurity",
    "check_connection",
    "client_kwargs",
    "wait_connection",
]

SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")
SSL_PROTOCOLS = ("SSL", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


@dataclass(frozen=True)
class KafkaSecurity:
    """Checked Kafka security settings; builds the SSL context and the client options."""

    protocol: str = "PLAINTEXT"
    cafile: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    key_password: SecretStr | None = None
    check_hostname: bool = True
    mechanism: str | None = None
    username: SecretStr | None = None
    password: SecretStr | None = None
    timeout_s: float = 15.0
    _context: list[ssl.SSLContext] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaSecurity:
        """The checked security options of ``settings``; ``ConfigError`` names a wrong setting."""
        security = cls.unchecked(settings)
        security.validate()
        if security.protocol != "PLAINTEXT" and settings.embedded_broker:
            raise ConfigError(
                f"KAFKA_SECURITY_PROTOCOL={security.protocol} needs KAFKA_BOOTSTRAP_SERVERS: "
                "the embedded broker speaks PLAINTEXT only"
            )
        return security

    @classmethod
    def unchecked(cls, settings: Settings) -> KafkaSecurity:
        """The options as configured, not yet validated (no file is read)."""
        return cls(
            protocol=settings.kafka_security_protocol,
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
            key_password=settings.kafka_ssl_key_password,
            check_hostname=settings.kafka_ssl_check_hostname,
            mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            timeout_s=settings.kafka_connect_timeout_s,
        )

    @property
    def uses_ssl(self) -> bool:
        """True for ``SSL`` and ``SASL_SSL``."""
        return self.protocol in SSL_PROTOCOLS

    @property
    def uses_sasl(self) -> bool:
        """True for ``SASL_PLAINTEXT`` and ``SASL_SSL``."""
        return self.protocol in SASL_PROTOCOLS

    def validate(self) -> None:
        """Raise ``ConfigError`` (one line, naming the setting) for an inconsistent setup."""
        proto = f"KAFKA_SECURITY_PROTOCOL={self.protocol}"
        if not self.uses_ssl:
            for name, value in (
                ("KAFKA_SSL_CAFILE", self.cafile),
                ("KAFKA_SSL_CERTFILE", self.certfile),
                ("KAFKA_SSL_KEYFILE", self.keyfile),
            ):
                if value is not None:
                    raise ConfigError(f"{name} is set but {proto}: use SSL or SASL_SSL")
        if not self.uses_sasl and self.mechanism:
            raise ConfigError(
                f"KAFKA_SASL_MECHANISM={self.mechanism} is set but {proto}: "
                "use SASL_PLAINTEXT or SASL_SSL"
            )
        if self.uses_sasl:
            if not self.mechanism:
                raise ConfigError(
                    f"{proto} needs KAFKA_SASL_MECHANISM (one of {', '.join(MECHANISMS)})"
                )
            if self.mechanism not in MECHANISMS:
                raise ConfigError(
                    f"KAFKA_SASL_MECHANISM={self.mechanism} is not supported "
                    f"(one of {', '.join(MECHANISMS)})"
                )
            missing = [
                name
                for name, value in (
                    ("KAFKA_SASL_USERNAME", self.username),
                    ("KAFKA_SASL_PASSWORD", self.password),
                )
                if not _secret(value)
            ]
            if missing:
                raise ConfigError(
                    f"KAFKA_SASL_MECHANISM={self.mechanism} needs "
                    + " and ".join(missing)
                    + " (or the same name with _FILE)"
                )
        if self.uses_ssl:
            for name, path in (
                ("KAFKA_SSL_CAFILE", self.cafile),
                ("KAFKA_SSL_CERTFILE", self.certfile),
                ("KAFKA_SSL_KEYFILE", self.keyfile),
            ):
                if path is not None and not path.is_file():
                    raise ConfigError(f"{name}={path}: no such file")
            if self.keyfile is not None and self.certfile is None:
                raise ConfigError("KAFKA_SSL_KEYFILE is set without KAFKA_SSL_CERTFILE")
            self.ssl_context()  # a bad CA/certificate/key fails here, at start

    def ssl_context(self) -> ssl.SSLContext | None:
        """The client SSL context (CA, client certificate), built once; None without TLS."""
        if not self.uses_ssl:
            return None
        if self._context:
            return self._context[0]
        try:
            context = ssl.create_default_context(
                cafile=str(self.cafile) if self.cafile is not None else None
            )
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ConfigError(
                f"KAFKA_SSL_CAFILE={self.cafile}: not a PEM CA certificate ({_reason(exc)})"
            ) from None
        context.check_hostname = self.check_hostname
        if self.certfile is not None:
            try:
                context.load_cert_chain(
                    str(self.certfile),
                    str(self.keyfile) if self.keyfile is not None else None,
                    password=_secret(self.key_password),
                )
            except (ssl.SSLError, OSError, ValueError) as exc:
                raise ConfigError(
                    f"KAFKA_SSL_CERTFILE={self.certfile} / KAFKA_SSL_KEYFILE={self.keyfile}: "
                    f"cannot load the client certificate and key ({_reason(exc)}; "
                    "wrong KAFKA_SSL_KEY_PASSWORD?)"
                ) from None
        self._context.append(context)
        return context

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for every aiokafka client (producer, consumer, admin)."""
        kwargs: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_ssl:
            kwargs["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            kwargs["sasl_mechanism"] = self.mechanism
            kwargs["sasl_plain_username"] = _secret(self.username)
            kwargs["sasl_plain_password"] = _secret(self.password)
        return kwargs

    def faust_kwargs(self) -> dict[str, Any]:
        """Faust settings: ``broker_credentials`` (SASL) and/or ``ssl_context`` (TLS)."""
        if self.protocol == "PLAINTEXT":
            return {}
        context = self.ssl_context()
        if not self.uses_sasl:
            return {"ssl_context": context}
        from faust.auth import SASLCredentials

        credentials = SASLCredentials(
            username=_secret(self.username),
            password=_secret(self.password),
            ssl_context=context,
            mechanism=self.mechanism,
        )
        return {"broker_credentials": credentials}

    def describe(self) -> str:
        """The protocol, mechanism and CA file, for messages (never a secret)."""
        parts = [self.protocol]
        if self.uses_sasl:
            parts.append(str(self.mechanism))
        if self.uses_ssl:
            parts.append(f"CA {self.cafile}" if self.cafile else "system CAs")
        return " ".join(parts)


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """aiokafka security keyword arguments for ``settings`` (``KafkaSecurity.client_kwargs``)."""
    return KafkaSecurity.from_settings(settings).client_kwargs()


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
    return " ".join(str(text).split()) or type(exc).__name__


def _first_server(bootstrap: str) -> tuple[str, int]:
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    return host or "127.0.0.1", int(port)


class _Fatal(BrokerError):
    """A connection error that retrying does not fix (TLS verification, authentication)."""


def _explain(exc: BaseException, security: KafkaSecurity, where: str) -> BrokerError:
    """One line for what went wrong connecting to ``where``; fatal unless transient."""
    from aiokafka import errors

    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 5:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            return _Fatal(
                f"TLS certificate verify failed for Kafka at {where}: {_reason(item)} "
                f"(check KAFKA_SSL_CAFILE={security.cafile})"
            )
        if isinstance(item, ssl.SSLError):
            return _Fatal(
                f"TLS handshake with Kafka at {where} failed: {_reason(item)} "
                "(check KAFKA_SECURITY_PROTOCOL and KAFKA_SSL_*)"
            )
    if isinstance(exc, errors.UnsupportedSaslMechanismError):
        return _Fatal(
            f"Kafka at {where} does not accept KAFKA_SASL_MECHANISM={security.mechanism} "
            f"with KAFKA_SECURITY_PROTOCOL={security.protocol}"
        )
    sasl_errors = (errors.SaslAuthenticationFailed, errors.AuthenticationFailedError)
    if isinstance(exc, sasl_errors) or (
        security.uses_sasl and not isinstance(exc, OSError | TimeoutError | errors.KafkaError)
    ):
        # aiokafka raises KeyError('v') when a SCRAM server answers "e=unknown-user" or
        # "e=invalid-proof" instead of a signature: the credentials were refused.
        return _Fatal(
            f"SASL authentication failed at Kafka {where} ({security.mechanism}): "
            "check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
        )
    if isinstance(exc, TimeoutError):
        return BrokerError(
            f"no answer from Kafka at {where} within {security.timeout_s:.0f}s "
            f"({security.describe()}; does the listener speak {security.protocol}?)"
        )
    hint = ""
    if security.uses_sasl and "closed" in str(exc):
        hint = f"; closed during the handshake: does it accept {security.mechanism}?"
    return BrokerError(
        f"cannot connect to Kafka at {where} ({security.describe()}): {_reason(exc)}{hint}"
    )


async def check_connection(
    security: KafkaSecurity, bootstrap: str, *, timeout_s: float | None = None
) -> None:
    """One real handshake (TLS, SASL, Metadata) with the first bootstrap server, or BrokerError."""
    from aiokafka.conn import create_conn
    from aiokafka.protocol.metadata import MetadataRequest

    host, port = _first_server(bootstrap)
    where = f"{host}:{port}"
    timeout = timeout_s or security.timeout_s
    conn = None
    try:
        async with asyncio.timeout(timeout):
            conn = await create_conn(
                host,
                port,
                client_id="newswatch-probe",
                request_timeout_ms=int(timeout * 1000),
                **security.client_kwargs(),
            )
            await conn.send(MetadataRequest([]))
    except Exception as exc:
        raise _explain(exc, security, where) from None
    finally:
        if conn is not None:
            conn.close()


def wait_connection(
    security: KafkaSecurity, bootstrap: str, *, timeout_s: float | None = None
) -> None:
    """Block until ``check_connection`` succeeds; TLS and auth errors fail at once, else retry."""
    deadline = time.monotonic() + (timeout_s or security.timeout_s)
    last: BrokerError | None = None
    while time.monotonic() < deadline:
        left = max(0.5, min(5.0, deadline - time.monotonic()))
        try:
            _run_isolated(check_connection(security, bootstrap, timeout_s=left))
            return
        except _Fatal as exc:
            raise BrokerError(str(exc)) from None
        except BrokerError as exc:
            last = exc
            time.sleep(0.2)
    raise last or BrokerError(f"Kafka at {bootstrap} did not answer")


def _run_isolated(coro: Any) -> None:
    """Run ``coro`` in its own event loop in a thread (callable with or without a running loop)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller
            errors.append(exc)

    thread = threading.Thread(target=target, name="newswatch-kafka-probe", daemon=True)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
