"""``newswatch replay``: wire options, watch-lists, enricher, reader, engine, report, republish.

The topic is read by a task while the previous batch is enriched and matched in a worker
thread, so the broker read overlaps the CPU work. Nothing here sends an alert; with
``--republish`` the selected records are produced again to ``articles.raw`` with
``replayed: true`` (the live pipeline routes alerts of replayed articles to the test
channel, never to production channels).
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from streams.settings import Settings
from streams.tools.replay._backtest import Backtest
from streams.tools.replay._figures import build_rules, labels_ref, timeline_days
from streams.tools.replay._labels import Labels, labels_from_feedback, load_labels
from streams.tools.replay._options import ReplayOptions
from streams.tools.replay._sources import (
    check_broker,
    replay_files,
    replay_topic,
    start_publisher,
)
from streams.tools.replay.errors import ReplayInputError
from streams.tools.report import (
    BacktestReport,
    PartitionRead,
    SourceRef,
    WatchlistRef,
    summary_table,
    write_html,
    write_json,
)
from streams.tools.timeparse import format_utc, to_epoch_ms

__all__ = ["ReplayOptions", "ReplayResult", "backtest", "run_replay"]


@dataclass
class ReplayResult:
    """What a replay produced: the report (unless republish-only) and where it was written."""

    report: BacktestReport | None
    html_path: Path | None = None
    html_bytes: int = 0
    json_path: Path | None = None
    json_bytes: int = 0
    render_s: float = 0.0
    republished: int = 0
    republish_topic: str | None = None
    input_problems: int = 0


def _check(options: ReplayOptions) -> None:
    if options.watchlist is None and not options.republish:
        raise ReplayInputError("give --watchlist NEW.yaml (or --republish to only re-produce)")
    if options.since and options.until and options.since >= options.until:
        raise ReplayInputError(
            f"--since {options.since.isoformat()} is not before --until {options.until.isoformat()}"
        )
    if options.labels is not None and options.watchlist is None:
        raise ReplayInputError("--labels needs --watchlist")
    if options.labels_from_topic and options.labels is not None:
        raise ReplayInputError("give --labels FILE or --labels-from-topic, not both")
    if options.labels_from_topic and options.watchlist is None:
        raise ReplayInputError("--labels-from-topic needs --watchlist")
    if options.max_items < 1:
        raise ReplayInputError("--max-items must be at least 1")


async def feedback_labels(settings: Settings) -> Labels:
    """Labels from every ``Feedback`` record on the (prefixed) ``alerts.feedback`` topic."""
    from streams.kafka.follow import read_whole_topic
    from streams.kafka.security import KafkaSecurity

    topic = settings.topics.feedback
    records = await read_whole_topic(
        settings.bootstrap_servers,
        topic,
        client=KafkaSecurity.from_settings(settings).client_kwargs(),
        timeout=30.0,
    )
    return labels_from_feedback((value for _key, value in records), source=f"topic {topic}")


def _compiled(path: Path) -> Any:
    from streams.watchlist import load_and_compile

    return load_and_compile(path)


def _make_enricher(settings: Settings, patterns: list[dict[str, str]]) -> Any:
    from streams.enrich import Enricher
    from streams.pipeline.config import worker_config

    enricher = Enricher(worker_config(settings).enrich.config)
    enricher.set_entity_patterns(patterns)
    return enricher


def _union_patterns(*compiled: Any) -> list[dict[str, str]]:
    seen: dict[tuple[str, str, str], dict[str, str]] = {}
    for c in compiled:
        for p in c.entity_patterns():
            seen.setdefault((p["label"], p["pattern"], p["id"]), p)
    return list(seen.values())


async def backtest(
    settings: Settings,
    options: ReplayOptions,
    *,
    enricher: Any | None = None,
    stderr: TextIO | None = None,
) -> ReplayResult:
    """Run one replay/backtest (and/or republish); writes the reports, returns the result."""
    _check(options)
    err = stderr if stderr is not None else sys.stderr
    if not options.inputs or options.republish:
        await check_broker(settings)  # before the slow part: fail fast
    new = baseline = None
    labels: Labels | None = None
    if options.watchlist is not None:
        new = _compiled(options.watchlist)
        baseline = _compiled(options.baseline or settings.watchlist)
        labels = load_labels(options.labels) if options.labels is not None else None
        if options.labels_from_topic:
            labels = await feedback_labels(settings)
        if enricher is None:
            enricher = await asyncio.to_thread(
                _make_enricher, settings, _union_patterns(new, baseline)
            )
        else:
            enricher.set_entity_patterns(_union_patterns(new, baseline))
    from streams.watchlist import match_article

    since_ms = to_epoch_ms(options.since) if options.since else None
    until_ms = to_epoch_ms(options.until) if options.until else None
    topic = settings.topic(options.topic)
    engine = Backtest(
        new=new,
        baseline=baseline,
        enrich=getattr(enricher, "try_enrich_batch", None) if enricher is not None else None,
        match=match_article,
        since_ms=since_ms,
        until_ms=until_ms,
        labels=labels,
        topic=topic,
        max_record_bytes=settings.max_record_bytes,
    )
    result = ReplayResult(report=None)
    publisher = await start_publisher(settings) if options.republish else None
    started = time.perf_counter()
    partitions: list[PartitionRead] = []
    try:
        if options.inputs:
            source = SourceRef(kind="files", files=[str(p) for p in options.inputs])
            result.input_problems = await replay_files(engine, options, publisher, err)
        else:
            source = SourceRef(kind="topic", topic=topic, bootstrap=settings.bootstrap_servers)
            partitions = await replay_topic(
                settings, engine, options, topic, since_ms, publisher, err
            )
        if publisher is not None:
            await publisher.flush()
            result.republished = publisher.produced
            result.republish_topic = publisher.topic
    finally:
        if publisher is not None:
            await publisher.stop()
    elapsed = time.perf_counter() - started
    engine.stats.elapsed_s = round(elapsed, 3)
    engine.stats.articles_per_s = round(engine.stats.articles / elapsed, 2) if elapsed > 0 else 0.0
    engine.stats.republished = result.republished
    if new is None or baseline is None:
        return result
    days = timeline_days(engine)
    rules, totals = build_rules(engine, days)
    report = BacktestReport(
        generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        source=source,
        since=format_utc(since_ms),
        until=format_utc(until_ms),
        new=WatchlistRef(path=str(options.watchlist), version=new.version, rules=len(new.rules)),
        baseline=WatchlistRef(
            path=str(options.baseline or settings.watchlist),
            version=baseline.version,
            rules=len(baseline.rules),
        ),
        labels=labels_ref(engine),
        stats=engine.stats,
        partitions=partitions,
        days=days,
        totals=totals,
        rules=rules,
    )
    result.report = report
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    reports_dir = Path(settings.data_dir) / "reports"
    result.html_path = options.report or reports_dir / f"replay-{stamp}.html"
    result.json_path = options.json_path or result.html_path.with_suffix(".json")
    t0 = time.perf_counter()
    try:
        result.html_bytes = write_html(report, result.html_path, max_items=options.max_items)
        result.json_bytes = write_json(report, result.json_path)
    except OSError as exc:
        raise ReplayInputError(
            f"cannot write the report: {exc.strerror or exc}",
            where=str(exc.filename or result.html_path),
        ) from None
    result.render_s = time.perf_counter() - t0
    return result


def run_replay(
    settings: Settings,
    options: ReplayOptions,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """``newswatch replay``: run, print the summary table and where the reports are; exit code."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    result = asyncio.run(backtest(settings, options, stderr=err))
    if result.report is not None:
        out.write(summary_table(result.report) + "\n")
        out.flush()
        print(
            f"newswatch replay: HTML report {result.html_path} ({result.html_bytes:,} bytes), "
            f"JSON {result.json_path} ({result.json_bytes:,} bytes)",
            file=err,
        )
    if options.republish:
        print(
            f"newswatch replay: republished {result.republished} article(s) to "
            f"{result.republish_topic} with replayed: true (their alerts go to "
            f"{settings.test_channel}, never to production channels)",
            file=err,
        )
    if result.input_problems:
        print(
            f"newswatch replay: {result.input_problems} bad input(s) skipped (listed above)",
            file=err,
        )
        return 1
    return 0
