"""The ``/email/feedback`` handler without a server: recording, repeats, failures, escaping."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from alerts.links import LinkSigner
from alerts.silences import SilenceBook
from schemas.records import AlertRecord, ArticleRef
from schemas.topics import Topics
from streams.pipeline.email_feedback import EmailFeedback
from streams.pipeline.judgements import JudgementRecorder
from streams.pipeline.metrics import Metrics
from streams.testing import MemoryOutbox

SECRET = "handler-test-secret-0123456789"
NOW = 1_800_000_000.0


class FailingOnce(MemoryOutbox):
    """An outbox whose first flush fails (the broker is away for a moment)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    async def flush(self) -> None:
        """Fail the first time, then behave."""
        if not self.failed:
            self.failed = True
            self.records.clear()
            raise ConnectionError("broker away")
        await super().flush()


def _alert(rule_id: str = "r0") -> AlertRecord:
    """An alert whose ids contain HTML."""
    return AlertRecord(
        alert_id="al-1",
        kind="new",
        rule_id=rule_id,
        rule_title="Rule",
        severity="high",
        story_id="st-1",
        article=ArticleRef(id="art-1", title="T"),
        evidence=[],
        channels=["email"],
        watchlist_version="wl-1",
        created_at=NOW,
    )


def _handler(outbox: MemoryOutbox) -> tuple[EmailFeedback, LinkSigner, Metrics]:
    signer = LinkSigner(SECRET, base_url="https://nw.example", ttl_s=3600, clock=lambda: NOW)
    metrics = Metrics()
    recorder = JudgementRecorder(
        outbox=outbox,
        topics=Topics.prefixed(""),
        silences=SilenceBook(),
        watchlist_version=lambda: "current",
        snooze_s=60,
        mute_s=86400,
        clock=lambda: NOW,
    )
    handler = EmailFeedback(signer=signer, recorder=recorder, metrics=metrics, clock=lambda: NOW)
    return handler, signer, metrics


def _token(signer: LinkSigner, action: str, alert: AlertRecord | None = None) -> str:
    url = signer.links(alert or _alert(), "ana@example.org")[action]
    return parse_qs(urlsplit(url).query)["t"][0]


def _count(metrics: Metrics, outcome: str) -> Any:
    return metrics.sample("newswatch_email_feedback_total", outcome=outcome)


async def test_a_failed_record_answers_503_and_the_link_can_be_confirmed_again() -> None:
    """When the broker refuses, nothing is remembered: the next confirm records the judgement."""
    outbox = FailingOnce()
    handler, signer, metrics = _handler(outbox)
    token = _token(signer, "not_relevant")
    failed = await handler.confirm(b"t=" + token.encode(), None)
    assert failed.status == 503 and _count(metrics, "failed") == 1
    done = await handler.confirm(b"t=" + token.encode(), None)
    assert done.status == 200 and b"Recorded: not relevant" in done.body
    (feedback,) = outbox.values("alerts.feedback")
    assert (feedback["verdict"], feedback["user_id"], feedback["source"]) == (
        "not_relevant",
        "email:ana@example.org",
        "email",
    )


async def test_get_records_nothing_and_escapes_the_ids() -> None:
    """The confirm page holds the ids as escaped text and the token in a hidden field only."""
    outbox = MemoryOutbox()
    handler, signer, metrics = _handler(outbox)
    token = _token(signer, "mute_story", _alert('r<script>"x"'))
    page = handler.show(token)
    assert page.status == 200 and outbox.records == {} and _count(metrics, "shown") == 1
    assert b"<script>" not in page.body and b"r&lt;script&gt;&quot;x&quot;" in page.body
    assert page.body.count(token.encode()) == 1 and b"1 days" in page.body
    assert dict(page.headers)["X-Frame-Options"] == "DENY"


async def test_repeated_mute_writes_one_silence_and_one_feedback() -> None:
    """The same mute link confirmed twice: one silence, one feedback, a 'repeated' count."""
    outbox = MemoryOutbox()
    handler, signer, metrics = _handler(outbox)
    token = _token(signer, "mute_story")
    first = await handler.confirm(b"", token)  # token from the query when the form has none
    second = await handler.confirm(b"t=" + token.encode(), token)
    assert (first.status, second.status) == (200, 200)
    assert b"Already recorded" in second.body and _count(metrics, "repeated") == 1
    (silence,) = outbox.values("alerts.silences")
    assert len(outbox.values("alerts.feedback")) == 1
    assert silence["ends_at"] - silence["starts_at"] == 86400
    assert handler.recorder.silences.match("r0", "st-1", NOW + 10) is not None


@pytest.mark.parametrize(
    ("body", "status", "outcome"),
    [(None, 413, "too_large"), (b"t=v1.zz", 400, "malformed"), (b"\xff\xfe", 400, "malformed")],
)
async def test_bad_bodies_are_refused(body: bytes | None, status: int, outcome: str) -> None:
    """An oversized, malformed or undecodable body is refused and counted, nothing written."""
    outbox = MemoryOutbox()
    handler, _signer, metrics = _handler(outbox)
    answer = await handler.confirm(body, None)
    assert answer.status == status and _count(metrics, outcome) == 1
    assert outbox.records == {}
