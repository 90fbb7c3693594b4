"""The embedded broker: starts, answers Kafka requests, refuses bad binaries, stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.errors import BrokerError
from streams.kafka.broker import EmbeddedBroker, free_port, metadata_ok, resolve_broker_binary
from streams.settings import Settings


@pytest.mark.broker
def test_embedded_broker_answers_metadata_and_stops(tmp_path: Path) -> None:
    """A started broker answers a Metadata request on its port; after stop() it does not."""
    broker = EmbeddedBroker(port=free_port(), log_path=tmp_path / "b.log").start()
    try:
        assert metadata_ok("127.0.0.1", broker.port)
        assert broker.bootstrap_servers == f"127.0.0.1:{broker.port}"
    finally:
        broker.stop()
    assert not metadata_ok("127.0.0.1", broker.port, timeout=0.3)


def test_tansu_bin_override_must_be_executable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TANSU_BIN pointing at a non-executable file is a BrokerError, not a crash."""
    bogus = tmp_path / "tansu"
    bogus.write_text("not a binary")
    monkeypatch.setenv("TANSU_BIN", str(bogus))
    with pytest.raises(BrokerError, match="not an executable"):
        resolve_broker_binary()


def test_nothing_listening_is_not_ready() -> None:
    """metadata_ok is False for a port nobody listens on."""
    assert not metadata_ok("127.0.0.1", free_port(), timeout=0.2)


def test_external_kafka_means_no_embedded_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """With KAFKA_BOOTSTRAP_SERVERS set, settings use it and report no embedded broker."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    settings = Settings.load()
    assert not settings.embedded_broker
    assert settings.bootstrap_servers == "kafka-1:9092,kafka-2:9092"
