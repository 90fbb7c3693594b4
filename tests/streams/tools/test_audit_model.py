"""The audit's join of matches, outcomes and dead letters (pure, no Kafka)."""

from __future__ import annotations

from schemas.records import DeadLetter, OutcomeRecord
from streams.tools.audit import MatchRef, build_audit, render_html, summary_text

NOW = 1_800_000_000.0


def _match(article: str, offset: int, *, age_s: float = 600.0, title: str = "t") -> MatchRef:
    return MatchRef(0, offset, int((NOW - age_s) * 1000), article, "r", title)


def _decision(article: str, action: str, **extra: object) -> OutcomeRecord:
    return OutcomeRecord.model_validate(
        {"stage": "decide", "article_id": article, "rule_id": "r", "action": action, "at": NOW}
        | extra
    )


def test_match_without_outcome_is_a_defect_unless_in_flight() -> None:
    """No outcome: a defect once older than the grace period, 'pending' before."""
    report = build_audit(
        [_match("old", 0), _match("young", 1, age_s=5)], [], [], matches_topic="m", now=NOW
    )
    status = {e.article_id: e.status for e in report.entries}
    assert status == {"old": "no outcome", "young": "pending"}
    assert report.defects == 1
    assert "DEFECT: 1 match" in summary_text(report)


def test_alert_a_channel_never_answered_for_is_undelivered() -> None:
    """A new alert with one sent channel and one without any delivery outcome: undelivered."""
    decision = _decision(
        "a", "new", alert_id="A1", story_id="S", channels=["file", "email:x@example.org"]
    )
    sent = OutcomeRecord(
        stage="deliver",
        article_id="a",
        rule_id="r",
        action="sent",
        alert_id="A1",
        channel="file",
        at=NOW,
    )
    report = build_audit([_match("a", 0)], [decision, sent], [], matches_topic="m", now=NOW)
    entry = report.entries[0]
    assert entry.status == "undelivered" and entry.defect
    assert [(c.channel, c.result) for c in entry.channels] == [
        ("file", "sent"),
        ("email:x@example.org", "missing"),
    ]


def test_dead_letters_explain_matches_and_deliveries() -> None:
    """A dead-lettered match record (by position) and a dead-lettered delivery (by alert id
    and channel) each give their reason; a later successful retry wins over a failure."""
    letter = DeadLetter(
        reason="schema violation",
        error="RecordError",
        source_topic="m",
        partition=0,
        offset=0,
        failed_at=NOW,
    )
    decision = _decision("b", "new", alert_id="B", channels=["slack:#x"])
    failed = OutcomeRecord(
        stage="deliver",
        article_id="b",
        rule_id="r",
        action="dead_lettered",
        alert_id="B",
        channel="slack:#x",
        at=NOW,
    )
    slack_letter = DeadLetter(
        reason="slack: channel_not_found",
        error="DeliveryError",
        source_topic="alerts",
        key="B",
        channel="slack:#x",
        failed_at=NOW,
    )
    report = build_audit(
        [_match("<garbage>", 0), _match("b", 1)],
        [decision, failed],
        [letter, slack_letter],
        matches_topic="m",
        now=NOW,
    )
    assert [(e.status, e.reason) for e in report.entries] == [
        ("dead-lettered", "schema violation"),
        ("dead-lettered", "slack: channel_not_found"),
    ]
    retried = failed.model_copy(update={"action": "sent"})
    again = build_audit(
        [_match("b", 1)], [decision, failed, retried], [], matches_topic="m", now=NOW
    )
    assert again.entries[0].status == "alerted"


def test_html_escapes_titles_and_runs_no_script() -> None:
    """A hostile title is escaped; the page forbids scripts and network fetches."""
    report = build_audit(
        [_match("x", 0, title="<script>alert(1)</script>")],
        [_decision("x", "throttled", reason="rule limit", story_id="S")],
        [],
        matches_topic="m",
        now=NOW,
    )
    page = render_html(report)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "default-src 'none'" in page
    assert report.by_reason == {"throttled: rule limit": 1}
