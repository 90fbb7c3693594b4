"""Replay on the real embedded broker: labelled records spread over days, exact figures."""

from __future__ import annotations

import asyncio
import contextlib
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from replay_corpus import (
    DAY0_MS,
    DAY_MS,
    IN_RANGE_DAYS,
    KINDS,
    SINCE,
    UNTIL,
    article_id,
    check_corpus_report,
    shuffled_records,
)

from streams.kafka.broker import EmbeddedBroker
from streams.kafka.topics import ensure_topics
from streams.settings import Settings
from streams.tools.replay import Probe, ReplayOptions, TopicNotFound, backtest, validate_answer
from streams.tools.replay._reader import TopicReader
from streams.tools.timeparse import parse_time, to_epoch_ms

pytestmark = pytest.mark.broker


def _settings(broker: EmbeddedBroker, tmp: Path) -> Settings:
    tag = uuid.uuid4().hex[:8]
    return Settings.load(
        kafka_bootstrap_servers=broker.bootstrap_servers,
        data_dir=tmp / "data",
        app_id=f"nw-replay-{tag}",
        topic_prefix=f"rp{tag}.",
        partitions=2,
    )


async def _produce_corpus(settings: Settings) -> None:
    """Every corpus record (shuffled: timestamps not monotonic), each with its own timestamp."""
    await ensure_topics(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=5)
    await producer.start()
    try:
        sends = [
            await producer.send(settings.topic("articles.raw"), value, key=key, timestamp_ms=ts)
            for key, value, ts in shuffled_records()
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
def corpus_settings(
    broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """Settings whose articles.raw holds the labelled corpus (read-only for the tests)."""
    settings = _settings(broker, tmp_path_factory.mktemp("replay"))
    asyncio.run(_produce_corpus(settings))
    yield settings


def _options(watchlists: tuple[Path, Path], labels: Path | None, **kw: Any) -> ReplayOptions:
    new, base = watchlists
    kw.setdefault("progress", False)
    kw.setdefault("since", SINCE)
    kw.setdefault("until", UNTIL)
    return ReplayOptions(watchlist=new, baseline=base, labels=labels, **kw)


async def test_broker_backtest_gained_lost_and_scores_exact(
    corpus_settings: Settings,
    watchlists: tuple[Path, Path],
    labels_file: Path,
    replay_enricher: Any,
    tmp_path: Path,
) -> None:
    """Over [since, until) on the broker: exact gained/lost, timeline and precision/recall."""
    err = io.StringIO()
    options = _options(watchlists, labels_file, progress=True, report=tmp_path / "r.html")
    result = await backtest(corpus_settings, options, enricher=replay_enricher, stderr=err)
    report = result.report
    assert report is not None
    check_corpus_report(report)
    s = report.stats
    # 42 corpus records + duplicate + replayed copy + invalid record
    assert (s.records_read, s.in_range, s.articles) == (45, 31, 28)
    assert (s.duplicates, s.replayed_skipped, s.invalid) == (1, 1, 1)
    assert any("not valid UTF-8 JSON" in p and "articles.raw[" in p for p in s.problems)
    assert report.source.topic == corpus_settings.topic("articles.raw")
    assert sorted(p.partition for p in report.partitions) == [0, 1]
    assert sum(p.end for p in report.partitions) == 45
    for read in report.partitions:  # each partition: a checked seek, or a scan that says why
        assert read.method == "by-time" or "rejected" in read.reason
    gained = report.rule("alibaba-espionage").gained
    assert all(h.partition is not None and h.offset is not None for h in gained)
    final = err.getvalue().strip().splitlines()[-1]
    assert "100.0%" in final and "articles/s" in final and "28 articles" in final


async def test_full_scan_gives_the_same_figures(
    corpus_settings: Settings,
    watchlists: tuple[Path, Path],
    labels_file: Path,
    replay_enricher: Any,
    tmp_path: Path,
) -> None:
    """Reading every partition from its first offset selects exactly the same articles."""
    seek = await backtest(
        corpus_settings,
        _options(watchlists, labels_file, report=tmp_path / "a.html"),
        enricher=replay_enricher,
    )
    scan = await backtest(
        corpus_settings,
        _options(watchlists, labels_file, full_scan=True, report=tmp_path / "b.html"),
        enricher=replay_enricher,
    )
    assert seek.report is not None and scan.report is not None
    assert all(
        p.method == "scan" and p.reason.startswith("--full-scan") for p in scan.report.partitions
    )
    assert [r.model_dump() for r in scan.report.rules] == [
        r.model_dump() for r in seek.report.rules
    ]


async def test_republish_marks_replayed_and_later_replays_skip_them(
    broker: EmbeddedBroker,
    watchlists: tuple[Path, Path],
    labels_file: Path,
    replay_enricher: Any,
    tmp_path: Path,
) -> None:
    """--republish re-produces the selected articles with replayed: true; a replay skips them."""
    settings = _settings(broker, tmp_path)
    await _produce_corpus(settings)
    only = ReplayOptions(since=SINCE, until=UNTIL, republish=True, progress=False)
    result = await backtest(settings, only)
    assert result.report is None and result.republished == 28
    topic = settings.topic("articles.raw")
    reader = TopicReader(settings.bootstrap_servers, topic)
    await reader.start()
    try:
        await reader.plan()
        records = [r async for batch in reader.batches() for r in batch.records]
    finally:
        await reader.stop()
    assert len(records) == 45 + 28
    copies = []
    for rec in records:
        with contextlib.suppress(orjson.JSONDecodeError):
            value = orjson.loads(rec.value or b"")
            if value.get("replayed") and value["id"] != "replayed-copy":
                copies.append((rec.key, value))
    expected = {article_id(k, d) for k in KINDS for d in IN_RANGE_DAYS}
    assert sorted(v["id"] for _, v in copies) == sorted(expected)
    assert all(key == value["id"].encode() for key, value in copies)
    again = await backtest(
        settings,
        _options(watchlists, labels_file, report=tmp_path / "r.html"),
        enricher=replay_enricher,
    )
    assert again.report is not None
    check_corpus_report(again.report)  # the copies carry a fresh record time: out of range
    assert again.report.stats.out_of_range == 14 + 28
    recent = await backtest(
        settings,
        _options(
            watchlists, None, since=parse_time("1h"), until=None, report=tmp_path / "recent.html"
        ),
        enricher=replay_enricher,
    )
    assert recent.report is not None
    assert (recent.report.stats.replayed_skipped, recent.report.stats.articles) == (28, 0)
    assert recent.report.totals.new_matches == 0


async def test_missing_topic_is_a_clear_error_and_is_not_created(
    broker: EmbeddedBroker,
    watchlists: tuple[Path, Path],
    replay_enricher: Any,
    tmp_path: Path,
) -> None:
    """Replaying a topic that does not exist raises TopicNotFound and creates nothing."""
    settings = _settings(broker, tmp_path)
    options = _options(watchlists, None, topic="no-such-topic")
    with pytest.raises(TopicNotFound, match="no-such-topic"):
        await backtest(settings, options, enricher=replay_enricher)
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    await admin.start()
    try:
        assert settings.topic("no-such-topic") not in await admin.list_topics()
    finally:
        await admin.close()


async def _single_partition_topic(broker: EmbeddedBroker, name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()


async def test_embedded_broker_offsets_for_times_answers_are_checked(
    broker: EmbeddedBroker,
) -> None:
    """Whatever the broker answers by time, the check accepts exactly the correct answers."""
    topic = f"ts-{uuid.uuid4().hex[:8]}"
    await _single_partition_topic(broker, topic)
    stamps = [DAY0_MS + i * DAY_MS // 2 for i in range(12)]  # monotonic, two per day
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await producer.start()
    for i, ts in enumerate(stamps):
        await producer.send_and_wait(topic, f"r{i}".encode(), partition=0, timestamp_ms=ts)
    await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    tp = TopicPartition(topic, 0)
    probes = [Probe(o, ts) for o, ts in enumerate(stamps)]
    verdicts = []
    try:
        for since in (stamps[0] - 1, stamps[3], stamps[3] + 1, stamps[-1], stamps[-1] + 1):
            truth = next((o for o, ts in enumerate(stamps) if ts >= since), None)
            found = (await consumer.offsets_for_times({tp: since}))[tp]
            answer = found.offset if found is not None else None
            ok = validate_answer(since, answer, 0, len(stamps), probes) is None
            verdicts.append((since, answer, truth, ok))
            assert ok == (answer == truth or (answer is None and truth is None)), verdicts
    finally:
        await consumer.stop()
    print("offsets_for_times on the embedded broker (since, answer, truth, accepted):", verdicts)


async def test_reader_end_is_the_fetch_high_watermark(broker: EmbeddedBroker) -> None:
    """Records sent as one batch are all read (ListOffsets(latest) alone would stop early)."""
    topic = f"hw-{uuid.uuid4().hex[:8]}"
    await _single_partition_topic(broker, topic)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=50)
    await producer.start()
    sends = [await producer.send(topic, f"v{i}".encode(), partition=0) for i in range(20)]
    await asyncio.gather(*sends)
    await producer.stop()
    reader = TopicReader(broker.bootstrap_servers, topic, since_ms=to_epoch_ms(SINCE))
    await reader.start()
    try:
        plan = await reader.plan()
        offsets = [r.offset async for batch in reader.batches() for r in batch.records]
    finally:
        await reader.stop()
    assert (plan[0].end, reader.total) == (20, 20)
    assert offsets == list(range(20))


async def test_labels_from_the_feedback_topic_score_like_the_labels_file(
    corpus_settings: Settings,
    watchlists: tuple[Path, Path],
    labels_file: Path,
    replay_enricher: Any,
    tmp_path: Path,
) -> None:
    """Feedback records equivalent to the labels file give the same precision/recall per rule.

    The topic also holds a mute (no relevance label) and an earlier judgement that a later
    one overrides: neither changes the scores.
    """
    from replay_corpus import LABELS

    from schemas.records import Feedback
    from streams.kafka.codec import dumps
    from streams.testing import aproduce_values

    def feedback(label: dict[str, Any], at: float, verdict: str | None = None) -> Feedback:
        return Feedback(
            alert_id=f"al-{label['id']}",
            rule_id=label["rule"],
            article_id=label["id"],
            story_id="st",
            verdict=verdict or ("relevant" if label["relevant"] else "not_relevant"),  # type: ignore[arg-type]
            user_id="U1",
            at=at,
            watchlist_version="v",
        )

    first = LABELS[0]
    records = [feedback(first, 1.0, "relevant" if not first["relevant"] else "not_relevant")]
    records += [feedback(label, 10.0 + i) for i, label in enumerate(LABELS)]
    records.append(feedback(first, 500.0, "mute_story"))
    await aproduce_values(
        corpus_settings.bootstrap_servers,
        corpus_settings.topics.feedback,
        [(r.alert_id.encode(), dumps(r)) for r in records],
    )
    by_file = await backtest(
        corpus_settings,
        _options(watchlists, labels_file, report=tmp_path / "file.html"),
        enricher=replay_enricher,
    )
    by_topic = await backtest(
        corpus_settings,
        _options(watchlists, None, labels_from_topic=True, report=tmp_path / "topic.html"),
        enricher=replay_enricher,
    )
    assert by_file.report is not None and by_topic.report is not None
    file_scores = {r.id: (r.new_scores, r.baseline_scores) for r in by_file.report.rules}
    topic_scores = {r.id: (r.new_scores, r.baseline_scores) for r in by_topic.report.rules}
    assert topic_scores == file_scores
    assert any(new is not None and new.labelled for new, _ in topic_scores.values())
    assert by_topic.report.labels is not None
    assert by_topic.report.labels.path == f"topic {corpus_settings.topics.feedback}"
