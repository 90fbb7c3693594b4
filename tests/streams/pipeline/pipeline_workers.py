"""Helpers of the pipeline tests that run ``newswatch`` subprocesses (see conftest.py)."""

from __future__ import annotations

from typing import Any

from streams.settings import Settings
from streams.testing import read_present, read_topic, settings_env


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a worker (or CLI) process for ``settings``, plus ``extra``."""
    return {**settings_env(settings), "NEWSWATCH_LANGUAGES": ",".join(settings.languages), **extra}


def topic_values(settings: Settings, topic: str) -> list[dict[str, Any]]:
    """The values on ``topic`` now (returns at once: polls do not wait out a timeout)."""
    found = read_present(settings.bootstrap_servers, settings.topic(topic), timeout=10)
    return [r["value"] for r in found]


def topic_values_within(settings: Settings, topic: str, window: float) -> list[dict[str, Any]]:
    """The values that reach ``topic`` within ``window`` seconds (a "nothing arrives" check)."""
    found = read_topic(
        settings.bootstrap_servers, settings.topic(topic), expect=10**6, timeout=window
    )
    return [r["value"] for r in found]
