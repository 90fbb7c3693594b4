"""Watch-list files, polling, and the worker web endpoints (JSON, Prometheus text)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

__all__ = [
    "local_watchlist",
    "metric_value",
    "scrape_metrics",
    "term_watchlist",
    "wait_until",
    "web_json",
    "write_text_atomic",
]


def term_watchlist(rules: Mapping[str, tuple[str, str]], *, severity: str = "high") -> str:
    """Watch-list YAML with one rule per entry ``rule id → (term, channel spec)``."""
    lines = ["version: 1", "rules:"]
    for rule_id, (term, channel) in rules.items():
        lines += [
            f"  - id: {json.dumps(rule_id)}",
            f"    title: {json.dumps('Watch ' + term)}",
            f"    severity: {severity}",
            f"    all: [{json.dumps('term:' + term)}]",
            "    within: article",
            f"    channels: [{json.dumps(channel)}]",
        ]
    return "\n".join(lines) + "\n"


def local_watchlist(folder: Path) -> Path:
    """The bundled example watch-list with its rule routed only to console and file.

    For tests whose worker has no Slack or SMTP: with the example's own channels the worker
    is (rightly) not ready and logs an ERROR for each channel it cannot reach.
    """
    from streams.settings import DEFAULT_WATCHLIST

    text = DEFAULT_WATCHLIST.read_text(encoding="utf-8")
    text = text.replace(
        'channels: [console, file, "slack:#sec-alerts", "email:secops@example.com"]',
        "channels: [console, file]",
    )
    text = text.replace("include: [packs/espionage.yaml]", "include: [espionage]")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "watchlist.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` in one step (a poller never reads a half-written file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def web_json(port: int, path: str, *, timeout: float = 5.0) -> tuple[int, Any]:
    """GET ``http://127.0.0.1:<port><path>``: status and decoded JSON body."""
    response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=timeout)
    return response.status_code, response.json()


def scrape_metrics(port: int, *, timeout: float = 5.0) -> list[tuple[str, dict[str, str], float]]:
    """GET ``/metrics`` of a worker: every sample as ``(name, labels, value)``."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=timeout).text
    return [
        (sample.name, dict(sample.labels), float(sample.value))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def metric_value(
    samples: Iterable[tuple[str, dict[str, str], float]], name: str, **labels: str
) -> float:
    """Sum of the samples called ``name`` whose labels include ``labels``."""
    return sum(
        value
        for sample, have, value in samples
        if sample == name and all(have.get(k) == v for k, v in labels.items())
    )
