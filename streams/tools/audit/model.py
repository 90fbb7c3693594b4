"""The audit of every match: join matches, outcomes and dead letters into one verdict each.

Pure: records in, an :class:`AuditReport` out (no Kafka). A match is one record of
``articles.matches`` (one article x one rule); its fate is the decide stage's outcome on
``alerts.outcomes`` and, for alerts, the deliver stages' outcomes per channel and the dead
letters on ``alerts.dlq``. A match with no outcome at all, or an alert a channel never
answered for, is a *defect* (``newswatch audit`` then exits non-zero).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from schemas.records import DeadLetter, OutcomeRecord

__all__ = [
    "DEFECT_STATUSES",
    "AuditEntry",
    "AuditReport",
    "ChannelFate",
    "MatchRef",
    "build_audit",
]

#: Statuses that mean "something was lost": the audit exits non-zero when any is present.
DEFECT_STATUSES = frozenset({"no outcome", "undelivered"})
_SENT = frozenset({"sent", "queued", "skipped", "reconciled"})
_FAILED = frozenset({"dead_lettered", "unconfigured"})


@dataclass(frozen=True)
class MatchRef:
    """One record of ``articles.matches``: where it is and what it says."""

    partition: int
    offset: int
    timestamp_ms: int | None
    article_id: str
    rule_id: str
    title: str
    source: str | None = None
    url: str | None = None
    replayed: bool = False


class ChannelFate(BaseModel):
    """What became of one channel of an alert."""

    channel: str
    result: str = Field(description="sent, queued, skipped, dead_lettered, stale, … or missing")
    at: float | None = None
    reason: str = ""


class AuditEntry(BaseModel):
    """One match and what became of it."""

    article_id: str
    rule_id: str
    title: str
    source: str | None = None
    url: str | None = None
    matched_at: float | None = None
    partition: int
    offset: int
    replayed: bool = False
    status: str = Field(
        description="alerted, grouped, throttled, silenced, stale, dead-lettered, pending, "
        "undelivered or 'no outcome'"
    )
    action: str = Field(default="", description="the decide stage's action")
    reason: str = ""
    story_id: str | None = None
    alert_id: str | None = None
    decided_at: float | None = None
    channels: list[ChannelFate] = Field(default_factory=list)

    @property
    def defect(self) -> bool:
        """True when the match was lost somewhere."""
        return self.status in DEFECT_STATUSES


class AuditReport(BaseModel):
    """Every match in the range, with counts per status, per rule and per reason."""

    since: float | None = None
    generated_at: float
    grace_s: float
    entries: list[AuditEntry] = Field(default_factory=list)
    by_status: dict[str, int] = Field(default_factory=dict)
    by_rule: dict[str, dict[str, int]] = Field(default_factory=dict)
    by_reason: dict[str, int] = Field(default_factory=dict)
    defects: int = 0
    records_read: dict[str, int] = Field(default_factory=dict)


def _decide_status(action: str) -> str:
    return {
        "new": "alerted",
        "update": "grouped",
        "duplicate": "grouped",
        "throttled": "throttled",
        "stale": "stale",
        "silenced": "silenced",
        "failed": "dead-lettered",
    }.get(action, action)


def _channel_fates(
    decision: OutcomeRecord,
    deliveries: dict[tuple[str, str, str], OutcomeRecord],
    letters: dict[tuple[str, str], DeadLetter],
) -> list[ChannelFate]:
    fates = []
    for channel in decision.channels:
        key = (decision.alert_id or "", decision.article_id, channel)
        done = deliveries.get(key)
        letter = letters.get((decision.alert_id or "", channel))
        if done is None:
            if letter is not None:  # the dead letter arrived, its outcome record did not
                fates.append(
                    ChannelFate(
                        channel=channel,
                        result="dead_lettered",
                        at=letter.failed_at,
                        reason=letter.reason,
                    )
                )
            else:
                fates.append(ChannelFate(channel=channel, result="missing"))
            continue
        reason = done.reason or (letter.reason if letter is not None else "")
        fates.append(ChannelFate(channel=channel, result=done.action, at=done.at, reason=reason))
    return fates


def _alert_status(base: str, fates: list[ChannelFate], pending: bool) -> tuple[str, str]:
    results = {fate.result for fate in fates}
    if "missing" in results:
        return ("pending" if pending else "undelivered"), "no delivery outcome for " + ", ".join(
            f.channel for f in fates if f.result == "missing"
        )
    if fates and results <= _FAILED:
        return "dead-lettered", "; ".join(sorted({f.reason for f in fates if f.reason}))
    if fates and results <= {"stale"}:
        return "stale", "max age at delivery"
    return base, ""


def build_audit(
    matches: list[MatchRef],
    outcomes: list[OutcomeRecord],
    letters: list[DeadLetter],
    *,
    matches_topic: str,
    now: float,
    grace_s: float = 120.0,
    since: float | None = None,
    records_read: dict[str, int] | None = None,
) -> AuditReport:
    """Account for every match; those younger than ``grace_s`` may still be in flight."""
    decisions: dict[tuple[str, str, bool], OutcomeRecord] = {}
    deliveries: dict[tuple[str, str, str], OutcomeRecord] = {}
    for record in outcomes:
        if record.stage == "decide":
            decisions[(record.article_id, record.rule_id, record.replayed)] = record
        elif record.channel is not None:
            key = (record.alert_id or "", record.article_id, record.channel)
            previous = deliveries.get(key)
            if previous is None or previous.action not in _SENT:  # a later success wins
                deliveries[key] = record
    by_position: dict[tuple[int, int], DeadLetter] = {}
    by_alert: dict[tuple[str, str], DeadLetter] = {}
    for letter in letters:
        if letter.source_topic == matches_topic and letter.partition is not None:
            by_position[(letter.partition, letter.offset or 0)] = letter
        elif letter.key and letter.channel:
            by_alert[(letter.key, letter.channel)] = letter

    entries: list[AuditEntry] = []
    seen: set[tuple[str, str, bool]] = set()
    for match in sorted(matches, key=lambda m: (m.timestamp_ms or 0, m.partition, m.offset)):
        ident = (match.article_id, match.rule_id, match.replayed)
        if ident in seen:  # the same match produced twice (a restart): one verdict
            continue
        seen.add(ident)
        matched_at = match.timestamp_ms / 1000 if match.timestamp_ms is not None else None
        pending = matched_at is not None and now - matched_at < grace_s
        entry: dict[str, Any] = {
            "article_id": match.article_id,
            "rule_id": match.rule_id,
            "title": match.title,
            "source": match.source,
            "url": match.url,
            "matched_at": matched_at,
            "partition": match.partition,
            "offset": match.offset,
            "replayed": match.replayed,
        }
        decision = decisions.get(ident)
        dead = by_position.get((match.partition, match.offset))
        if decision is None:
            if dead is not None:
                entries.append(AuditEntry(**entry, status="dead-lettered", reason=dead.reason))
            else:
                status = "pending" if pending else "no outcome"
                entries.append(AuditEntry(**entry, status=status))
            continue
        status = _decide_status(decision.action)
        reason = decision.reason
        fates: list[ChannelFate] = []
        if decision.alert_id is not None:
            fates = _channel_fates(decision, deliveries, by_alert)
            status, why = _alert_status(status, fates, pending)
            reason = why or reason
        entries.append(
            AuditEntry(
                **entry,
                status=status,
                action=decision.action,
                reason=reason,
                story_id=decision.story_id,
                alert_id=decision.alert_id,
                decided_at=decision.at,
                channels=fates,
            )
        )
    return _summarise(entries, now=now, grace_s=grace_s, since=since, records_read=records_read)


def _reason_key(entry: AuditEntry) -> str:
    """``status (action): reason``, the action only where it says more than the status."""
    head = entry.status
    if entry.action and entry.action not in ("new", entry.status):
        head += f" ({entry.action})"
    return f"{head}: {entry.reason}" if entry.reason and entry.reason != "new" else head


def _summarise(
    entries: list[AuditEntry],
    *,
    now: float,
    grace_s: float,
    since: float | None,
    records_read: dict[str, int] | None,
) -> AuditReport:
    by_status = Counter(e.status for e in entries)
    by_reason = Counter(_reason_key(e) for e in entries)
    by_rule: dict[str, Counter[str]] = {}
    for e in entries:
        by_rule.setdefault(e.rule_id, Counter())[e.status] += 1
    return AuditReport(
        since=since,
        generated_at=now,
        grace_s=grace_s,
        entries=entries,
        by_status=dict(sorted(by_status.items())),
        by_rule={rule: dict(sorted(c.items())) for rule, c in sorted(by_rule.items())},
        by_reason=dict(by_reason.most_common()),
        defects=sum(1 for e in entries if e.defect),
        records_read=records_read or {},
    )
