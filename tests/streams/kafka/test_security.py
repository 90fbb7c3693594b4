"""Kafka security settings: validation, the SSL context and the client options built from them."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
from tls_support import Pki

from streams.errors import ConfigError
from streams.kafka.security import KafkaSecurity
from streams.pipeline.app import faust_config
from streams.settings import Settings

EXTERNAL = {"kafka_bootstrap_servers": "kafka.example:9093"}


def _security(**values: object) -> KafkaSecurity:
    return KafkaSecurity.from_settings(Settings.load(**{**EXTERNAL, **values}))


def _config_error(**values: object) -> str:
    with pytest.raises(ConfigError) as err:
        _security(**values)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_plaintext_default_adds_no_tls_or_sasl() -> None:
    """Without settings the clients stay PLAINTEXT and Faust gets no credentials."""
    security = _security()
    assert security.client_kwargs() == {"security_protocol": "PLAINTEXT"}
    assert security.faust_kwargs() == {}


def test_missing_ca_file_names_the_setting(tmp_path: Path) -> None:
    """A CA file that does not exist fails at start naming KAFKA_SSL_CAFILE."""
    message = _config_error(kafka_security_protocol="SSL", kafka_ssl_cafile=tmp_path / "nope.pem")
    assert message.startswith("KAFKA_SSL_CAFILE=") and "no such file" in message


def test_ca_file_that_is_not_a_certificate(tmp_path: Path) -> None:
    """A CA file with garbage fails at start naming KAFKA_SSL_CAFILE."""
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    message = _config_error(kafka_security_protocol="SSL", kafka_ssl_cafile=bad)
    assert "KAFKA_SSL_CAFILE" in message and "not a PEM CA certificate" in message


def test_sasl_without_mechanism_or_credentials() -> None:
    """SASL needs a mechanism, a user name and a password; each missing one is named."""
    assert "needs KAFKA_SASL_MECHANISM" in _config_error(kafka_security_protocol="SASL_SSL")
    message = _config_error(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="newswatch",
    )
    assert "needs KAFKA_SASL_PASSWORD" in message and "USERNAME" not in message


def test_settings_that_contradict_the_protocol(pki: Pki) -> None:
    """A mechanism without SASL or a CA without TLS is a mistake, reported as one."""
    assert "use SASL_PLAINTEXT or SASL_SSL" in _config_error(kafka_sasl_mechanism="PLAIN")
    assert "use SSL or SASL_SSL" in _config_error(kafka_ssl_cafile=pki.ca)


def test_tls_needs_an_external_broker(pki: Pki) -> None:
    """The embedded broker is plaintext only: TLS without KAFKA_BOOTSTRAP_SERVERS fails."""
    with pytest.raises(ConfigError, match="needs KAFKA_BOOTSTRAP_SERVERS"):
        KafkaSecurity.from_settings(
            Settings.load(kafka_security_protocol="SSL", kafka_ssl_cafile=pki.ca)
        )


def test_ssl_context_verifies_with_the_ca_and_loads_the_client_key(pki: Pki) -> None:
    """The context trusts KAFKA_SSL_CAFILE, checks host names and decrypts the client key."""
    security = _security(
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=pki.ca,
        kafka_ssl_certfile=pki.client_cert,
        kafka_ssl_keyfile=pki.client_key,
        kafka_ssl_key_password=pki.client_key_password,
    )
    context = security.ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [
        ((("commonName", "newswatch test CA"),),)
    ]
    assert security.client_kwargs() == {"security_protocol": "SSL", "ssl_context": context}


def test_wrong_key_password_names_the_setting(pki: Pki) -> None:
    """A wrong client key password fails at start with one line naming it."""
    message = _config_error(
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=pki.ca,
        kafka_ssl_certfile=pki.client_cert,
        kafka_ssl_keyfile=pki.client_key,
        kafka_ssl_key_password="wrong",
    )
    assert "KAFKA_SSL_KEY_PASSWORD" in message and "wrong" not in message.split("(")[0]


def test_sasl_ssl_options_for_aiokafka_and_faust(pki: Pki) -> None:
    """SASL_SSL gives aiokafka the mechanism and credentials and Faust SASLCredentials."""
    settings = Settings.load(
        **EXTERNAL,
        kafka_security_protocol="sasl_ssl",
        kafka_ssl_cafile=pki.ca,
        kafka_sasl_mechanism="scram-sha-512",
        kafka_sasl_username="newswatch",
        kafka_sasl_password="pw-Secret-9",
    )
    kwargs = KafkaSecurity.from_settings(settings).client_kwargs()
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == (
        "newswatch",
        "pw-Secret-9",
    )
    credentials = faust_config(settings)["broker_credentials"]
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    auth = credentials_to_aiokafka_auth(credentials)
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert auth["sasl_plain_password"] == "pw-Secret-9"
    assert isinstance(auth["ssl_context"], ssl.SSLContext)
    assert "pw-Secret-9" not in repr(credentials)
    assert "pw-Secret-9" not in str(settings.public_dump())


def test_secrets_from_files(monkeypatch: pytest.MonkeyPatch, secret_files: Path, pki: Pki) -> None:
    """KAFKA_SASL_USERNAME_FILE / _PASSWORD_FILE (mounted secrets) are read and trimmed."""
    (secret_files / "user").write_text("newswatch\n")
    (secret_files / "password").write_text("from-a-file\n")
    monkeypatch.setenv("KAFKA_SASL_USERNAME_FILE", str(secret_files / "user"))
    monkeypatch.setenv("KAFKA_SASL_PASSWORD_FILE", str(secret_files / "password"))
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    kwargs = KafkaSecurity.from_settings(Settings.load()).client_kwargs()
    assert kwargs["sasl_plain_username"] == "newswatch"
    assert kwargs["sasl_plain_password"] == "from-a-file"


def test_unreadable_secret_file_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, secret_files: Path
) -> None:
    """A _FILE that does not exist is reported with its variable name, one line."""
    monkeypatch.setenv("KAFKA_SASL_PASSWORD_FILE", str(secret_files / "missing"))
    with pytest.raises(ConfigError, match="KAFKA_SASL_PASSWORD_FILE=") as err:
        Settings.load()
    assert "\n" not in str(err.value)


def test_describe_never_contains_secrets() -> None:
    """The description used in messages names protocol and mechanism only."""
    security = _security(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="user-X1",
        kafka_sasl_password="pass-X2",
    )
    assert security.describe() == "SASL_PLAINTEXT PLAIN"
    assert "pass-X2" not in repr(security) and "user-X1" not in repr(security)


def test_faust_app_and_changelog_probe_get_the_tls_options(
    pki: Pki, make_settings: Callable[..., Settings]
) -> None:
    """The app's conf gives compat's end-offset probe (and Faust's clients) the SSL context."""
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    from streams.pipeline.app import create_app

    settings = make_settings(
        kafka_bootstrap_servers="kafka.example:9093",
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=pki.ca,
    )
    app = create_app(settings)
    auth = credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context)
    assert auth["security_protocol"] == "SSL"
    assert isinstance(auth["ssl_context"], ssl.SSLContext)
    assert auth["ssl_context"].get_ca_certs()[0]["subject"] == (
        (("commonName", "newswatch test CA"),),
    )
