"""Shared fixtures: a clean environment for every test and one real embedded broker per session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streams.kafka.broker import EmbeddedBroker, free_port
from streams.settings import Settings

_ENV_PREFIXES = ("NEWSWATCH_", "KAFKA_", "SLACK_", "SMTP_", "ALERT_EMAIL", "TANSU_BIN")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts without newswatch/Kafka/Slack/SMTP variables from the caller's shell."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One real embedded Kafka-compatible broker (Tansu) for the whole test session."""
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    embedded = EmbeddedBroker(port=free_port(), log_path=log)
    embedded.start()
    yield embedded
    embedded.stop()


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Factory of Settings isolated per test: own data dir, topic prefix and consumer group."""

    def factory(broker: EmbeddedBroker | None = None, **overrides: object) -> Settings:
        tag = uuid.uuid4().hex[:8]
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "app_id": f"nw-test-{tag}",
            "topic_prefix": f"t{tag}.",
            "web_port": 0,
            "partitions": 2,
            "session_timeout_s": 4.0,
        }
        if broker is not None:
            values["kafka_bootstrap_servers"] = broker.bootstrap_servers
        values.update(overrides)
        return Settings.load(**values)

    return factory
