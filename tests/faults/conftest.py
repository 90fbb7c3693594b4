"""Fixtures of the fault tests: worker subprocesses, a fake Slack in a thread, article streams.

Every fault test runs real ``newswatch worker`` subprocesses against the session's embedded
broker, configured only through the environment, and a fake Slack Web API over real HTTP
on loopback (``SlackThread``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from fault_support import ArticleStream, generate_stream

from streams.kafka.broker import EmbeddedBroker, free_port
from streams.kafka.topics import ensure_topics
from streams.settings import Settings
from streams.testing import (
    FlakySlack,
    SlackThread,
    WorkerProcess,
    settings_env,
    term_watchlist,
    write_text_atomic,
)

TOKEN = "xoxb-faults"


@pytest.fixture
def make_stream() -> Callable[..., ArticleStream]:
    """Factory of generated article streams (``fault_support.generate_stream``)."""
    return generate_stream


@pytest.fixture
def slack_server() -> Iterator[Callable[..., SlackThread]]:
    """Factory of fake Slack servers (``FlakySlack`` options) in background threads."""
    started: list[SlackThread] = []

    def factory(**options: object) -> SlackThread:
        server = SlackThread(FlakySlack(tokens={TOKEN}, **options))  # type: ignore[arg-type]
        server.start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def fault_settings(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> Callable[..., Settings]:
    """Factory: isolated settings (4 partitions) with a test watch-list; topics created.

    The generated articles are English and the worker knows only ``en`` (no language
    detector; override with ``languages=`` / ``detect_pack_languages=``): no fault test is
    about language detection, and the detector's models for the default and the packs'
    languages (23) cost each worker start seconds of CPU.
    """

    def factory(
        rules: Mapping[str, tuple[str, str]],
        *,
        slack: SlackThread | None = None,
        **overrides: object,
    ) -> Settings:
        watchlist = tmp_path / "watchlist.yaml"
        write_text_atomic(watchlist, term_watchlist(rules))
        values: dict[str, object] = {
            "partitions": 4,
            "watchlist": watchlist,
            "watchlist_poll_s": 0.5,
            "alert_channels": ["file"],
            "log_level": "info",
            "session_timeout_s": 4.0,
            "delivery_retry_base_s": 0.05,
            "languages": ["en"],
            "detect_pack_languages": False,
        }
        if slack is not None:  # NEWSWATCH_ALERT_CHANNELS selects the kinds a worker delivers to
            values.update(
                slack_bot_token=TOKEN, slack_api_url=slack.url, alert_channels=["file", "slack"]
            )
        values.update(overrides)
        settings = make_settings(broker, **values)
        asyncio.run(ensure_topics(settings))
        return settings

    return factory


@pytest.fixture
def spawn_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Factory: start a ``newswatch worker`` subprocess for ``settings``; all stop at teardown."""
    started: list[WorkerProcess] = []

    def factory(
        settings: Settings, *, name: str = "worker", web_port: int | None = None, wait: bool = True
    ) -> WorkerProcess:
        env = settings_env(settings)
        env.update(
            {
                "NEWSWATCH_WATCHLIST_POLL": str(settings.watchlist_poll_s),
                "NEWSWATCH_DELIVERY_RETRY_BASE": str(settings.delivery_retry_base_s),
                "NEWSWATCH_SLACK_RATE": str(settings.slack_rate_per_s),
                "NEWSWATCH_RULE_LIMIT": str(settings.rule_limit),
                "NEWSWATCH_LANGUAGES": ",".join(settings.languages),
            }
        )
        worker = WorkerProcess(
            env, web_port=web_port or free_port(), log_path=tmp_path / f"{name}.log"
        )
        worker.start()
        started.append(worker)
        if wait:
            worker.wait_ready(120)
        return worker

    yield factory
    for worker in started:
        worker.stop(timeout=10)
