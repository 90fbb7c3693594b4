"""The backtest report as data: what ``newswatch replay`` writes as JSON and renders as HTML.

One ``BacktestReport`` holds every figure; the JSON file is its ``model_dump`` (full lists),
the HTML report and the terminal table are views of the same object (the HTML cuts long
lists and says so). Pure pydantic: no Kafka, no rendering.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "ArticleHit",
    "BacktestReport",
    "DayCount",
    "EvidenceBrief",
    "LabelsRef",
    "PartitionRead",
    "ReplayStats",
    "RuleReport",
    "Scores",
    "SourceRef",
    "Totals",
    "WatchlistRef",
]

REPORT_SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceBrief(_Model):
    """One condition that fired, with the sentence that holds the hit (cut)."""

    condition: str
    term: str
    surface: str
    snippet: str


class ArticleHit(_Model):
    """An article in a list (gained, lost, false positive/negative) with where it came from."""

    id: str
    title: str
    source: str | None = None
    url: str | None = None
    time: str | None = Field(
        None, description="record time (UTC, ISO 8601) used for --since/--until"
    )
    timestamp_ms: int | None = None
    partition: int | None = None
    offset: int | None = None
    evidence: list[EvidenceBrief] = Field(default_factory=list)


class Scores(_Model):
    """Precision/recall of one rule on one watch-list against the labels seen in the replay.

    Only judged articles count: a match without a label is ``unlabelled_matches``. A ratio
    whose denominator is zero is ``None``.
    """

    labelled: int = Field(description="labels of this rule whose article was replayed")
    positives: int = Field(description="of those, labelled relevant")
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None
    f1: float | None
    unlabelled_matches: int


class DayCount(_Model):
    """Matches of one rule on one UTC day."""

    day: str = Field(description='UTC day YYYY-MM-DD, or "undated": articles without a date')
    new: int
    baseline: int


class RuleReport(_Model):
    """Everything about one rule id (present in NEW, BASELINE or both)."""

    id: str
    title: str
    severity: str = "medium"
    in_new: bool
    in_baseline: bool
    new_matches: int
    baseline_matches: int
    unchanged: int = Field(description="articles matched by both")
    gained_count: int
    lost_count: int
    gained: list[ArticleHit] = Field(default_factory=list, description="NEW matches, not BASELINE")
    lost: list[ArticleHit] = Field(default_factory=list, description="BASELINE matches, not NEW")
    timeline: list[DayCount] = Field(default_factory=list)
    new_scores: Scores | None = None
    baseline_scores: Scores | None = None
    new_false_positives: list[ArticleHit] = Field(default_factory=list)
    new_false_negatives: list[ArticleHit] = Field(default_factory=list)
    baseline_false_positives: list[ArticleHit] = Field(default_factory=list)
    baseline_false_negatives: list[ArticleHit] = Field(default_factory=list)


class WatchlistRef(_Model):
    """Which watch-list a side of the comparison is."""

    path: str
    version: str
    rules: int


class LabelsRef(_Model):
    """The labels file and how much of it the replay could use."""

    path: str
    judgements: int
    used: int = Field(description="labels whose article was replayed")
    outside: int = Field(
        description="labels whose article is not in the replayed input (absent from the "
        "input, outside the time range, or failed enrichment)"
    )
    unknown_rules: list[str] = Field(default_factory=list)


class PartitionRead(_Model):
    """How one partition was read: from where to where, and why from there."""

    partition: int
    start: int
    end: int
    method: Literal["by-time", "scan", "empty", "nothing-in-range"]
    broker_offset: int | None = None
    reason: str = ""


class SourceRef(_Model):
    """Where the articles came from."""

    kind: Literal["topic", "files"]
    topic: str | None = None
    bootstrap: str | None = None
    files: list[str] = Field(default_factory=list)


class ReplayStats(_Model):
    """Counts and speed of the replay."""

    records_read: int = 0
    in_range: int = 0
    articles: int = Field(0, description="distinct articles enriched and matched")
    duplicates: int = 0
    replayed_skipped: int = Field(0, description="records marked replayed: true (not counted)")
    out_of_range: int = 0
    no_timestamp: int = 0
    invalid: int = 0
    enrich_failed: int = 0
    republished: int = 0
    elapsed_s: float = 0.0
    articles_per_s: float = 0.0
    problems: list[str] = Field(default_factory=list, description="first problems, with where")


class Totals(_Model):
    """Sums over all rules."""

    new_matches: int = 0
    baseline_matches: int = 0
    gained: int = 0
    lost: int = 0


class BacktestReport(_Model):
    """The whole backtest: inputs, how they were read, and the figures per rule."""

    schema_version: int = REPORT_SCHEMA_VERSION
    generated_at: str
    source: SourceRef
    since: str | None = None
    until: str | None = None
    new: WatchlistRef
    baseline: WatchlistRef
    labels: LabelsRef | None = None
    stats: ReplayStats = Field(default_factory=ReplayStats)
    partitions: list[PartitionRead] = Field(default_factory=list)
    days: list[str] = Field(default_factory=list, description="UTC days of the timeline")
    totals: Totals = Field(default_factory=Totals)
    rules: list[RuleReport] = Field(default_factory=list)

    def rule(self, rule_id: str) -> RuleReport:
        """The report of one rule id (``KeyError`` if absent)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)
