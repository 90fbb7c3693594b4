"""The watch-list file is corrupted while a worker runs, then fixed with a changed rule.

While the file is broken, alerts keep coming from the last good version, ``/ready`` stays
200 and shows the error (``file:line:col``), and the metrics count the failed reload. The
fix is picked up without a restart: enriched records carry the new version and the
changed rule fires.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fault_support import CODEWORDS, story_of

from streams.settings import Settings
from streams.testing import (
    SlackThread,
    WorkerProcess,
    metric_value,
    produce_values,
    read_present,
    scrape_metrics,
    term_watchlist,
    wait_until,
    web_json,
    write_text_atomic,
)

pytestmark = [pytest.mark.faults, pytest.mark.broker]

OLD_TERM, NEW_TERM = CODEWORDS[0], CODEWORDS[1]
BROKEN = "version: 1\nrules:\n  - id: r0\n    title: [unclosed\n    all: ['term:x'\n"


def _article(n: int, term: str) -> tuple[bytes, bytes]:
    article = {
        "id": f"wl-{n}",
        "title": f"story-{n:05d} watch-list test",
        "text": f"A routine report. It mentions {term} once.",
        "url": f"https://news.example/wl/{n}",
    }
    return article["id"].encode(), json.dumps(article).encode()


def _enriched(settings: Settings, article_id: str) -> dict[str, Any] | None:
    records = read_present(
        settings.bootstrap_servers, settings.topic("articles.enriched"), timeout=10
    )
    found = [r["value"] for r in records if r["value"]["article"]["id"] == article_id]
    return found[-1] if found else None


def test_corrupted_watchlist_keeps_last_good_version_until_fixed(
    fault_settings: Callable[..., Settings],
    slack_server: Callable[..., SlackThread],
    spawn_worker: Callable[..., WorkerProcess],
) -> None:
    """Invalid YAML: alerts continue on the last good list and /ready shows why; a fix loads."""
    slack = slack_server()
    settings = fault_settings({"r0": (OLD_TERM, "slack:#sec")}, slack=slack)
    worker = spawn_worker(settings, name="worker")
    raw = settings.topic("articles.raw")

    def alerted(n: int) -> bool:
        return f"story-{n:05d}" in {story_of(m) for m in slack.messages()}

    produce_values(settings.bootstrap_servers, raw, [_article(1, OLD_TERM)])
    assert wait_until(lambda: alerted(1), timeout=60), worker.log_tail()
    first = _enriched(settings, "wl-1")
    assert first is not None
    good_version = first["watchlist_version"]

    write_text_atomic(settings.watchlist, BROKEN)
    assert wait_until(
        lambda: web_json(worker.web_port, "/ready")[1]["checks"]["watchlist"]["last_error"],
        timeout=30,
    )
    status, body = web_json(worker.web_port, "/ready")
    check = body["checks"]["watchlist"]
    assert status == 200 and check["version"] == good_version
    assert f"{settings.watchlist.name}:" in check["last_error"]
    produce_values(settings.bootstrap_servers, raw, [_article(2, OLD_TERM)])
    assert wait_until(lambda: alerted(2), timeout=60), worker.log_tail()
    broken_era = _enriched(settings, "wl-2")
    assert broken_era is not None and broken_era["watchlist_version"] == good_version

    write_text_atomic(settings.watchlist, term_watchlist({"r0": (NEW_TERM, "slack:#sec")}))
    assert wait_until(
        lambda: (
            web_json(worker.web_port, "/ready")[1]["checks"]["watchlist"]["version"] != good_version
        ),
        timeout=30,
    )
    check = web_json(worker.web_port, "/ready")[1]["checks"]["watchlist"]
    assert check["last_error"] is None
    produce_values(settings.bootstrap_servers, raw, [_article(3, NEW_TERM), _article(4, OLD_TERM)])
    assert wait_until(lambda: alerted(3), timeout=60), worker.log_tail()
    assert wait_until(lambda: _enriched(settings, "wl-4") is not None, timeout=30)
    fixed, old_term = _enriched(settings, "wl-3"), _enriched(settings, "wl-4")
    assert fixed is not None and old_term is not None
    assert fixed["watchlist_version"] == check["version"] != good_version
    assert [m["rule_id"] for m in fixed["matches"]] == ["r0"]
    assert old_term["matches"] == []
    assert not wait_until(lambda: alerted(4), timeout=4.0)  # nor a late alert (the ~4 s before)
    samples = scrape_metrics(worker.web_port)
    assert metric_value(samples, "newswatch_watchlist_reloads_total", outcome="error") >= 1
    print(
        f"\nwatch-list: alerts expected=3 delivered={len(slack.messages())} "
        f"versions {good_version} -> {check['version']}"
    )
    assert worker.alive()
