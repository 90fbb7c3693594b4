"""Source health end to end: ``newswatch run`` polls three loopback feeds on the real broker;
one starts failing, one goes silent, one returns zero items — each raises exactly one ops
alert on the watch-list's ``ops_channels`` and exactly one recovery; ``newswatch sources``
shows them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from streams.kafka.broker import EmbeddedBroker, free_port
from streams.settings import Settings
from streams.testing import (
    WorkerProcess,
    metric_value,
    scrape_metrics,
    settings_env,
    wait_until,
)

pytestmark = pytest.mark.broker

WATCHLIST = """version: 1
rules:
  - id: never
    title: Never matches
    all: ["term:xyzzyplugh"]
    within: article
    channels: [file]
ops_channels: [file]
"""


class Feeds:
    """Three RSS feeds whose behaviour a test switches: fresh, fail, silent, zero."""

    def __init__(self) -> None:
        self.mode = {"failing": "fresh", "silent": "fresh", "empty": "fresh"}
        self.counter = {name: 0 for name in self.mode}
        self.lock = threading.Lock()
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.strip("/").split("/")[0]
                status, body = feeds.answer(name, self.server.server_port)  # type: ignore[attr-defined]
                self.send_response(status)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        """The feed's URL."""
        return f"http://127.0.0.1:{self.server.server_port}/{name}"

    def answer(self, name: str, port: int) -> tuple[int, bytes]:
        """The HTTP status and body of one fetch of feed ``name``."""
        with self.lock:
            mode = self.mode.get(name, "fail")
            if mode == "fail":
                return 500, b"broken"
            if mode == "fresh":
                self.counter[name] += 1
            n = self.counter[name]
        items = (
            ""
            if mode == "zero"
            else "".join(
                f"<item><title>{name} story {i}</title>"
                f"<link>http://127.0.0.1:{port}/{name}/item/{i}</link>"
                f"<description>Routine notice number {i} from {name}.</description></item>"
                for i in range(max(1, n - 2), n + 1)
            )
        )
        head = '<?xml version="1.0"?><rss version="2.0"><channel>'
        rss = f"{head}<title>{name}</title>{items}</channel></rss>"
        return 200, rss.encode()

    def __enter__(self) -> Feeds:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class RunProcess(WorkerProcess):
    """``newswatch run FEEDS`` in a subprocess."""

    def __init__(self, feeds: list[str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.feeds = feeds

    def start(self) -> RunProcess:
        """Spawn ``newswatch run`` with output to ``log_path``."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "run", *self.feeds],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        return self


def _ops_alerts(settings: Settings) -> list[dict]:
    found = []
    for path in sorted((Path(settings.data_dir) / "alerts").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                alert = json.loads(line)["alert"]
                if alert["rule_id"] == "source-health":
                    found.append(alert)
    return found


def _kinds(settings: Settings) -> list[tuple[str, bool]]:
    out = []
    for alert in _ops_alerts(settings):
        _, kind, phase, _ = alert["article"]["id"].split(":")
        source = alert["article"]["source"].rsplit("/", 1)[-1]
        out.append((f"{source}:{kind}", phase == "recovered"))
    return sorted(out)


@pytest.fixture
def feeds() -> Iterator[Feeds]:
    """Three loopback feeds."""
    with Feeds() as served:
        yield served


def test_failing_silent_and_empty_feeds_each_raise_one_alert_and_one_recovery(
    broker: EmbeddedBroker,
    make_settings: Callable[..., Settings],
    feeds: Feeds,
    tmp_path: Path,
) -> None:
    """Fresh items first; then one feed answers 500, one repeats itself, one lists nothing:
    one ops alert each; fresh again: one recovery each; nothing more after that."""
    (tmp_path / "watchlist.yaml").write_text(WATCHLIST)
    settings = make_settings(broker, watchlist=tmp_path / "watchlist.yaml", partitions=1)
    env = {
        **settings_env(settings),
        "NEWSWATCH_LANGUAGES": "en",  # English feeds: no language detector to load
        "NEWSWATCH_DETECT_PACK_LANGUAGES": "false",
        "NEWSWATCH_FETCH_ALLOW": "127.0.0.1/32",
        "NEWSWATCH_FEED_INTERVAL": "0.5",
        "NEWSWATCH_SOURCE_FAIL_AFTER": "2",
        "NEWSWATCH_SOURCE_SILENT_FACTOR": "3",
        "NEWSWATCH_SOURCE_MIN_SILENT": "4",
    }
    urls = [feeds.url(name) for name in ("failing", "silent", "empty")]
    run = RunProcess(urls, env=env, web_port=free_port(), log_path=tmp_path / "run.log")
    run.start()
    try:
        run.wait_ready(120)
        assert wait_until(lambda: min(feeds.counter.values()) >= 8, 60), run.log_tail()
        assert _ops_alerts(settings) == [], _kinds(settings)
        feeds.mode.update(failing="fail", silent="silent", empty="zero")
        opened = [("empty:zero_items", False), ("failing:failing", False), ("silent:silent", False)]
        assert wait_until(lambda: _kinds(settings) == opened, 90), (
            _kinds(settings),
            run.log_tail(),
        )
        feeds.mode.update(failing="fresh", silent="fresh", empty="fresh")
        closed = sorted(opened + [(k, True) for k, _ in opened])
        assert wait_until(lambda: _kinds(settings) == closed, 120), (
            _kinds(settings),
            run.log_tail(),
        )
        time.sleep(3)
        assert _kinds(settings) == closed
        recovery = next(
            a
            for a in _ops_alerts(settings)
            if a["article"]["id"].startswith("ops:failing:recovered")
        )
        assert recovery["article"]["title"].startswith("Recovered: source ")
        metrics = scrape_metrics(run.web_port)
        shown = subprocess.run(
            [sys.executable, "-m", "streams.cli", "sources", "--json"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        run.stop()
    rows = {r["source"].rsplit("/", 1)[-1]: r for r in json.loads(shown.stdout)["sources"]}
    assert set(rows) == {"failing", "silent", "empty"}
    assert all(r["status"] == "healthy" for r in rows.values()), rows
    assert all(r["last_success"] and r["items_last_fetch"] == 3 for r in rows.values())
    failing = feeds.url("failing")
    assert metric_value(metrics, "newswatch_source_consecutive_failures", source=failing) == 0
    assert metric_value(metrics, "newswatch_source_items_last_fetch", source=failing) == 3
    assert (
        metric_value(metrics, "newswatch_source_last_success_timestamp_seconds", source=failing)
        > time.time() - 600
    )
    assert metric_value(metrics, "newswatch_source_incident", source=failing) == 0
