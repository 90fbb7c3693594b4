"""The JSON report of one ``bench e2e`` phase, from what the phase observed (pure).

Inputs: the articles of the phase, when each was produced, the Slack posts mapped to
article indexes (with their receive times), the enriched and alert records read back from
their topics, 1-second samples (consumer lag, worker RSS) and CPU counters before/after.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from streams.tools.bench._stats import slope, summary
from streams.tools.bench.corpus import BenchArticle

__all__ = [
    "Observed",
    "Phase",
    "alert_parser",
    "enriched_parser",
    "post_articles",
    "report_phase",
]

_ENRICH_PARTS = ("clean", "language", "nlp", "record")


@dataclass
class Phase:
    """One measured stretch: ``articles`` produced at ``rate`` (None: all at once)."""

    name: str
    articles: list[BenchArticle]
    rate: float | None
    samples: list[dict[str, Any]] = field(default_factory=list)
    t_start: float = 0.0
    t_produced: float = 0.0
    t_done: float = 0.0
    drained: bool = False
    lag_end: int | None = None
    cpu_before: dict[str, float | None] = field(default_factory=dict)
    cpu_after: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Observed:
    """What the run saw so far, across phases (indexes are article indexes)."""

    sent_at: dict[int, float] = field(default_factory=dict)
    posts: dict[int, list[float]] = field(default_factory=dict)
    unattributed: int = 0
    rejected: int = 0
    peak_rss_mb: list[float | None] = field(default_factory=list)


def post_articles(params: dict[str, Any], pattern: Any) -> list[int]:
    """Article indexes a ``chat.postMessage`` is about: the one its text names (an update
    names the new report; the story's first report appears only in its blocks)."""
    text = str(params.get("text") or "")
    return sorted({int(t) for t in pattern.findall(text)})


def _index_of(article_id: str, tag: str) -> int | None:
    prefix = f"{tag}-"
    if not article_id.startswith(prefix):
        return None
    try:
        return int(article_id[len(prefix) :])
    except ValueError:
        return None


def enriched_parser(tag: str) -> Any:
    """Kafka message of ``articles.enriched`` → ``(index, kafka time s, timings_ms)`` or None."""
    import orjson

    def parse(msg: Any) -> tuple[int, float, dict[str, float]] | None:
        try:
            value = orjson.loads(msg.value)
            index = _index_of(value["article"]["id"], tag)
        except (ValueError, KeyError, TypeError):
            return None
        if index is None:
            return None
        return index, msg.timestamp / 1000.0, value.get("timings_ms", {})

    return parse


def alert_parser(tag: str) -> Any:
    """Kafka message of ``alerts`` → ``(index, created_at, record)`` or None."""
    import orjson

    def parse(msg: Any) -> tuple[int, float, dict[str, Any]] | None:
        try:
            value = orjson.loads(msg.value)
            article = value["article"]  # an update's article is the new report
            index = _index_of(article["id"], tag)
        except (ValueError, KeyError, TypeError, IndexError):
            return None
        if index is None:
            return None
        return index, float(value["created_at"]), value

    return parse


def _render_ms(alerts: list[dict[str, Any]]) -> list[float]:
    """Time the worker's Slack rendering of (up to 200 of) the phase's alerts, here."""
    from alerts.render import Renderer
    from schemas.records import AlertRecord

    renderer = Renderer()
    records = [AlertRecord.model_validate(a) for a in alerts[:200]]
    if records:
        renderer.render(records[0], "slack")  # template compilation is not per alert
    out = []
    for record in records:
        t0 = time.perf_counter()
        renderer.render(record, "slack")
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _ms(values: list[float]) -> dict[str, Any]:
    return summary([v * 1000.0 for v in values])


def _cpu(phase: Phase, pids: int) -> tuple[dict[str, float], float]:
    elapsed = phase.t_done - phase.t_start
    pct = {}
    for name, after in phase.cpu_after.items():
        before = phase.cpu_before.get(name)
        if after is not None and before is not None and elapsed > 0:
            pct[name] = round(100.0 * (after - before) / elapsed, 1)
    worker_cpu = sum(
        (phase.cpu_after.get(name) or 0.0) - (phase.cpu_before.get(name) or 0.0)
        for j in range(pids)
        for name in (f"worker-{j}", f"worker-{j}:children")
    )
    return pct, worker_cpu


def _memory(phase: Phase, j: int, peak: float | None) -> dict[str, Any]:
    series = [
        (s["t"] - phase.t_start, s["rss"][j]) for s in phase.samples if s["rss"][j] is not None
    ]
    values = [v for _, v in series]
    settled = [v for t, v in series if t >= 60.0]

    def drift(vals: list[float]) -> float | None:
        return round(100.0 * (vals[-1] - vals[0]) / vals[0], 2) if len(vals) > 1 else None

    step = max(1, len(series) // 40)
    return {
        "peak_rss_mb": peak,
        "rss_first_mb": values[0] if values else None,
        "rss_last_mb": values[-1] if values else None,
        "rss_min_mb": min(values) if values else None,
        "rss_max_mb": max(values) if values else None,
        "rss_drift_pct": drift(values),
        "rss_drift_pct_after_60s": drift(settled),
        "rss_series_mb": [[round(t), v] for t, v in series[::step]],
    }


def report_phase(
    phase: Phase, seen: Observed, enriched: list[Any], alerts: list[Any]
) -> dict[str, Any]:
    """The JSON-ready report of ``phase`` (records of other phases are ignored)."""
    indexes = {a.index for a in phase.articles}
    expected = {a.index for a in phase.articles if a.rule is not None}
    enr = {i: (ts, timings) for i, ts, timings in enriched if i in indexes}
    alert_at = {i: (created, value) for i, created, value in alerts if i in indexes}
    n = len(phase.articles)
    wall = phase.t_produced - phase.t_start
    done_ts = sorted(ts for ts, _ in enr.values())
    span = (done_ts[-1] - done_ts[0]) if len(done_ts) > 1 else 0.0
    throughput = (len(done_ts) - 1) / span if span > 0 else None

    first_post = {i: min(seen.posts[i]) for i in expected if seen.posts.get(i)}
    e2e = [first_post[i] - seen.sent_at[i] for i in first_post]
    to_enriched = [enr[i][0] - seen.sent_at[i] for i in enr]
    enriched_to_alert = [alert_at[i][0] - enr[i][0] for i in alert_at if i in enr]
    alert_to_slack = [first_post[i] - alert_at[i][0] for i in first_post if i in alert_at]
    stage = {
        k: [t[k] for _, t in enr.values() if k in t] for k in ("total", "match", *_ENRICH_PARTS)
    }

    posted = {i: len(seen.posts.get(i, [])) for i in expected}
    window = [s for s in phase.samples if phase.t_start + 2 <= s["t"] <= phase.t_produced]
    lag_slope = slope([(s["t"], s["lag"]) for s in window if s["lag"] >= 0])
    at_end = [s["lag"] for s in phase.samples if s["t"] <= phase.t_produced]
    offered = n / wall if wall > 0 else None
    keeps_up = bool(phase.drained and offered and lag_slope <= max(2.0, 0.03 * offered))
    cpu, worker_cpu = _cpu(phase, len(seen.peak_rss_mb))
    return {
        "phase": phase.name,
        "articles": n,
        "matching_articles": len(expected),
        "rate_requested": phase.rate if phase.rate else "backlog",
        "rate_offered_articles_per_s": round(offered, 1) if offered else None,
        "throughput_articles_per_s": round(throughput, 1) if throughput else None,
        "keeps_up": keeps_up,
        "processed": len(enr),
        "duration_s": round(phase.t_done - phase.t_start, 1),
        "consumer_lag": {
            "max": max((s["lag"] for s in phase.samples), default=None),
            "at_produce_end": at_end[-1] if at_end else None,
            "slope_per_s": round(lag_slope, 2),
            "end": phase.lag_end,
            "drained": phase.drained,
        },
        "latency_ms": {
            "end_to_end": _ms(e2e),
            "produce_to_enriched": _ms(to_enriched),
            "enriched_to_alert_decided": _ms(enriched_to_alert),
            "alert_decided_to_slack": _ms(alert_to_slack),
        },
        "stage_ms": {
            "enrich": summary(stage["total"], digits=2),
            "enrich_parts_mean": {
                k: round(sum(stage[k]) / len(stage[k]), 3) for k in _ENRICH_PARTS if stage[k]
            },
            "match": summary(stage["match"], digits=2),
            "render": summary(_render_ms([v for _, v in alert_at.values()]), digits=2),
            "deliver": "see latency_ms.alert_decided_to_slack (render + pacing + HTTP)",
        },
        "slack": {
            "expected": len(expected),
            "posted": sum(1 for c in posted.values() if c >= 1),
            "missing": sum(1 for c in posted.values() if c == 0),
            "duplicates": sum(1 for c in posted.values() if c > 1),
            "for_non_matching": sum(1 for i in seen.posts if i in indexes and i not in expected),
            "unattributed": seen.unattributed,
            "rejected": seen.rejected,
        },
        "cpu_pct": cpu,
        "worker_cpu_ms_per_article": round(1000.0 * worker_cpu / len(enr), 2) if enr else None,
        "workers": [_memory(phase, j, peak) for j, peak in enumerate(seen.peak_rss_mb)],
    }
