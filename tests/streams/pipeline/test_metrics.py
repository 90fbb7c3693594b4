"""The worker's Prometheus metrics: one private registry, one method per event."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from streams.pipeline.metrics import METRIC_NAMES, Metrics


@pytest.fixture
def make_metrics() -> Callable[..., Metrics]:
    """Factory: a fresh Metrics with a fixed clock (1000.0 unless given)."""

    def make(now: float = 1000.0) -> Metrics:
        return Metrics(clock=lambda: now)

    return make


def families(metrics: Metrics) -> dict[str, object]:
    """The rendered text parsed back into metric families, by name."""
    return {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}


def test_each_metrics_object_has_its_own_registry(make_metrics) -> None:
    """Counting on one Metrics leaves another and the global registry untouched."""
    first, second = make_metrics(), make_metrics()
    first.rule_matched("alibaba-espionage")
    assert first.sample("newswatch_matches_total", rule="alibaba-espionage") == 1
    assert second.sample("newswatch_matches_total", rule="alibaba-espionage") is None
    assert (
        REGISTRY.get_sample_value("newswatch_matches_total", {"rule": "alibaba-espionage"}) is None
    )


@pytest.mark.parametrize(
    ("event", "sample", "labels", "expected"),
    [
        (lambda m: m.article_ingested("feed", 3), "newswatch_articles_ingested_total",
         {"source": "feed"}, 3),
        (lambda m: m.article_enriched(0.2, "de"), "newswatch_articles_enriched_total",
         {"language": "de"}, 1),
        (lambda m: m.article_enriched(0.2, "de", confidence=0.42),
         "newswatch_language_confidence_bucket", {"le": "0.5"}, 1),
        (lambda m: m.record_processed("articles.raw", 5), "newswatch_records_processed_total",
         {"topic": "articles.raw"}, 5),
        (lambda m: m.rule_matched("r1"), "newswatch_matches_total", {"rule": "r1"}, 1),
        (lambda m: m.dead_lettered("articles.raw", "DecodeError"), "newswatch_dead_letters_total",
         {"topic": "articles.raw", "reason": "DecodeError"}, 1),
        (lambda m: m.alert_sent("slack"), "newswatch_alerts_total",
         {"channel": "slack", "outcome": "sent"}, 1),
        (lambda m: m.alert_grouped("slack"), "newswatch_alerts_total",
         {"channel": "slack", "outcome": "grouped"}, 1),
        (lambda m: m.alert_throttled("email"), "newswatch_alerts_total",
         {"channel": "email", "outcome": "throttled"}, 1),
        (lambda m: m.alert_failed("email"), "newswatch_alerts_total",
         {"channel": "email", "outcome": "failed"}, 1),
        (lambda m: m.alert_retried("slack"), "newswatch_alerts_total",
         {"channel": "slack", "outcome": "retried"}, 1),
        (lambda m: m.set_consumer_lag("articles.raw", 2, 17), "newswatch_consumer_lag",
         {"topic": "articles.raw", "partition": "2"}, 17),
        (lambda m: m.watchlist_reload_failed(), "newswatch_watchlist_reloads_total",
         {"outcome": "error"}, 1),
        (lambda m: m.fetch_refused("private"), "newswatch_fetch_refused_total",
         {"reason": "private"}, 1),
    ],
)  # fmt: skip
def test_event_method_moves_its_sample(make_metrics, event, sample, labels, expected) -> None:
    """Each named method changes exactly the sample it names."""
    metrics = make_metrics()
    event(metrics)
    assert metrics.sample(sample, **labels) == expected


def test_enrich_latency_lands_in_histogram_buckets(make_metrics) -> None:
    """Latencies are counted in the right cumulative buckets, with sum and count."""
    metrics = make_metrics()
    for seconds in (0.003, 0.2, 40.0):
        metrics.article_enriched(seconds, "en")
    bucket = "newswatch_enrich_seconds_bucket"
    assert metrics.sample(bucket, language="en", le="0.005") == 1
    assert metrics.sample(bucket, language="en", le="0.25") == 2
    assert metrics.sample(bucket, language="en", le="30.0") == 2
    assert metrics.sample(bucket, language="en", le="+Inf") == 3
    assert metrics.sample("newswatch_enrich_seconds_count", language="en") == 3
    assert metrics.sample("newswatch_enrich_seconds_sum", language="en") == pytest.approx(40.203)


def test_alert_outcomes_are_counted_per_channel(make_metrics) -> None:
    """Outcomes on one channel do not leak into another channel's series."""
    metrics = make_metrics()
    metrics.alert_sent("slack")
    metrics.alert_sent("slack")
    metrics.alert_sent("email")
    assert metrics.sample("newswatch_alerts_total", channel="slack", outcome="sent") == 2
    assert metrics.sample("newswatch_alerts_total", channel="email", outcome="sent") == 1
    assert metrics.sample("newswatch_alerts_total", channel="email", outcome="failed") is None


def test_consumer_lag_is_never_negative_and_revoked_partitions_disappear(make_metrics) -> None:
    """A negative lag reads 0; retain_partitions drops series of revoked partitions."""
    metrics = make_metrics()
    metrics.set_consumer_lag("articles.raw", 0, -4)
    metrics.set_consumer_lag("articles.raw", 1, 9)
    metrics.set_consumer_lag("alerts", 0, 2)
    assert metrics.sample("newswatch_consumer_lag", topic="articles.raw", partition="0") == 0
    metrics.retain_partitions([("articles.raw", 1)])
    assert metrics.sample("newswatch_consumer_lag", topic="articles.raw", partition="1") == 9
    assert metrics.sample("newswatch_consumer_lag", topic="articles.raw", partition="0") is None
    assert metrics.sample("newswatch_consumer_lag", topic="alerts", partition="0") is None


def test_watchlist_info_shows_only_the_active_version(make_metrics) -> None:
    """A new version replaces the old info series; loads and the load time are recorded."""
    metrics = make_metrics(now=1234.5)
    metrics.watchlist_loaded("sha256:aaa", rules=3)
    metrics.watchlist_loaded("sha256:bbb", rules=4)
    info = "newswatch_watchlist_info"
    assert metrics.sample(info, version="sha256:bbb", rules="4") == 1
    assert metrics.sample(info, version="sha256:aaa", rules="3") is None
    assert metrics.sample("newswatch_watchlist_reloads_total", outcome="ok") == 2
    assert metrics.sample("newswatch_watchlist_loaded_timestamp_seconds") == 1234.5


def test_render_is_parseable_and_lists_every_family(make_metrics) -> None:
    """After one event of each kind the text exposition parses and holds every family."""
    metrics = make_metrics()
    metrics.article_ingested("file")
    metrics.article_enriched(0.1, "de")
    metrics.record_processed("articles.raw")
    metrics.rule_matched('quote"and\nnewline')
    metrics.alert_sent("slack")
    metrics.dead_lettered("alerts", "SchemaError")
    metrics.set_consumer_lag("articles.raw", 0, 1)
    metrics.watchlist_loaded("v1")
    metrics.fetch_refused("timeout")
    parsed = families(metrics)
    assert set(METRIC_NAMES) <= set(parsed)
    matches = parsed["newswatch_matches"]
    assert [s.labels["rule"] for s in matches.samples if s.name.endswith("_total")] == [  # type: ignore[attr-defined]
        'quote"and\nnewline'
    ]
