"""Poison records on articles.raw: each lands in the DLQ with a reason; the worker stays up."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from streams.settings import Settings
from streams.testing import WorkerProcess, read_topic

pytestmark = [pytest.mark.faults, pytest.mark.broker]

POISON: dict[str, bytes] = {
    "not json": b"<html>this is not json",
    "schema": json.dumps({"id": "s1", "title": ["not", "a", "string"], "text": "x"}).encode(),
    "invalid utf-8": b'{"id": "u1", "title": "\xff\xfe", "text": "x"}',
    "deep nesting": b'{"id": "d1", "title": "t", "text": "x", "extra": '
    + b"[" * 2000
    + b"]" * 2000
    + b"}",
    "10 MB body": json.dumps({"id": "big", "title": "t", "text": "A" * 10_000_000}).encode(),
}


def _produce(settings: Settings, values: list[bytes]) -> None:
    from confluent_kafka import Producer

    producer = Producer(
        {"bootstrap.servers": settings.bootstrap_servers, "message.max.bytes": 12_000_000}
    )
    for value in values:
        producer.produce(settings.topic("articles.raw"), value, key=b"poison")
    assert producer.flush(60) == 0


def _dead_letter_count(worker: WorkerProcess) -> float:
    text = httpx.get(f"http://127.0.0.1:{worker.web_port}/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("newswatch_dead_letters_total{") and "articles.raw.dlq" in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_each_poison_record_is_dead_lettered_and_counted(
    fault_settings: Callable[..., Settings], spawn_worker: Callable[..., WorkerProcess]
) -> None:
    """Non-JSON, schema violation, invalid UTF-8, deep nesting and a 10 MB body: 5 letters."""
    settings = fault_settings({"after-poison": ("Kanarienvogel", "file")})
    worker = spawn_worker(settings)
    good = {"id": "good-1", "title": "Ein Kanarienvogel singt", "text": "Kanarienvogel."}
    _produce(settings, [*POISON.values(), json.dumps(good).encode()])
    letters = read_topic(
        settings.bootstrap_servers,
        settings.topic("articles.raw.dlq"),
        expect=len(POISON),
        timeout=90,
    )
    reasons = [letter["value"]["reason"] for letter in letters]
    assert len(letters) == len(POISON), reasons
    assert sum("not valid UTF-8 JSON" in r for r in reasons) == 2  # not JSON, invalid UTF-8
    assert sum("schema violation" in r for r in reasons) == 1
    assert sum("nested too deeply" in r for r in reasons) == 1
    assert sum("exceeds the limit" in r for r in reasons) == 1
    big = next(letter["value"] for letter in letters if "exceeds" in letter["value"]["reason"])
    assert big["value_truncated"] and big["value_bytes"] > 10_000_000 and big["value_sha256"]
    assert all(letter["value"]["offset"] is not None for letter in letters)
    deadline = time.monotonic() + 30
    while _dead_letter_count(worker) < len(POISON) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _dead_letter_count(worker) == len(POISON)
    enriched = read_topic(
        settings.bootstrap_servers, settings.topic("articles.enriched"), expect=1, timeout=60
    )
    assert [r["value"]["article"]["id"] for r in enriched] == ["good-1"]
    assert worker.alive()
    assert httpx.get(f"http://127.0.0.1:{worker.web_port}/health", timeout=5).status_code == 200
