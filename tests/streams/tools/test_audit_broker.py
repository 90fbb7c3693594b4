"""``newswatch audit`` on the real broker: a worker subprocess alerts, groups, throttles and
dead-letters; the audit accounts for every match, in the terminal, as JSON and as HTML."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from schemas.records import RawArticle
from streams.ingest.producer import ArticleProducer
from streams.kafka.broker import EmbeddedBroker, free_port
from streams.kafka.topics import ensure_topics
from streams.settings import Settings
from streams.testing import WorkerProcess, produce_values, settings_env, term_watchlist, wait_until
from streams.tools.audit import AuditOptions, AuditReport
from streams.tools.audit._run import audit

pytestmark = pytest.mark.broker

# the worker knows only `en`: no language detector whose models load at start
NO_PACKS = {"NEWSWATCH_DETECT_PACK_LANGUAGES": "false"}


def _articles() -> list[RawArticle]:
    """Five reports for the file rule (new, same URL, same text elsewhere, new, over the
    limit) and one for the Slack rule this worker cannot reach."""
    one = (
        "Zebracorn Industries confirmed on Tuesday that its logistics arm had been breached "
        "by an unknown group, and customer records from three warehouses were copied."
    )
    texts = {
        "a1": (one, "https://one.example/a1", "one.example"),
        "a2": (one, "https://one.example/a1", "one.example"),
        "a3": (
            one + " A spokesperson declined further comment.",
            "https://two.example/x",
            "two.example",
        ),
        "a4": (
            "Zebracorn shares fell sharply after regulators in Lisbon opened an inquiry into "
            "the company's accounting of overseas subsidiaries and delayed filings.",
            "https://three.example/a4",
            "three.example",
        ),
        "a5": (
            "A court in Oslo ordered Zebracorn to pay damages to a former supplier over a "
            "cancelled contract for refrigerated trucks and spare parts.",
            "https://four.example/a5",
            "four.example",
        ),
        "b1": (
            "The Quokkafire botnet was seen scanning routers across southern Europe overnight.",
            "https://five.example/b1",
            "five.example",
        ),
    }
    return [
        RawArticle(id=i, title=f"Report {i}", text=text, url=url, source=source)
        for i, (text, url, source) in texts.items()
    ]


async def _produce(settings: Settings, articles: list[RawArticle]) -> None:
    async with ArticleProducer(settings) as producer:
        for article in articles:
            await producer.produce(article)
        await producer.flush()


def _settled(settings: Settings, expect: int) -> Callable[[], bool]:
    """True once the audit (no grace) sees ``expect`` matches and none without an outcome."""
    found: list[AuditReport] = []

    def check() -> bool:
        report = asyncio.run(audit(settings, AuditOptions(since=None, grace_s=0.0)))
        found[:] = [report]
        return len(report.entries) >= expect and report.defects == 0

    check.found = found  # type: ignore[attr-defined]
    return check


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(settings)}
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "audit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_audit_accounts_for_every_match(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Delivered, grouped (duplicate and update), throttled (rule limit) and dead-lettered
    matches (an unreachable channel; an undecodable match record) all get their outcome."""
    watchlist = tmp_path / "watchlist.yaml"
    watchlist.write_text(
        term_watchlist({"zebra": ("Zebracorn", "file"), "quokka": ("Quokkafire", "slack:#x")})
    )
    settings = make_settings(broker, watchlist=watchlist, partitions=1, rule_limit=2)
    asyncio.run(ensure_topics(settings))
    worker = WorkerProcess(  # English only: no detector
        {**settings_env(settings), "NEWSWATCH_LANGUAGES": "en", **NO_PACKS},
        web_port=free_port(),
        log_path=tmp_path / "worker.log",
    )
    worker.start()
    try:
        worker.wait_ready(90, failing={"channels"})
        asyncio.run(_produce(settings, _articles()))
        produce_values(
            settings.bootstrap_servers,
            settings.topic("articles.matches"),
            [(b"zebra", b"{not json")],
        )
        settled = _settled(settings, 7)
        assert wait_until(settled, timeout=120, interval=1.0), (
            settled.found[0].model_dump_json(indent=1) if settled.found else worker.log_tail()  # type: ignore[attr-defined]
        )
    finally:
        worker.stop()
    report: AuditReport = settled.found[0]  # type: ignore[attr-defined]
    fate = {(e.article_id, e.rule_id): e for e in report.entries}
    assert fate[("a1", "zebra")].status == "alerted"
    assert [(c.channel, c.result) for c in fate[("a1", "zebra")].channels] == [("file", "sent")]
    assert fate[("a2", "zebra")].status == "grouped"
    assert fate[("a2", "zebra")].action == "duplicate"
    assert fate[("a2", "zebra")].story_id == fate[("a1", "zebra")].story_id
    assert fate[("a3", "zebra")].status == "grouped" and fate[("a3", "zebra")].action == "update"
    assert fate[("a3", "zebra")].channels[0].result == "sent"
    assert fate[("a4", "zebra")].status == "alerted"
    assert (fate[("a5", "zebra")].status, fate[("a5", "zebra")].reason) == (
        "throttled",
        "rule limit",
    )
    b1 = fate[("b1", "quokka")]
    assert b1.status == "dead-lettered" and b1.reason.startswith("channel not configured")
    garbage = [e for e in report.entries if e.article_id.startswith("<unreadable")]
    assert len(garbage) == 1 and garbage[0].status == "dead-lettered"
    assert len(report.entries) == 7 and report.defects == 0
    assert report.by_rule["zebra"] == {
        "alerted": 2,
        "dead-lettered": 1,
        "grouped": 2,
        "throttled": 1,
    }

    html = tmp_path / "audit.html"
    done = _cli(settings, "--since", "1h", "--html", str(html))
    assert done.returncode == 0, done.stderr
    assert "7 matches" in done.stdout and "0 defect(s)" in done.stdout
    assert "throttled: rule limit" in done.stdout
    page = html.read_text()
    assert "Content-Security-Policy" in page and "<script" not in page
    assert "Report a5" in page and "channel not configured" in page
    as_json = json.loads(_cli(settings, "--since", "1h", "--json").stdout)
    assert len(as_json["entries"]) == 7


def test_audit_reports_a_match_without_outcome_as_defect(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings]
) -> None:
    """A match no worker decided (none running) is a defect: listed and exit code 1."""
    settings = make_settings(broker)
    asyncio.run(ensure_topics(settings))
    event = {
        "article": {"id": "lost-1", "title": "Nobody decided me"},
        "language": "en",
        "language_confidence": 1.0,
        "clean_text": "x",
        "matches": [
            {"rule_id": "r", "rule_title": "R", "article_id": "lost-1", "watchlist_version": "v"}
        ],
    }
    produce_values(
        settings.bootstrap_servers,
        settings.topic("articles.matches"),
        [(b"r", json.dumps(event).encode())],
    )
    time.sleep(0.5)
    done = _cli(settings, "--since", "1h", "--grace", "0")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no outcome" in done.stdout and "Nobody decided me" in done.stdout
    assert "DEFECT: 1 match" in done.stdout


def test_audit_without_the_topics_is_a_one_line_error(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings]
) -> None:
    """No topics under the prefix (no worker ever ran): a one-line error, exit code 2 (1 is
    reserved for defects), no traceback."""
    settings = make_settings(broker)
    done = _cli(settings, "--since", "1h")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert settings.topic("articles.matches") in done.stderr
    assert done.stderr.startswith("newswatch: error: cannot audit:")
    assert len(done.stderr.strip().splitlines()) == 1
