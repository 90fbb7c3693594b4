"""Prometheus metrics of one newswatch process, on a private registry.

Each :class:`Metrics` owns its own ``CollectorRegistry`` (never the global one), so tests and
several apps in one process stay isolated; ``render()`` is what ``/metrics`` serves. Agents
call one named method per event (``metrics.article_enriched(0.12, "de")``) and stay thin.

Exposed series (``METRIC_NAMES`` lists the family names as a scraper sees them)::

    newswatch_articles_ingested_total{source}          articles produced to articles.raw
    newswatch_articles_enriched_total{language}        articles enriched
    newswatch_enrich_seconds{language}                 enrichment latency (histogram)
    newswatch_language_confidence                      language detection confidence (histogram)
    newswatch_records_processed_total{topic}           records consumed by an agent
    newswatch_matches_total{rule}                      rule matches
    newswatch_alerts_total{channel,outcome}            sent|grouped|throttled|failed|retried|
                                                       stale|silenced
    newswatch_silences_active{kind}                    silences holding now (kind: rule|story)
    newswatch_slack_interactions_total{outcome}        Slack button requests: accepted, or
                                                       refused (forged|unsigned|stale|replayed|
                                                       too_large|malformed)
    newswatch_email_feedback_total{outcome}            /email/feedback requests: shown, recorded,
                                                       repeated, or refused (forged|expired|
                                                       malformed|too_large) or failed
    newswatch_feedback_total{rule,verdict}             judgements recorded on alerts.feedback
    newswatch_feedback_precision{rule}                 relevant / (relevant + not_relevant)
                                                       over the rule's last judgements
    newswatch_dead_letters_total{topic,reason}         records sent to <topic>.dlq
    newswatch_consumer_lag{topic,partition}            high-water mark minus committed offset
    newswatch_watchlist_info{version,rules}            active watch-list version (always 1)
    newswatch_watchlist_reloads_total{outcome}         outcome: ok|error
    newswatch_watchlist_loaded_timestamp_seconds       when the active version was loaded
    newswatch_fetch_refused_total{reason}              guarded-client refusals (SSRF guard)
    newswatch_alert_state_keys{table}                  keys held in the alert-state tables
                                                       (table: policy|sent), read at scrape
    newswatch_partial_articles_total{source,reason}    enriched articles that look truncated
    newswatch_source_*{source}                         feed health: consecutive_failures,
                                                       last_success/last_new_item timestamps,
                                                       items_last_fetch, items_today,
                                                       baseline_items_per_day
    newswatch_source_incident{source,kind}             1 while a source incident is open
                                                       (source: first 100 seen, then "other")

Label values must come from bounded sets: a source *kind* (``feed``, ``file``) or a source
name capped by ``source_label`` (``MAX_SOURCE_LABELS``), language
codes, rule ids, channel names, topic names, error class names.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

_LANGUAGE = re.compile(r"[a-z]{2,3}")

__all__ = ["CONTENT_TYPE", "ENRICH_BUCKETS", "METRIC_NAMES", "NAMESPACE", "Metrics"]

NAMESPACE = "newswatch"
CONTENT_TYPE = CONTENT_TYPE_LATEST
ENRICH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ALERT_OUTCOMES = ("sent", "grouped", "throttled", "failed", "retried")
METRIC_NAMES = tuple(
    f"{NAMESPACE}_{name}"
    for name in (
        "articles_ingested",
        "articles_enriched",
        "enrich_seconds",
        "records_processed",
        "matches",
        "alerts",
        "dead_letters",
        "consumer_lag",
        "watchlist_info",
        "watchlist_reloads",
        "watchlist_loaded_timestamp_seconds",
        "fetch_refused",
        "alert_state_keys",
        "partial_articles",
        "silences_active",
        "slack_interactions",
        "email_feedback",
        "feedback",
        "feedback_precision",
    )
)
#: At most this many distinct ``source`` label values on per-source metrics; then "other".
MAX_SOURCE_LABELS = 100
#: Bounded ``reason`` label of newswatch_partial_articles_total (from the reason's text).
PARTIAL_REASONS = {
    "paywall": "paywall",
    "feed summary": "feed_summary",
    "ends with an ellipsis": "ellipsis",
    "ends mid-sentence": "mid_sentence",
    "teaser length": "teaser_length",
}


class Metrics:
    """The metrics of one worker; one method per event, ``render()`` for ``/metrics``."""

    def __init__(
        self, registry: CollectorRegistry | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._clock = clock
        ns, reg = NAMESPACE, self.registry
        self._ingested = Counter(
            "articles_ingested",
            "Articles produced to articles.raw.",
            ["source"],
            namespace=ns,
            registry=reg,
        )
        self._enriched = Counter(
            "articles_enriched", "Articles enriched.", ["language"], namespace=ns, registry=reg
        )
        self._partial = Counter(
            "partial_articles",
            "Enriched articles whose body looks truncated (teaser, paywall, feed summary), "
            f"per source (at most {MAX_SOURCE_LABELS} sources, then 'other') and reason.",
            ["source", "reason"],
            namespace=ns,
            registry=reg,
        )
        self._sources: set[str] = set()
        source_gauges = {
            "consecutive_failures": "Consecutive failed fetches of a feed.",
            "last_success_timestamp_seconds": "When a fetch of the source last succeeded.",
            "last_new_item_timestamp_seconds": "When the source last brought a new item.",
            "items_last_fetch": "Items parsed by the last successful fetch of a feed.",
            "items_today": "New items from the source today (UTC).",
            "baseline_items_per_day": "The source's usual new items per day (0: no baseline).",
        }
        self._source_gauges = {
            key: Gauge(f"source_{key}", doc, ["source"], namespace=ns, registry=reg)
            for key, doc in source_gauges.items()
        }
        self._source_incident = Gauge(
            "source_incident",
            "1 while a source-health incident is open (kind: failing, zero_items, silent, "
            "low_volume).",
            ["source", "kind"],
            namespace=ns,
            registry=reg,
        )
        self._enrich_seconds = Histogram(
            "enrich_seconds",
            "Enrichment latency per article in seconds.",
            ["language"],
            namespace=ns,
            registry=reg,
            buckets=ENRICH_BUCKETS,
        )
        self._language_confidence = Histogram(
            "language_confidence",
            "Language detection confidence per enriched article (1.0 = given by the producer).",
            namespace=ns,
            registry=reg,
            buckets=(0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95, 0.99, 1.0),
        )
        self._processed = Counter(
            "records_processed",
            "Records consumed by an agent.",
            ["topic"],
            namespace=ns,
            registry=reg,
        )
        self._matches = Counter(
            "matches", "Watch-list rule matches.", ["rule"], namespace=ns, registry=reg
        )
        self._alerts = Counter(
            "alerts",
            "Alerts per channel and outcome.",
            ["channel", "outcome"],
            namespace=ns,
            registry=reg,
        )
        self._dead_letters = Counter(
            "dead_letters",
            "Records sent to a dead-letter topic.",
            ["topic", "reason"],
            namespace=ns,
            registry=reg,
        )
        self._lag = Gauge(
            "consumer_lag",
            "High-water mark minus committed offset.",
            ["topic", "partition"],
            namespace=ns,
            registry=reg,
        )
        self._watchlist = Info(
            "watchlist", "The active watch-list version.", namespace=ns, registry=reg
        )
        self._reloads = Counter(
            "watchlist_reloads",
            "Watch-list (re)loads by outcome.",
            ["outcome"],
            namespace=ns,
            registry=reg,
        )
        self._loaded_at = Gauge(
            "watchlist_loaded_timestamp_seconds",
            "Unix time the active watch-list was loaded.",
            namespace=ns,
            registry=reg,
        )
        self._refused = Counter(
            "fetch_refused",
            "URLs refused by the guarded HTTP client.",
            ["reason"],
            namespace=ns,
            registry=reg,
        )
        self._state_keys = Gauge(
            "alert_state_keys",
            "Keys this worker holds in an alert-state table (policy, sent).",
            ["table"],
            namespace=ns,
            registry=reg,
        )
        for table in ("policy", "sent"):
            self._state_keys.labels(table=table).set(0)
        self._pipeline_loads = Gauge(
            "nlp_pipeline_loads",
            "spaCy pipelines this worker built so far: preloads, loads on a first article of "
            "a language, background rebuilds (bounded vocabulary). NaN in process mode.",
            namespace=ns,
            registry=reg,
        )
        self._silences = Gauge(
            "silences_active",
            "Silences holding now, by kind (rule snooze, story mute).",
            ["kind"],
            namespace=ns,
            registry=reg,
        )
        self._interactions = Counter(
            "slack_interactions",
            "Requests to /slack/interactions by outcome (accepted or the refusal reason).",
            ["outcome"],
            namespace=ns,
            registry=reg,
        )
        self._email_feedback = Counter(
            "email_feedback",
            "Requests to /email/feedback by outcome (shown, recorded, repeated, refusal reason).",
            ["outcome"],
            namespace=ns,
            registry=reg,
        )
        self._feedback = Counter(
            "feedback",
            "Judgements recorded on alerts.feedback.",
            ["rule", "verdict"],
            namespace=ns,
            registry=reg,
        )
        self._precision = Gauge(
            "feedback_precision",
            "relevant / (relevant + not_relevant) over the rule's recent judgements.",
            ["rule"],
            namespace=ns,
            registry=reg,
        )
        self._lag_keys: set[tuple[str, str]] = set()

    # --- pipeline ---------------------------------------------------------------------

    def article_ingested(self, source: str = "unknown", count: int = 1) -> None:
        """``count`` articles from a source kind (feed, file, jsonl) were produced."""
        self._ingested.labels(source=source).inc(count)

    def article_enriched(
        self, seconds: float, language: str = "und", confidence: float | None = None
    ) -> None:
        """One article was enriched in ``seconds`` (language detected with ``confidence``)."""
        if not _LANGUAGE.fullmatch(language or ""):  # bounded label values: codes only
            language = "und"
        self._enriched.labels(language=language).inc()
        self._enrich_seconds.labels(language=language).observe(seconds)
        if confidence is not None:
            self._language_confidence.observe(confidence)

    def article_partial(self, source: str | None, reason: str) -> None:
        """An enriched article from ``source`` looks truncated for ``reason``."""
        kind = next((v for k, v in PARTIAL_REASONS.items() if reason.startswith(k)), "other")
        self._partial.labels(source=self.source_label(source), reason=kind).inc()

    def sources_health(
        self, rows: Iterable[dict[str, object]], *, only: Iterable[str] | None = None
    ) -> None:
        """Set the per-source gauges from ``SourceStats.snapshot`` rows (bounded sources).

        ``only``: the row fields to set (a worker knows arrivals, not fetches); a row's
        ``incident_kinds`` limits the incident kinds set the same way.
        """
        only = set(only) if only is not None else None
        fields = {
            "consecutive_failures": "consecutive_failures",
            "last_success_timestamp_seconds": "last_success",
            "last_new_item_timestamp_seconds": "last_new_item",
            "items_last_fetch": "items_last_fetch",
            "items_today": "items_today",
            "baseline_items_per_day": "baseline_per_day",
        }
        all_kinds = ["failing", "zero_items", "silent", "low_volume"]
        for row in rows:
            label = self.source_label(str(row.get("source") or "unknown"))
            for gauge, key in fields.items():
                if only is not None and key not in only:
                    continue
                value = row.get(key)
                number = float(value) if isinstance(value, (int, float)) else 0.0
                self._source_gauges[gauge].labels(source=label).set(number)
            open_kinds = row.get("incidents")
            opened = set(open_kinds) if isinstance(open_kinds, list) else set()
            kinds = row.get("incident_kinds")
            for kind in kinds if isinstance(kinds, list) else all_kinds:
                self._source_incident.labels(source=label, kind=kind).set(kind in opened)

    def source_label(self, source: str | None) -> str:
        """A bounded ``source`` label value: the first sources seen, then ``other``."""
        name = " ".join((source or "unknown").split())[:64] or "unknown"
        if name not in self._sources and len(self._sources) >= MAX_SOURCE_LABELS:
            return "other"
        self._sources.add(name)
        return name

    def record_processed(self, topic: str, count: int = 1) -> None:
        """An agent consumed ``count`` records from ``topic``."""
        self._processed.labels(topic=topic).inc(count)

    def rule_matched(self, rule: str, count: int = 1) -> None:
        """Rule ``rule`` matched ``count`` articles."""
        self._matches.labels(rule=rule).inc(count)

    def dead_lettered(self, topic: str, reason: str = "error") -> None:
        """A record from ``topic`` went to its dead-letter topic (reason: an error kind)."""
        self._dead_letters.labels(topic=topic, reason=reason).inc()

    # --- alerts -----------------------------------------------------------------------

    def alert_sent(self, channel: str) -> None:
        """An alert was delivered to ``channel``."""
        self._alerts.labels(channel=channel, outcome="sent").inc()

    def alert_grouped(self, channel: str) -> None:
        """A report joined an existing story alert (sent as an update) on ``channel``."""
        self._alerts.labels(channel=channel, outcome="grouped").inc()

    def alert_throttled(self, channel: str) -> None:
        """An alert for ``channel`` was held back by the rule's throttle."""
        self._alerts.labels(channel=channel, outcome="throttled").inc()

    def alert_failed(self, channel: str) -> None:
        """Delivery to ``channel`` failed for good (the alert went to alerts.dlq)."""
        self._alerts.labels(channel=channel, outcome="failed").inc()

    def alert_stale(self, channel: str) -> None:
        """A match or alert for ``channel`` was older than the maximum age: not delivered."""
        self._alerts.labels(channel=channel, outcome="stale").inc()

    def alert_silenced(self, channel: str) -> None:
        """An alert for ``channel`` was held back by a story mute or rule snooze."""
        self._alerts.labels(channel=channel, outcome="silenced").inc()

    def alert_reconciled(self, channel: str) -> None:
        """An alert not recorded as sent was found already in ``channel`` (after a crash)."""
        self._alerts.labels(channel=channel, outcome="reconciled").inc()

    def track_pipeline_loads(self, loads: Callable[[], int | None]) -> None:
        """Report ``loads()`` (spaCy pipelines built so far; None: unknown) at every scrape."""

        def read() -> float:
            value = loads()
            return float("nan") if value is None else float(value)

        self._pipeline_loads.set_function(read)

    def track_silences(self, count: Callable[[str], int]) -> None:
        """Report ``count(kind)`` (active silences of ``rule`` / ``story`` kind) at every scrape."""
        for kind in ("rule", "story"):
            self._silences.labels(kind=kind).set_function(_bound(count, kind))

    def slack_interaction(self, outcome: str) -> None:
        """A request to ``/slack/interactions`` was accepted or refused (``outcome``: why)."""
        self._interactions.labels(outcome=outcome).inc()

    def email_feedback(self, outcome: str) -> None:
        """A request to ``/email/feedback`` was answered (``outcome``: what it did or why not)."""
        self._email_feedback.labels(outcome=outcome).inc()

    def feedback_recorded(self, rule: str, verdict: str, precision: float | None) -> None:
        """A judgement of ``rule`` was recorded; ``precision``: the rule's rolling precision."""
        self._feedback.labels(rule=rule, verdict=verdict).inc()
        if precision is not None:
            self._precision.labels(rule=rule).set(precision)

    def alert_retried(self, channel: str) -> None:
        """Delivery to ``channel`` is retried after a 429, 5xx or timeout."""
        self._alerts.labels(channel=channel, outcome="retried").inc()

    # --- consumer lag -----------------------------------------------------------------

    def set_consumer_lag(self, topic: str, partition: int, lag: int) -> None:
        """The lag of one assigned partition (never negative)."""
        key = (topic, str(partition))
        self._lag.labels(*key).set(max(lag, 0))
        self._lag_keys.add(key)

    def retain_partitions(self, assigned: Iterable[tuple[str, int]]) -> None:
        """Drop lag series of partitions no longer assigned (call after a rebalance)."""
        keep = {(topic, str(partition)) for topic, partition in assigned}
        for key in self._lag_keys - keep:
            self._lag.remove(*key)
        self._lag_keys &= keep

    # --- watch-list and fetching ------------------------------------------------------

    def watchlist_loaded(self, version: str, rules: int | None = None) -> None:
        """A watch-list version became active."""
        labels = {"version": version}
        if rules is not None:
            labels["rules"] = str(rules)
        self._watchlist.info(labels)
        self._reloads.labels(outcome="ok").inc()
        self._loaded_at.set(self._clock())

    def watchlist_reload_failed(self) -> None:
        """A watch-list edit was rejected; the last good version stays active."""
        self._reloads.labels(outcome="error").inc()

    def fetch_refused(self, reason: str) -> None:
        """The guarded HTTP client refused a URL (reason code of the refusal)."""
        self._refused.labels(reason=reason).inc()

    def track_state_size(self, table: str, size: Callable[[], int]) -> None:
        """Report ``size()`` (keys in alert-state ``table``) at every scrape."""

        def read() -> float:
            try:
                return float(size())
            except Exception:  # a table not ready yet must not break /metrics
                return float("nan")

        self._state_keys.labels(table=table).set_function(read)

    # --- exposition -------------------------------------------------------------------

    def render(self) -> bytes:
        """All metrics in the Prometheus text exposition format."""
        return generate_latest(self.registry)

    def sample(self, name: str, **labels: str) -> float | None:
        """The current value of one sample (e.g. ``newswatch_alerts_total``), or None."""
        return self.registry.get_sample_value(name, labels)


def _bound(count: Callable[[str], int], kind: str) -> Callable[[], float]:
    """``count(kind)`` as a zero-argument gauge function."""
    return lambda: float(count(kind))
