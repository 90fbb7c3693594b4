"""Factories and real loopback servers for the alerts tests."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from alerts.config import DeliveryConfig, RetryConfig
from schemas.records import AlertRecord, ArticleRef, DeadLetter, EnrichedArticle, Evidence, Match

STORY = (
    "The Belgian security service is monitoring the main European logistics hub of the "
    "Chinese technology and e-commerce company Alibaba Group over possible espionage, the "
    "Financial Times reported on Thursday. The service said it was working to detect "
    "possible espionage or interference activities by Chinese companies such as Alibaba at "
    "the cargo airport of the city of Liege. Alibaba denies any wrongdoing. Neither the "
    "company nor the Belgian state security service immediately responded to requests for "
    "comment. Alibaba signed an agreement with the Belgian government in 2018 to open an "
    "e-commerce trade hub operated by its logistics arm Cainiao, which would include "
    "investments in logistics infrastructure. The security service told the newspaper that "
    "the presence of Alibaba was a point of attention because Chinese companies are "
    "required by law to share their data with Chinese authorities and intelligence services."
)
OTHER_STORY = (
    "A ransomware gang has claimed responsibility for an attack on a regional hospital "
    "network that forced several clinics to divert ambulances and postpone surgeries. The "
    "group published samples of patient records on its leak site and demanded payment in "
    "cryptocurrency. Investigators said the intrusion began with a phishing email sent to "
    "an administrator weeks before the encryption started, and that backups were partly "
    "affected. The hospital said emergency care continued throughout the outage."
)
SNIPPET = (
    "The Belgian security service is monitoring the main European logistics hub of "
    "Alibaba Group over possible espionage."
)


@pytest.fixture
def make_enriched() -> Callable[..., EnrichedArticle]:
    """Factory: an enriched article; keyword arguments override article fields."""

    def make(
        article_id: str = "a1",
        *,
        title: str = "Belgium watches Alibaba hub over espionage fears",
        text: str = STORY,
        url: str | None = "https://news-one.example/world/alibaba-liege",
        source: str | None = "News One",
    ) -> EnrichedArticle:
        ref = ArticleRef(id=article_id, title=title, url=url, source=source, language="en")
        return EnrichedArticle(
            article=ref, language="en", language_confidence=0.99, clean_text=text
        )

    return make


@pytest.fixture
def make_match() -> Callable[..., Match]:
    """Factory: a match of rule ``alibaba-espionage`` with two pieces of evidence."""

    def make(
        article_id: str = "a1",
        *,
        rule_id: str = "alibaba-espionage",
        severity: str = "high",
        channels: list[str] | None = None,
        entities: list[str] | None = None,
        window: float | None = 6 * 3600.0,
        snippet: str = SNIPPET,
        group_by: list[str] | None = None,
    ) -> Match:
        evidence = [
            Evidence(
                condition="entity:alibaba",
                term="Alibaba",
                surface="Alibaba",
                start=0,
                end=7,
                sentence=0,
                paragraph=0,
                snippet=snippet,
            ),
            Evidence(
                condition="concept:espionage",
                term="espionage",
                surface="espionage",
                start=10,
                end=19,
                sentence=0,
                paragraph=0,
                snippet=snippet,
            ),
        ]
        return Match(
            rule_id=rule_id,
            rule_title="Alibaba linked to espionage concerns",
            severity=severity,  # type: ignore[arg-type]
            article_id=article_id,
            watchlist_version="wl-test",
            channels=["console"] if channels is None else channels,
            throttle_window_s=window,
            evidence=evidence,
            entities=["alibaba"] if entities is None else entities,
            group_by=group_by or ["url", "text"],  # type: ignore[arg-type]
        )

    return make


@pytest.fixture
def make_alert(make_match: Callable[..., Match]) -> Callable[..., AlertRecord]:
    """Factory: an alert record; ``title``/``url``/``source``/``snippet`` are untrusted."""

    def make(
        alert_id: str = "alert-1",
        *,
        kind: str = "new",
        channels: list[str] | None = None,
        title: str = "Belgium watches Alibaba hub over espionage fears",
        url: str | None = "https://news-one.example/world/alibaba-liege",
        source: str | None = "News One",
        snippet: str = SNIPPET,
        related: list[ArticleRef] | None = None,
        severity: str = "high",
    ) -> AlertRecord:
        match = make_match(snippet=snippet)
        return AlertRecord(
            alert_id=alert_id,
            kind=kind,  # type: ignore[arg-type]
            rule_id="alibaba-espionage",
            rule_title="Alibaba linked to espionage concerns",
            severity=severity,  # type: ignore[arg-type]
            story_id="story-1",
            article=ArticleRef(id="a1", title=title, url=url, source=source),
            evidence=match.evidence,
            related=related or [],
            channels=channels or ["console"],
            watchlist_version="wl-test",
            created_at=1_700_000_000.0,
        )

    return make


class DeadLetters(list[DeadLetter]):
    """Collects dead letters; ``await dlq(letter)`` is the Deliverer's callback."""

    async def __call__(self, letter: DeadLetter) -> None:
        self.append(letter)


@pytest.fixture
def dlq() -> DeadLetters:
    """A dead-letter sink that records what it gets."""
    return DeadLetters()


class SleepRecorder:
    """An ``asyncio.sleep`` stand-in: records waits and advances its own clock instead."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 1000.0

    def clock(self) -> float:
        """The monotonic clock that the recorded sleeps advance."""
        return self.now

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def sleeps() -> SleepRecorder:
    """Records the deliverer's back-off waits instead of waiting."""
    return SleepRecorder()


@pytest.fixture
def fast_delivery() -> DeliveryConfig:
    """Retry policy with tiny delays so fault tests stay fast."""
    return DeliveryConfig(
        retry=RetryConfig(
            max_attempts=3,
            base_delay_s=0.01,
            max_delay_s=0.05,
            max_rate_limited=3,
            max_retry_after_s=5.0,
        ),
        seed=7,
    )


@pytest.fixture
async def fake_slack() -> AsyncIterator[Any]:
    """The fake Slack Web API on loopback (token ``xoxb-test``)."""
    from alerts.testing.slack import FakeSlack

    async with FakeSlack(tokens={"xoxb-test"}) as slack:
        yield slack


@pytest.fixture
def log_text(caplog: pytest.LogCaptureFixture) -> Callable[[], str]:
    """All captured log records (DEBUG and up) as one string."""
    caplog.set_level(logging.DEBUG)
    return lambda: "\n".join(r.getMessage() for r in caplog.records)
