"""Fixtures of the pipeline tests that run ``newswatch worker`` subprocesses on the broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pipeline_workers import worker_env

from streams.kafka.broker import EmbeddedBroker, free_port
from streams.kafka.topics import ensure_topics
from streams.settings import Settings
from streams.testing import WorkerProcess


@pytest.fixture
def worker_settings(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> Callable[..., Settings]:
    """Factory: isolated settings (English, info logs) with ``watchlist_text``; topics created.

    The worker knows only ``en`` (``detect_pack_languages`` off: no language detector whose
    models load at start); these tests' articles are English or carry their language.
    """

    def factory(watchlist_text: str, **overrides: object) -> Settings:
        watchlist = tmp_path / "watchlist.yaml"
        watchlist.write_text(watchlist_text, encoding="utf-8")
        values: dict[str, object] = {
            "watchlist": watchlist,
            "languages": ["en"],
            "detect_pack_languages": False,
            "log_level": "info",
        }
        values.update(overrides)
        settings = make_settings(broker, **values)
        asyncio.run(ensure_topics(settings))
        return settings

    return factory


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Factory: a ready ``newswatch worker`` for ``settings`` (+ ``env``); all stop at teardown."""
    started: list[WorkerProcess] = []

    def factory(
        settings: Settings, *, name: str = "worker", web_port: int | None = None, **env: str
    ) -> WorkerProcess:
        worker = WorkerProcess(
            worker_env(settings, **env),
            web_port=web_port or free_port(),
            log_path=tmp_path / f"{name}.log",
        )
        started.append(worker.start())
        worker.wait_ready(120)
        return worker

    yield factory
    for worker in started:
        worker.stop()
