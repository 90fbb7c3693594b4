"""The labelled replay corpus: two watch-lists and articles spread over six days.

The corpus is built so every figure can be worked out by hand. Kinds of article (one per
kind per day, days 0..5, ``since`` = day 1, ``until`` = day 5 → days 1..4 are in range):

    SAME    Alibaba + espionage in one paragraph  → both lists match alibaba-espionage
    SPLIT   Alibaba and espionage in two paragraphs → NEW only (within: article)  = gained
    NOVEL   a thriller novel about Alibaba espionage → BASELINE only (NEW: none fiction) = lost
    HUAWEI  Huawei only                             → BASELINE rule huawei (removed in NEW)
    TIKTOK  TikTok + user data                      → NEW rule tiktok-data (added)
    PLAIN   nothing                                 → no match
    SNOOP   Alibaba snooping (no espionage term)    → no match; labelled relevant (FN)
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from schemas.records import RawArticle

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
DAY0 = datetime(2024, 3, 1, tzinfo=UTC)
DAY0_MS = int(DAY0.timestamp() * 1000)
DAYS = range(6)
SINCE = datetime(2024, 3, 2, tzinfo=UTC)  # day 1
UNTIL = datetime(2024, 3, 6, tzinfo=UTC)  # day 5, exclusive
IN_RANGE_DAYS = (1, 2, 3, 4)

BASELINE_YAML = """\
version: 1
include: [espionage]
entities:
  alibaba: {aliases: [Alibaba, Cainiao]}
  huawei: {aliases: [Huawei]}
rules:
  - id: alibaba-espionage
    title: Alibaba linked to espionage
    severity: high
    all: [entity:alibaba, concept:espionage]
    within: paragraph
  - id: huawei
    title: Huawei mentioned
    all: [entity:huawei]
"""

NEW_YAML = """\
version: 1
include: [espionage]
entities:
  alibaba: {aliases: [Alibaba, Cainiao]}
  tiktok: {aliases: [TikTok]}
concepts:
  fiction: {terms: {en: [novel, thriller]}}
  data: {terms: {en: [user data, data transfer]}}
rules:
  - id: alibaba-espionage
    title: Alibaba linked to espionage
    severity: high
    all: [entity:alibaba, concept:espionage]
    none: [concept:fiction]
    within: article
  - id: tiktok-data
    title: TikTok and user data
    all: [entity:tiktok, concept:data]
    within: sentence
