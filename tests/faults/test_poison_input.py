"""Poison records on articles.raw: each lands in articles.raw.dlq with a reason, the worker
stays up, keeps processing, and its /metrics counters show every dead letter.

Injected with a plain Kafka producer (any client may write to articles.raw): not JSON,
schema violations, a 10 MB body, invalid UTF-8, JSON nested 5,000 levels deep, a JSON
array instead of an object, and a tombstone (no value).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fault_support import rules_for

from streams.settings import Settings
from streams.testing import (
    WorkerProcess,
    metric_value,
    produce_values,
    read_topic,
    scrape_metrics,
    wait_until,
    web_json,
)

pytestmark = [pytest.mark.faults, pytest.mark.broker]

TEN_MB = 10 * 1024 * 1024

#: key → (value, error class, words the reason must contain)
POISON: dict[bytes, tuple[bytes | None, str, str]] = {
    b"not-json": (b"this is not json {", "DecodeError", "not valid UTF-8 JSON"),
    b"schema": (b'{"id": "x", "title": 5}', "SchemaError", "schema violation"),
    b"ten-mb": (
        json.dumps({"id": "big", "title": "big", "text": "a" * TEN_MB}).encode(),
        "DecodeError",
        "exceeds the limit",
    ),
    b"bad-utf8": (
        b'{"id": "u", "title": "\xff\xfe", "text": "y"}',
        "DecodeError",
        "not valid UTF-8 JSON",
    ),
    b"deep": (
        b'{"id": "d", "title": "t", "text": "x", "n": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        "DecodeError",
        "nested too deeply",
    ),
    b"array": (b'[{"id": "a", "title": "t", "text": "x"}]', "SchemaError", "JSON object"),
    b"tombstone": (None, "DecodeError", "tombstone"),
}


def test_poison_records_are_dead_lettered_with_reasons_and_counted(
    fault_settings: Callable[..., Settings],
    spawn_worker: Callable[..., WorkerProcess],
) -> None:
    """Seven kinds of poison go to articles.raw.dlq with their reason; the worker carries on."""
    settings = fault_settings(rules_for(1, channel="file:alerts"))
    worker = spawn_worker(settings, name="worker")
    good = {"id": "after-poison", "title": "Routine report", "text": "Shares rose today."}
    records = [(key, value) for key, (value, _, _) in POISON.items()]
    produce_values(
        settings.bootstrap_servers,
        settings.topic("articles.raw"),
        [*records, (b"after-poison", json.dumps(good).encode())],
    )

    letters = read_topic(
        settings.bootstrap_servers,
        settings.topic("articles.raw.dlq"),
        expect=len(POISON),
        timeout=60,
    )
    by_key = {letter["key"]: letter["value"] for letter in letters}
    print(
        f"\npoison: injected={len(POISON)} dead_lettered={len(letters)} "
        f"reasons={ {k.decode(): v['error'] for k, v in by_key.items()} }"
    )
    assert sorted(by_key) == sorted(POISON), worker.log_tail()
    for key, (value, error, words) in POISON.items():
        letter = by_key[key]
        assert letter["error"] == error and words in letter["reason"], (key, letter["reason"])
        assert letter["source_topic"] == settings.topic("articles.raw")
        assert letter["partition"] in range(settings.partitions) and letter["offset"] >= 0
        assert letter["value_bytes"] == len(value or b"")
    assert by_key[b"ten-mb"]["value_truncated"] is True

    def enriched_good() -> bool:
        records = read_topic(
            settings.bootstrap_servers, settings.topic("articles.enriched"), expect=1, timeout=2
        )
        return any(r["value"]["article"]["id"] == "after-poison" for r in records)

    assert wait_until(enriched_good, timeout=60), worker.log_tail()
    assert worker.alive()
    assert web_json(worker.web_port, "/health")[0] == 200
    samples = scrape_metrics(worker.web_port)
    dlq = settings.topic("articles.raw.dlq")
    assert metric_value(samples, "newswatch_dead_letters_total", topic=dlq) == len(POISON)
    for error in ("DecodeError", "SchemaError"):
        expected = sum(1 for _, kind, _ in POISON.values() if kind == error)
        assert (
            metric_value(samples, "newswatch_dead_letters_total", topic=dlq, reason=error)
            == expected
        )
