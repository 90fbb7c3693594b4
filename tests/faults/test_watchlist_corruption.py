"""A watch-list corrupted mid-run: the last good version keeps alerting, the fix is picked up."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from streams.settings import Settings
from streams.testing import WorkerProcess, read_topic, term_watchlist, write_text_atomic

pytestmark = [pytest.mark.faults, pytest.mark.broker]


def _produce(settings: Settings, article: dict[str, str]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": settings.bootstrap_servers})
    producer.produce(
        settings.topic("articles.raw"), json.dumps(article).encode(), key=article["id"].encode()
    )
    assert producer.flush(30) == 0


def _ready(worker: WorkerProcess) -> dict:
    return httpx.get(f"http://127.0.0.1:{worker.web_port}/ready", timeout=5).json()


def _wait(predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return predicate()


def _alerted_rules(settings: Settings) -> dict[str, str]:
    """article id -> rule id of every alert in the file channel."""
    out: dict[str, str] = {}
    for path in (Path(settings.data_dir) / "alerts").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            alert = json.loads(line)["alert"]
            out[alert["article"]["id"]] = alert["rule_id"]
    return out


def _enriched_version(settings: Settings, article_id: str) -> str | None:
    for record in read_topic(
        settings.bootstrap_servers, settings.topic("articles.enriched"), expect=1000, timeout=2
    ):
        if record["value"]["article"]["id"] == article_id:
            return record["value"]["watchlist_version"]
    return None


def test_corrupted_watchlist_keeps_last_good_version_until_fixed(
    fault_settings: Callable[..., Settings], spawn_worker: Callable[..., WorkerProcess]
) -> None:
    """Invalid YAML is reported on /ready and ignored; a valid fix with a new rule goes live."""
    settings = fault_settings({"rule-alpha": ("Alphaprojekt", "file")})
    worker = spawn_worker(settings)
    v1 = _ready(worker)["checks"]["watchlist"]["version"]

    _produce(settings, {"id": "a1", "title": "Alphaprojekt eins", "text": "Über das Alphaprojekt."})
    assert _wait(lambda: _alerted_rules(settings).get("a1") == "rule-alpha"), worker.log_tail()

    write_text_atomic(Path(settings.watchlist), "version: 1\nrules:\n  - id: [unclosed\n")
    assert _wait(lambda: _ready(worker)["checks"]["watchlist"]["last_error"] is not None)
    state = _ready(worker)
    assert state["ready"] and state["checks"]["watchlist"]["version"] == v1
    assert "watchlist.yaml:4:1: YAML syntax" in state["checks"]["watchlist"]["last_error"]

    _produce(settings, {"id": "a2", "title": "Alphaprojekt zwei", "text": "Wieder Alphaprojekt."})
    assert _wait(lambda: _alerted_rules(settings).get("a2") == "rule-alpha"), worker.log_tail()
    assert _wait(lambda: _enriched_version(settings, "a2") == v1)

    fixed = term_watchlist(
        {"rule-alpha": ("Alphaprojekt", "file"), "rule-beta": ("Betaprojekt", "file")}
    )
    write_text_atomic(Path(settings.watchlist), fixed)
    assert _wait(lambda: _ready(worker)["checks"]["watchlist"]["version"] != v1)
    v2 = _ready(worker)["checks"]["watchlist"]["version"]
    assert _ready(worker)["checks"]["watchlist"]["last_error"] is None

    _produce(settings, {"id": "b1", "title": "Betaprojekt startet", "text": "Das Betaprojekt."})
    assert _wait(lambda: _alerted_rules(settings).get("b1") == "rule-beta"), worker.log_tail()
    assert _wait(lambda: _enriched_version(settings, "b1") == v2)
    assert worker.alive()
