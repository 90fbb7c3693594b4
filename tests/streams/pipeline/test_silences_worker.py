"""Silences over the real broker: `newswatch silence` records honoured by every worker.

A silence added with the CLI (a subprocess producing to ``alerts.silences``) holds on a
worker started after it, on a second worker that replaces the first (restart/takeover),
and ``silence expire`` lets the next alert through. Alerts held back are on ``alerts`` with
``silenced_by`` and counted on ``/metrics``; nothing reaches the file channel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pipeline_workers import worker_env

from streams.settings import Settings
from streams.testing import (
    WorkerProcess,
    metric_value,
    produce_values,
    read_present,
    scrape_metrics,
    term_watchlist,
    wait_until,
)

pytestmark = pytest.mark.broker

FILLER = "officials said on monday that the investigation would continue for several weeks"


def _cli(settings: Settings, *args: str) -> str:
    """Run ``newswatch <args>`` in a subprocess; its stdout (fails the test on exit != 0)."""
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        env={**os.environ, **worker_env(settings)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _article(n: int) -> tuple[bytes, bytes]:
    article = {
        "id": f"sil-{n}",
        "title": f"Zorblax report number {n}",
        "text": f"Story {n}: the zorblax affair widened. " + f"{FILLER} {n} " * (n + 2),
        "url": f"https://news{n}.example/{n}",
        "source": f"news{n}.example",
        "language": "en",
    }
    return article["id"].encode(), json.dumps(article).encode()


def _delivered(settings: Settings) -> list[str]:
    ids = []
    for path in sorted((Path(settings.data_dir) / "alerts").glob("*.jsonl")):
        ids += [
            json.loads(line)["alert"]["article"]["id"] for line in path.read_text().splitlines()
        ]
    return ids


def _alert_of(settings: Settings, article_id: str, timeout: float = 60.0) -> dict:
    """The (last) record on ``alerts`` for ``article_id``; waits until it is there."""
    found: dict[str, dict] = {}

    def look() -> bool:
        records = read_present(settings.bootstrap_servers, settings.topic("alerts"), timeout=10)
        found.update({r["value"]["article"]["id"]: r["value"] for r in records})
        return article_id in found

    assert wait_until(look, timeout=timeout), f"no alert for {article_id}"
    return found[article_id]


def test_cli_silence_holds_on_every_worker_until_expired(
    worker_settings: Callable[..., Settings], start_worker: Callable[..., WorkerProcess]
) -> None:
    """A CLI snooze silences alerts on a worker and on its replacement; after expire they flow."""
    settings = worker_settings(term_watchlist({"r0": ("zorblax", "file")}), alert_channels=["file"])
    added = _cli(settings, "silence", "add", "--rule", "r0", "--for", "1h", "--reason", "noisy")
    silence_id = added.split()[0]
    assert silence_id.startswith("sil-") and "active" in added

    first = start_worker(settings, name="first")
    try:
        samples = scrape_metrics(first.web_port)
        assert metric_value(samples, "newswatch_silences_active", kind="rule") == 1
        produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), [_article(1)])
        assert _alert_of(settings, "sil-1")["silenced_by"] == silence_id, first.log_tail()
        assert wait_until(
            lambda: (
                metric_value(
                    scrape_metrics(first.web_port), "newswatch_alerts_total", outcome="silenced"
                )
                == 1
            )
        )
    finally:
        first.stop()

    second = start_worker(settings, name="second")  # another process takes over the partitions
    try:
        produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), [_article(2)])
        assert _alert_of(settings, "sil-2")["silenced_by"] == silence_id, second.log_tail()
        assert silence_id in _cli(settings, "silence", "list")

        _cli(settings, "silence", "expire", silence_id)
        assert wait_until(
            lambda: (
                metric_value(
                    scrape_metrics(second.web_port), "newswatch_silences_active", kind="rule"
                )
                == 0
            ),
            timeout=20,
        )
        assert "no silences" in _cli(settings, "silence", "list")
        produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), [_article(3)])
        assert wait_until(lambda: "sil-3" in _delivered(settings), timeout=60), second.log_tail()
        assert _alert_of(settings, "sil-3").get("silenced_by") is None
        assert _delivered(settings) == ["sil-3"]
    finally:
        second.stop()
