"""Pydantic models of every record that travels on a newswatch topic.

These models are the data contract between producers, the enrich+match agent, the alert
agent and any foreign client (kcat, a Java producer). ``schemas/*.schema.json`` is generated
from them (``python -m schemas.export``) and checked against them by the tests.

Topic → model:

    articles.raw        RawArticle
    articles.enriched   EnrichedArticle (with its matches)
    alerts              AlertRecord
    alerts.outcomes     OutcomeRecord (what became of every match and every delivery)
    articles.raw.dlq    DeadLetter
    alerts.dlq          DeadLetter
    alerts.silences     Silence (key: silence id; the latest record of an id is its state)
    alerts.feedback     Feedback (key: alert id)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

__all__ = [
    "MAX_ID_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_TITLE_CHARS",
    "AlertRecord",
    "ArticleRef",
    "DeadLetter",
    "EnrichedArticle",
    "Entity",
    "Evidence",
    "Feedback",
    "Lemma",
    "Match",
    "OutcomeRecord",
    "RawArticle",
    "Sentence",
    "Silence",
    "Span",
    "Verdict",
]

MAX_ID_CHARS = 512
MAX_TITLE_CHARS = 2_000
#: Hard schema bound on an article body. Enrichment truncates earlier (configurable).
MAX_TEXT_CHARS = 5_000_000


class _Record(BaseModel):
    """Base of every record: unknown fields ignored; booleans are strict (``"yes"`` is no bool)."""

    model_config = ConfigDict(extra="ignore", frozen=False, str_strip_whitespace=False)


class RawArticle(_Record):
    """An article as produced to ``articles.raw`` (and as read from JSONL input)."""

    id: str = Field(min_length=1, max_length=MAX_ID_CHARS, description="stable article id")
    title: str = Field(max_length=MAX_TITLE_CHARS)
    text: str = Field(max_length=MAX_TEXT_CHARS, description="body: plain text or HTML")
    url: str | None = Field(default=None, max_length=4_096)
    source: str | None = Field(default=None, max_length=512)
    published_at: datetime | None = None
    published_at_is_fetch_time: bool = Field(
        default=False,
        description="published_at is the time the feed was fetched (the source gave no date)",
    )
    language: str | None = Field(
        default=None, max_length=16, description="ISO 639-1 code; trusted when present"
    )
    content_type: Literal["text", "html"] = "text"
    replayed: StrictBool = Field(default=False, description="re-produced by `newswatch replay`")
    ingested_at: float | None = Field(default=None, description="epoch seconds at produce time")
    text_origin: Literal["page", "feed_content", "feed_summary"] | None = Field(
        default=None,
        description="where the body came from: a fetched page, the feed's full content or "
        "only the feed's summary (then the enriched record is flagged partial)",
    )


class ArticleRef(_Record):
    """The identifying part of an article, carried by alerts."""

    id: str
    title: str
    url: str | None = None
    source: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    replayed: StrictBool = False
    ingested_at: float | None = Field(
        default=None, description="epoch seconds the article entered articles.raw"
    )
    partial_text: str | None = Field(
        default=None,
        description="why the body looks truncated (paywall marker, feed summary only, ends "
        "mid-sentence, teaser length); None when it looks whole",
    )


class Span(_Record):
    """A half-open character range ``[start, end)`` in the clean text."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Sentence(Span):
    """A sentence and the index of the paragraph that holds it."""

    paragraph: int = Field(ge=0)


class Lemma(Span):
    """A token whose lemma differs from its casefolded surface form."""

    lemma: str


class Entity(Span):
    """A named entity found by the spaCy model or by the watch-list EntityRuler."""

    text: str
    label: str
    sentence: int = Field(ge=-1, description="index into sentences, -1 if unknown")
    origin: Literal["model", "ruler"]


class Evidence(_Record):
    """Why one condition of a rule held: what matched, where, in which sentence."""

    condition: str = Field(description="e.g. 'entity:alibaba', 'concept:espionage', 'term:x'")
    term: str = Field(description="the watch-list term or alias that matched")
    surface: str = Field(description="the text as it stands in the article")
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    sentence: int = Field(ge=-1)
    paragraph: int = Field(ge=-1)
    snippet: str = Field(description="the sentence that holds the hit")


def _default_group_by() -> list[Literal["url", "text", "entities"]]:
    return ["url", "text"]


class Match(_Record):
    """One (article, rule) match with its evidence."""

    rule_id: str
    rule_title: str
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    article_id: str
    watchlist_version: str
    channels: list[str] = Field(default_factory=list)
    throttle_window_s: float | None = None
    group_by: list[Literal["url", "text", "entities"]] = Field(
        default_factory=_default_group_by,
        description="the rule's story grouping (watch-list ``group_by``)",
    )
    evidence: list[Evidence] = Field(default_factory=list)
    entities: list[str] = Field(
        default_factory=list, description="ids of the watch-list entities that matched"
    )


