"""Source health of every producer source (pure parts): the source cap, local file reads,
the worker's view of articles.raw, persisted state of one-shot runs and the merged table."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.records import RawArticle
from schemas.topics import Topics
from streams.ingest.health import FETCH_KINDS, OTHER, HealthPolicy, SourceHealth
from streams.ingest.local_health import LocalRead, record_read
from streams.ingest.sources import SourceMonitor
from streams.pipeline.arrivals import SourceArrivals
from streams.settings import Settings
from streams.tools.sources_cmd import merge_rows

T0 = 1_800_000_000.0


async def _no_send(topic: str, key: bytes, value: bytes) -> None:
    """An ops-alert sink that drops everything."""


def _monitor(path: Path, **policy: int) -> SourceMonitor:
    return SourceMonitor(
        SourceHealth(HealthPolicy(**policy)), _no_send, Topics(), channels=[], path=path
    )


def _article(source: str, n: int) -> RawArticle:
    return RawArticle(id=f"{source}-{n}", title=f"t{n}", text="x", source=source)


def test_sources_past_the_cap_are_counted_as_other_which_never_alerts() -> None:
    """With max_sources=2, a third and fourth source share the row `other`, no incident."""
    health = SourceHealth(HealthPolicy(max_sources=2, min_gaps=1, min_silent_s=1), clock=lambda: T0)
    for i, name in enumerate(["a", "b", "c", "d", "c", "d"]):
        health.new_items(name, 1, now=T0 - 600 + i)
    assert set(health.sources) == {"a", "b", OTHER}
    assert health.sources[OTHER].new_items == 4
    assert [i.source for i in health.evaluate()] == []  # a, b: one item each, no gap yet


def test_interleaved_partitions_keep_the_gaps_and_the_silent_start_from_the_data() -> None:
    """Items seen out of order give the same usual gap and the same incident start (the last
    item) on two trackers, so two workers build the same ops alert id."""
    policy = HealthPolicy(min_gaps=3, silent_factor=2.0, min_silent_s=0)
    times = [T0 + t for t in (0, 60, 120, 180, 240)]
    one = SourceHealth(policy, clock=lambda: T0 + 1_000)
    two = SourceHealth(policy, clock=lambda: T0 + 1_001)
    for t in times:
        one.new_items("s", 1, now=t)
    for t in [times[1], times[0], times[3], times[2], times[4]]:
        two.new_items("s", 1, now=t)
    assert one.sources["s"].usual_gap(3) == two.sources["s"].usual_gap(3) == 60
    (a,), (b,) = one.evaluate(), two.evaluate()
    assert a.kind == b.kind == "silent" and a.since == b.since == times[-1]


def test_a_file_that_fails_is_a_failure_of_the_sources_it_produced(tmp_path: Path) -> None:
    """A good read, then reads with only problems: the file's source counts failures in a row
    with the last problem; a file that never produced is counted under its path."""
    monitor = _monitor(tmp_path / "sources.json", fail_after=2)
    good = LocalRead("/in/wire.jsonl")
    for n in range(3):
        good.article(_article("wire", n), new=True)
    record_read(monitor, good)
    for line in (1, 2):
        record_read(monitor, LocalRead("/in/wire.jsonl", problems=[f"/in/wire.jsonl:{line}:1: x"]))
    record_read(monitor, LocalRead("/in/new.jsonl", problems=["no such file or folder"]))
    rows = monitor.health.sources
    assert rows["wire"].failures == 2 and rows["wire"].last_error == "/in/wire.jsonl:2:1: x"
    assert rows["wire"].items_last_fetch == 3 and rows["wire"].alerts == FETCH_KINDS
    assert rows["/in/new.jsonl"].failures == 1
    assert [(i.source, i.kind) for i in monitor.health.evaluate()] == [("wire", "failing")]


def test_one_shot_runs_carry_failures_and_open_incidents_over(tmp_path: Path) -> None:
    """A monitor restored from the status file continues the streak and does not open the
    incident again; a good read then closes it once."""
    path = tmp_path / "sources.json"
    first = _monitor(path, fail_after=2)
    for _ in range(2):
        record_read(first, LocalRead("/in/f.jsonl", problems=["/in/f.jsonl:1:1: bad"]))
    assert len(first.health.evaluate()) == 1
    first.write()
    second = _monitor(path, fail_after=2)
    second.restore()
    record_read(second, LocalRead("/in/f.jsonl", problems=["/in/f.jsonl:1:1: worse"]))
    assert second.health.sources["/in/f.jsonl"].failures == 3
    assert second.health.evaluate() == []
    ok = LocalRead("/in/f.jsonl")
    ok.article(_article("f-src", 1), new=True)
    record_read(second, ok)
    assert [(i.source, i.recovered) for i in second.health.evaluate()] == [("/in/f.jsonl", True)]


def test_the_worker_counts_each_article_once_and_leaves_feed_silence_to_the_poller(
    tmp_path: Path,
) -> None:
    """Re-produced ids and replayed records are no new items; a feed-origin source raises no
    worker incident; a record without a source is `unknown`."""
    settings = Settings.load(data_dir=tmp_path)
    arrivals = SourceArrivals.from_settings(settings, _no_send, bootstrap="127.0.0.1:9")
    raw = {"id": "a1", "title": "t", "text": "x", "source": "desk", "ingested_at": T0}
    for record in (raw, raw, {**raw, "id": "a2", "replayed": True}, {**raw, "id": "a3"}):
        arrivals.on_value(json.dumps(record).encode(), 0.0)
    arrivals.on_value(json.dumps({**raw, "id": "f1", "text_origin": "feed_summary",
                                  "source": "Wire"}).encode(), 0.0)  # fmt: skip
    arrivals.on_value(json.dumps({"id": "n1", "title": "t", "text": "x"}).encode(), T0)
    arrivals.on_value(b"not json", T0)
    rows = arrivals.health.sources
    assert {name: s.new_items for name, s in rows.items()} == {"desk": 2, "Wire": 1, "unknown": 1}
    assert rows["Wire"].kind == "feed" and rows["Wire"].alerts == frozenset()
    assert rows["desk"].alerts == {"silent", "low_volume"}


def test_the_table_joins_a_feed_url_with_the_worker_row_of_its_source_name() -> None:
    """Fetch fields from the producer's row, arrival fields and the worse status from the
    worker's row; the feed URL row absorbs the worker's row of the feed's title."""
    fetched = [
        {"source": "https://x.test/rss", "status": "healthy", "last_success": 5.0},
        {"source": "desk", "status": "healthy", "consecutive_failures": 0},
    ]
    arrived = [
        {"source": "X News", "status": "healthy", "items_today": 7, "incidents": []},
        {"source": "desk", "status": "silent", "items_today": 0, "incidents": ["silent"]},
        {"source": "kcat-wire", "status": "healthy", "items_today": 3, "incidents": []},
    ]
    rows = {
        r["source"]: r for r in merge_rows(fetched, arrived, {"https://x.test/rss": ["X News"]})
    }
    assert set(rows) == {"https://x.test/rss", "desk", "kcat-wire"}
    assert rows["https://x.test/rss"]["items_today"] == 7
    assert rows["desk"]["status"] == "silent" and rows["desk"]["seen_by"] == "ingest+worker"
