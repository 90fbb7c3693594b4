"""Turn the engine's state into the report's figures: gained/lost, timeline, precision/recall.

Pure. Definitions (also in the HTML header):

* a *match* is one (article, rule) pair; NEW and BASELINE are compared per rule id;
* *gained* = matched by NEW and not by BASELINE; *lost* = the reverse;
* precision/recall use only labels whose article was replayed: TP = matched and labelled
  relevant, FP = matched and labelled not relevant, FN = labelled relevant and not matched;
  matches without a label are counted apart (``unlabelled_matches``); 0/0 is ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from streams.tools.replay._backtest import (
    BASELINE,
    NEW,
    UNDATED,
    ArticleInfo,
    Backtest,
    day_of,
)
from streams.tools.report.model import (
    ArticleHit,
    DayCount,
    EvidenceBrief,
    LabelsRef,
    RuleReport,
    Scores,
    Totals,
)
from streams.tools.timeparse import format_utc

__all__ = ["MAX_TIMELINE_DAYS", "build_rules", "labels_ref", "score", "timeline_days"]

MAX_TIMELINE_DAYS = 3_660


def _hit(
    info: ArticleInfo | None, article_id: str, evidence: Iterable[EvidenceBrief] = ()
) -> ArticleHit:
    if info is None:  # labelled but its article was not kept (cannot happen for seen ids)
        return ArticleHit(id=article_id, title="", evidence=list(evidence))
    return ArticleHit(
        id=info.id,
        title=info.title,
        source=info.source,
        url=info.url,
        time=format_utc(info.timestamp_ms),
        timestamp_ms=info.timestamp_ms,
        partition=info.partition,
        offset=info.offset,
        evidence=list(evidence),
    )


def _order(engine: Backtest, ids: Iterable[str]) -> list[str]:
    def key(article_id: str) -> tuple[int, int, str]:
        info = engine.info.get(article_id)
        ts = info.timestamp_ms if info is not None else None
        return (0 if ts is not None else 1, ts or 0, article_id)

    return sorted(ids, key=key)


def score(judged: dict[str, bool], predicted: set[str]) -> tuple[Scores, list[str], list[str]]:
    """Scores of ``predicted`` against ``judged`` (only judged ids count); FP and FN ids."""
    tp = sum(1 for i in predicted if judged.get(i) is True)
    fp_ids = [i for i in predicted if judged.get(i) is False]
    fn_ids = [i for i, relevant in judged.items() if relevant and i not in predicted]
    fp, fn = len(fp_ids), len(fn_ids)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    if precision is None or recall is None:
        f1 = None
    else:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    scores = Scores(
        labelled=len(judged),
        positives=sum(1 for v in judged.values() if v),
        tp=tp,
        fp=fp,
        fn=fn,
        precision=precision,
        recall=recall,
        f1=f1,
        unlabelled_matches=sum(1 for i in predicted if i not in judged),
    )
    return scores, fp_ids, fn_ids


def timeline_days(engine: Backtest) -> list[str]:
    """UTC days of the chart: the requested range, else the days that had articles."""
    days = sorted(engine.article_days)
    first = day_of(engine.since_ms) if engine.since_ms is not None else (days[0] if days else None)
    last = (
        day_of(engine.until_ms - 1) if engine.until_ms is not None else (days[-1] if days else None)
    )
    if first is None or last is None:
        return days
    start, stop = date.fromisoformat(first), date.fromisoformat(last)
    if stop < start or (stop - start).days > MAX_TIMELINE_DAYS:
        if not days:
            return []
        start, stop = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    return [(start + timedelta(days=i)).isoformat() for i in range((stop - start).days + 1)]


def _with_undated(engine: Backtest, rule_id: str, days: list[str]) -> list[str]:
    """``days``, plus the ``undated`` bucket last when the rule matched undated articles."""
    undated = engine.per_day[(NEW, rule_id, UNDATED)] + engine.per_day[(BASELINE, rule_id, UNDATED)]
    return [*days, UNDATED] if undated else days


def _rule_meta(compiled: Any) -> dict[str, Any]:
    return {r.id: r for r in compiled.rules} if compiled is not None else {}


def build_rules(engine: Backtest, days: list[str]) -> tuple[list[RuleReport], Totals]:
    """One ``RuleReport`` per rule id of NEW (in order) then of BASELINE only."""
    new_rules, base_rules = _rule_meta(engine.new), _rule_meta(engine.baseline)
    order = list(new_rules) + [r for r in base_rules if r not in new_rules]
    judged_by_rule: dict[str, dict[str, bool]] = {}
    if engine.labels is not None:
        for rule_id, judged in engine.labels.by_rule.items():
            judged_by_rule[rule_id] = {i: v for i, v in judged.items() if engine.analysed(i)}
    reports, totals = [], Totals()
    for rule_id in order:
        meta = new_rules.get(rule_id) or base_rules[rule_id]
        new_hits = engine.hits[NEW].get(rule_id, {})
        base_hits = engine.hits[BASELINE].get(rule_id, {})
        gained = _order(engine, (i for i in new_hits if i not in base_hits))
        lost = _order(engine, (i for i in base_hits if i not in new_hits))
        report = RuleReport(
            id=rule_id,
            title=meta.title,
            severity=meta.severity,
            in_new=rule_id in new_rules,
            in_baseline=rule_id in base_rules,
            new_matches=len(new_hits),
            baseline_matches=len(base_hits),
            unchanged=sum(1 for i in new_hits if i in base_hits),
            gained_count=len(gained),
            lost_count=len(lost),
            gained=[_hit(engine.info.get(i), i, new_hits[i]) for i in gained],
            lost=[_hit(engine.info.get(i), i, base_hits[i]) for i in lost],
            timeline=[
                DayCount(
                    day=d,
                    new=engine.per_day[(NEW, rule_id, d)],
                    baseline=engine.per_day[(BASELINE, rule_id, d)],
                )
                for d in _with_undated(engine, rule_id, days)
            ],
        )
        if engine.labels is not None:
            judged = judged_by_rule.get(rule_id, {})
            for side, hits, present in (
                (NEW, new_hits, report.in_new),
                (BASELINE, base_hits, report.in_baseline),
            ):
                if not present:
                    continue
                scores, fp_ids, fn_ids = score(judged, set(hits))
                fps = [_hit(engine.info.get(i), i, hits[i]) for i in _order(engine, fp_ids)]
                fns = [_hit(engine.info.get(i), i) for i in _order(engine, fn_ids)]
                if side == NEW:
                    report.new_scores, report.new_false_positives = scores, fps
                    report.new_false_negatives = fns
                else:
                    report.baseline_scores, report.baseline_false_positives = scores, fps
                    report.baseline_false_negatives = fns
        totals.new_matches += report.new_matches
        totals.baseline_matches += report.baseline_matches
        totals.gained += report.gained_count
        totals.lost += report.lost_count
        reports.append(report)
    return reports, totals


def labels_ref(engine: Backtest) -> LabelsRef | None:
    """How much of the labels file the replay could use."""
    labels = engine.labels
    if labels is None:
        return None
    known = set(_rule_meta(engine.new)) | set(_rule_meta(engine.baseline))
    used = sum(1 for judged in labels.by_rule.values() for i in judged if engine.analysed(i))
    return LabelsRef(
        path=labels.path,
        judgements=labels.count,
        used=used,
        outside=labels.count - used,
        unknown_rules=sorted(r for r in labels.by_rule if r not in known),
    )