class EnrichedArticle(_Record):
    """The output of enrichment and matching, produced to ``articles.enriched``."""

    article: ArticleRef
    language: str
    language_confidence: float = Field(ge=0.0, le=1.0)
    clean_text: str
    paragraphs: list[Span] = Field(default_factory=list)
    sentences: list[Sentence] = Field(default_factory=list)
    lemmas: list[Lemma] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    truncated: StrictBool = False
    original_chars: int = Field(default=0, ge=0)
    pipeline: str = Field(default="", description="spaCy pipeline used: name, path or 'blank:xx'")
    matches: list[Match] = Field(default_factory=list)
    watchlist_version: str = ""
    timings_ms: dict[str, float] = Field(default_factory=dict)


class AlertRecord(_Record):
    """An alert decided by the alert agent, produced to ``alerts`` before delivery."""

    alert_id: str = Field(description="deterministic: hash of rule id + story id")
    kind: Literal["new", "update"] = "new"
    rule_id: str
    rule_title: str
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    story_id: str
    article: ArticleRef
    evidence: list[Evidence] = Field(default_factory=list)
    related: list[ArticleRef] = Field(
        default_factory=list, description="later reports of the same story (updates)"
    )
    channels: list[str] = Field(default_factory=list)
    watchlist_version: str
    created_at: float
    ingested_at: float | None = None
    silenced_by: str | None = Field(
        default=None,
        description="id of the silence (story mute or rule snooze) that held this alert back: "
        "recorded on `alerts`, never delivered",
    )


class DeadLetter(_Record):
    """A record that could not be processed, with the reason and where it came from."""

    reason: str
    error: str = Field(description="error class name")
    source_topic: str
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    value: str | None = Field(default=None, description="original value (maybe cut)")
    value_encoding: Literal["utf-8", "base64"] = "utf-8"
    value_bytes: int = Field(default=0, ge=0, description="size of the original value")
    value_truncated: StrictBool = False
    value_sha256: str | None = None
    channel: str | None = Field(default=None, description="for alerts.dlq: the channel")
    retriable: StrictBool = False
    failed_at: float
    extra: dict[str, Any] = Field(default_factory=dict)


class OutcomeRecord(_Record):
    """What became of one match (``stage="decide"``) or one channel delivery (``"deliver"``).

    Published to ``alerts.outcomes`` by the decide stage for every match it decides (also
    throttled, duplicate, stale ones) and by the deliver stages for every channel of a lane,
    so ``newswatch audit`` can account for every match. Nothing consumes it in the worker.
    """

    stage: Literal["decide", "deliver"]
    article_id: str = Field(description="the matched article (for deliveries: the alert's)")
    rule_id: str
    action: str = Field(
        description="decide: new, update, throttled, duplicate, stale, failed, …; "
        "deliver: sent, queued, skipped, reconciled, dead_lettered, unconfigured, stale"
    )
    reason: str = Field(default="", description="e.g. 'rule limit', 'max updates per story'")
    alert_id: str | None = None
    alert_kind: Literal["new", "update"] | None = None
    story_id: str | None = None
    channel: str | None = Field(default=None, description="deliver: the channel spec")
    channels: list[str] = Field(default_factory=list, description="decide: the rule's channels")
    replayed: StrictBool = False
    at: float = Field(description="epoch seconds of the decision or delivery")
    source_topic: str | None = None
    partition: int | None = None
    offset: int | None = None


class Silence(_Record):
    """A story mute or rule snooze on ``alerts.silences``; the latest record of an id wins.

    ``kind="rule"`` silences every alert of ``rule_id``; ``kind="story"`` silences the alerts
    (new and updates) of one story of that rule. A silence holds while
    ``starts_at <= now < ends_at``; expiring it early re-publishes it with ``ends_at = now``.
    """

    id: str = Field(min_length=1, max_length=128, description="silence id (the record key)")
    kind: Literal["rule", "story"]
    rule_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    story_id: str | None = Field(
        default=None, max_length=MAX_ID_CHARS, description="for kind=story: the muted story"
    )
    starts_at: float = Field(description="epoch seconds the silence begins")
    ends_at: float = Field(description="epoch seconds the silence ends (expiry)")
    reason: str = Field(default="", max_length=2_000)
    created_by: str = Field(default="", max_length=256, description="Slack user id or 'cli:<user>'")
    created_at: float


Verdict = Literal["relevant", "not_relevant", "mute_story", "snooze_rule"]


class Feedback(_Record):
    """One judgement of an alert by the person who received it (``alerts.feedback``)."""

    alert_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    rule_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    article_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    story_id: str = Field(max_length=MAX_ID_CHARS)
    verdict: Verdict
    user_id: str = Field(max_length=256, description="Slack user id of who clicked")
    at: float = Field(description="epoch seconds of the judgement")
    watchlist_version: str = Field(max_length=256)
    source: Literal["slack", "cli", "email"] = "slack"
    silence_id: str | None = Field(
        default=None, description="the silence created by mute_story / snooze_rule"
    )