"""

TEXTS = {
    "SAME": "Alibaba faces espionage claims at its Liege hub.",
    "SPLIT": "Alibaba opened a logistics hub in Liege.\n\nOfficials fear espionage at the airport.",
    "NOVEL": "A new thriller novel imagines Alibaba espionage at a cargo airport.",
    "HUAWEI": "Huawei unveiled a folding phone in Brussels.",
    "TIKTOK": "TikTok faces questions about user data transfer to China.",
    "PLAIN": "The weather in Liege was sunny and mild.",
    "SNOOP": "Alibaba was accused of snooping on merchants.",
}
KINDS = tuple(TEXTS)
#: a title that must stay data in every report (it is on a gained article)
HOSTILE_TITLE = "<script>alert('x')</script> & <img src=x onerror=alert(1)> SPLIT 2"


def article_id(kind: str, day: int) -> str:
    """The id of the article of ``kind`` on ``day``."""
    return f"{kind}-{day}"


def timestamp_ms(kind: str, day: int) -> int:
    """Record timestamp of an article: its day, at an hour given by its kind."""
    return DAY0_MS + day * DAY_MS + (KINDS.index(kind) + 1) * HOUR_MS


def corpus_articles() -> list[tuple[RawArticle, int]]:
    """Every corpus article with its record timestamp (ms)."""
    out = []
    for day in DAYS:
        for kind in KINDS:
            title = HOSTILE_TITLE if (kind, day) == ("SPLIT", 2) else f"{kind.title()} report {day}"
            article = RawArticle(
                id=article_id(kind, day),
                title=title,
                text=TEXTS[kind],
                language="en",
                source=f"source-{kind.lower()}",
            )
            out.append((article, timestamp_ms(kind, day)))
    return out


def ids(kind: str, days: tuple[int, ...] = IN_RANGE_DAYS) -> list[str]:
    """Article ids of ``kind`` on ``days``, in time order."""
    return [article_id(kind, d) for d in days]


_AE = "alibaba-espionage"
LABELS: list[dict[str, Any]] = (
    [{"id": article_id("SAME", d), "rule": _AE, "relevant": True} for d in DAYS]
    + [{"id": article_id("SPLIT", d), "rule": _AE, "relevant": d != 4} for d in DAYS]
    + [{"id": article_id("NOVEL", d), "rule": _AE, "relevant": False} for d in DAYS]
    + [{"id": article_id("SNOOP", d), "rule": _AE, "relevant": True} for d in DAYS]
    + [
        {"id": "PLAIN-1", "rule": _AE, "relevant": False},
        {"id": "TIKTOK-2", "rule": "tiktok-data", "relevant": True},
        {"id": "TIKTOK-3", "rule": "tiktok-data", "relevant": False},
        {"id": "PLAIN-1", "rule": "ghost-rule", "relevant": True, "note": "unknown rule"},
    ]
)


def extra_records() -> list[tuple[bytes | None, bytes, int]]:
    """(key, value, timestamp) of records that must NOT count: a duplicate, a replayed copy,
    an invalid record, all inside the range."""
    same2, _ = next(a for a in corpus_articles() if a[0].id == "SAME-2")
    replayed = RawArticle(
        id="replayed-copy", title="Tiktok copy", text=TEXTS["TIKTOK"], language="en", replayed=True
    )
    in_range = DAY0_MS + 3 * DAY_MS + 30 * 60_000
    return [
        (b"SAME-2", same2.model_dump_json().encode(), in_range),
        (b"replayed-copy", replayed.model_dump_json().encode(), in_range),
        (b"bad", b"this is not json {", in_range),
    ]


def shuffled_records() -> list[tuple[bytes | None, bytes, int]]:
    """Corpus + extras in a fixed shuffled order (record timestamps are not monotonic)."""
    records = [
        (a.id.encode(), a.model_dump_json(exclude_none=True).encode(), ts)
        for a, ts in corpus_articles()
    ]
    records += extra_records()
    random.Random(7).shuffle(records)
    return records


def check_corpus_report(report: Any, *, labelled: bool = True) -> None:
    """Assert every figure of a backtest of the corpus over [SINCE, UNTIL), worked out by hand."""
    ae = report.rule("alibaba-espionage")
    assert (ae.in_new, ae.in_baseline) == (True, True)
    assert (ae.new_matches, ae.baseline_matches, ae.unchanged) == (8, 8, 4)
    assert [h.id for h in ae.gained] == ids("SPLIT")
    assert [h.id for h in ae.lost] == ids("NOVEL")
    assert (ae.gained_count, ae.lost_count) == (4, 4)
    gained = ae.gained[0]
    assert gained.title == "Split report 1" and gained.source == "source-split"
    assert gained.time == "2024-03-02T02:00:00Z"
    assert {e.condition for e in gained.evidence} == {"entity:alibaba", "concept:espionage"}
    assert any("espionage" in e.snippet for e in gained.evidence)
    assert [(d.day, d.new, d.baseline) for d in ae.timeline] == [
        (f"2024-03-0{d + 1}", 2, 2) for d in IN_RANGE_DAYS
    ]
    huawei = report.rule("huawei")
    assert (huawei.in_new, huawei.in_baseline) == (False, True)
    assert (huawei.new_matches, huawei.baseline_matches) == (0, 4)
    assert [h.id for h in huawei.lost] == ids("HUAWEI") and huawei.gained == []
    tiktok = report.rule("tiktok-data")
    assert (tiktok.in_new, tiktok.in_baseline) == (True, False)
    assert [h.id for h in tiktok.gained] == ids("TIKTOK") and tiktok.lost == []
    assert [r.id for r in report.rules] == ["alibaba-espionage", "tiktok-data", "huawei"]
    t = report.totals
    assert (t.new_matches, t.baseline_matches, t.gained, t.lost) == (12, 12, 8, 8)
    assert report.days == [f"2024-03-0{d + 1}" for d in IN_RANGE_DAYS]
    if not labelled:
        return
    new, base = ae.new_scores, ae.baseline_scores
    # NEW: TP = SAME 1-4 + SPLIT 1-3, FP = SPLIT-4, FN = SNOOP 1-4
    assert (new.labelled, new.positives, new.tp, new.fp, new.fn) == (17, 11, 7, 1, 4)
    assert new.precision == 7 / 8 and new.recall == 7 / 11
    assert abs(new.f1 - 14 / 19) < 1e-12
    assert new.unlabelled_matches == 0
    # BASELINE: TP = SAME 1-4, FP = NOVEL 1-4, FN = SPLIT 1-3 + SNOOP 1-4
    assert (base.tp, base.fp, base.fn) == (4, 4, 7)
    assert base.precision == 0.5 and base.recall == 4 / 11
    assert abs(base.f1 - 8 / 19) < 1e-12
    assert [h.id for h in ae.new_false_positives] == ["SPLIT-4"]
    assert [h.id for h in ae.new_false_negatives] == ids("SNOOP")
    assert [h.id for h in ae.baseline_false_positives] == ids("NOVEL")
    assert [h.id for h in ae.baseline_false_negatives] == [  # time order
        "SPLIT-1",
        "SNOOP-1",
        "SPLIT-2",
        "SNOOP-2",
        "SPLIT-3",
        "SNOOP-3",
        "SNOOP-4",
    ]
    assert ae.new_false_negatives[0].title == "Snoop report 1"
    tk = tiktok.new_scores
    assert (tk.tp, tk.fp, tk.fn, tk.precision, tk.recall) == (1, 1, 0, 0.5, 1.0)
    assert tk.unlabelled_matches == 2
    assert tiktok.baseline_scores is None and huawei.new_scores is None
    assert huawei.baseline_scores.labelled == 0 and huawei.baseline_scores.precision is None
    assert report.labels.unknown_rules == ["ghost-rule"]
    assert report.labels.judgements == len(LABELS)
    assert report.labels.used == 17 + 2 + 1  # alibaba-espionage + tiktok-data + ghost-rule
