"""Email feedback links over real HTTP: SMTP capture → links in the mail → a running worker.

A worker subprocess mails alerts (aiosmtpd on loopback) with signed links for *Relevant*,
*Not relevant* and *Mute story*; the test parses the captured bytes with the standard
library's email parser, follows the links to the worker's web port and checks: ``GET``
shows a confirm page and records nothing; the confirm ``POST`` records feedback on
``alerts.feedback`` (user ``email:<recipient>``, source ``email``) once, however often it
is repeated; altered, foreign, expired and malformed tokens are refused and counted; the
mute link silences the story, whose next update is not mailed.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pipeline_workers import topic_values, topic_values_within

from alerts.links import FEEDBACK_PATH, LinkClaims, LinkSigner
from alerts.testing.smtp import CapturedMessage, SmtpCapture
from streams.kafka.broker import free_port
from streams.settings import Settings
from streams.testing import (
    WorkerProcess,
    metric_value,
    produce_values,
    scrape_metrics,
    term_watchlist,
    wait_until,
)

pytestmark = pytest.mark.broker

SECRET = "email-feedback-test-secret-0123456789"
ANA, BO = "ana@example.org", "bo@example.org"
TEXT = (
    "Customs officers at the eastern terminal opened three containers of quarvex sensors "
    "that had been declared as kitchen appliances. The shipping documents named a company "
    "that closed two years ago, and the port authority has asked the prosecutor to examine "
    "how the cargo passed the first inspection without questions from the duty officer."
)


def _article(n: int) -> tuple[bytes, bytes]:
    article = {
        "id": f"em-{n}",
        "title": f"Quarvex sensors found in containers ({n})",
        "text": TEXT,
        "url": f"https://port{n}.example/{n}",
        "source": f"port{n}.example",
        "language": "en",
    }
    return article["id"].encode(), json.dumps(article).encode()


class _Links(HTMLParser):
    """Link text → href of every ``<a>`` of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", ""

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.found[self._text] = self._href
            self._href = None


def _links(captured: CapturedMessage) -> dict[str, str]:
    """The feedback links of one captured email, parsed back from its raw bytes."""
    message = email.message_from_bytes(captured.raw, policy=email.policy.default)
    html = message.get_body(("html",))  # type: ignore[attr-defined]
    parser = _Links()
    parser.feed(str(html.get_content()))
    return {text: url for text, url in parser.found.items() if FEEDBACK_PATH in url}


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


@pytest.fixture
def running(
    worker_settings: Callable[..., Settings], start_worker: Callable[..., WorkerProcess]
) -> Iterator[tuple[Settings, SmtpCapture, WorkerProcess]]:
    """A worker mailing rule r0's alerts to two recipients, with feedback links on."""
    with SmtpCapture() as smtp:
        text = term_watchlist({"r0": ("quarvex", f"email:{ANA}")})
        text = text.replace(f'"email:{ANA}"]', f'"email:{ANA}", "email:{BO}"]')
        settings = worker_settings(
            text, alert_channels=["email"], smtp_host="127.0.0.1", smtp_port=smtp.port
        )
        port = free_port()
        worker = start_worker(
            settings,
            web_port=port,
            NEWSWATCH_PUBLIC_URL=f"http://127.0.0.1:{port}",
            NEWSWATCH_LINK_SECRET=SECRET,
        )
        try:
            yield settings, smtp, worker
        finally:
            worker.stop()


def test_links_confirm_on_post_only_refuse_bad_tokens_and_mute_the_story(
    running: tuple[Settings, SmtpCapture, WorkerProcess],
) -> None:
    """GET shows, POST records once; bad tokens 401/410/400/413, counted; mute silences."""
    settings, smtp, worker = running
    produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), [_article(1)])
    assert wait_until(lambda: len(smtp.messages) == 2, timeout=90), worker.log_tail()
    mail = {m.rcpt_tos[0]: m for m in smtp.messages}
    ana, bo = _links(mail[ANA]), _links(mail[BO])
    assert list(ana) == ["Relevant", "Not relevant", "Mute this story"]

    # GET: a confirm page with a POST form, nothing recorded (mail scanners follow links)
    page = httpx.get(ana["Relevant"], timeout=5)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form method="post">' in page.text and "Mark this alert as relevant" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    time.sleep(1.0)
    assert topic_values_within(settings, "alerts.feedback", 2.0) == []

    # refused: altered, signed with another secret, expired, malformed, too large
    token = _token(ana["Relevant"])
    version, kid, payload, signature = token.split(".")
    altered = f"{version}.{kid}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}"
    altered += f".{signature}"
    base = f"http://127.0.0.1:{worker.web_port}{FEEDBACK_PATH}"
    assert httpx.get(base, params={"t": altered}, timeout=5).status_code == 401
    assert httpx.post(base, data={"t": altered}, timeout=5).status_code == 401
    other = LinkSigner("not-the-secret-0123456789", base_url=base, ttl_s=60)
    foreign = other.token(_claims(token))  # the same claims, signed with another secret
    assert httpx.post(base, data={"t": foreign}, timeout=5).status_code == 401
    signer = LinkSigner(SECRET, base_url=base, ttl_s=60)
    expired = signer.token(_claims(token, expires_at=int(time.time()) - 5))
    answer = httpx.post(base, data={"t": expired}, timeout=5)
    assert answer.status_code == 410 and "expired" in answer.text
    assert httpx.post(base, data={"t": token[:40]}, timeout=5).status_code == 400
    assert httpx.post(base, content=b"t=" + b"x" * 20_000, timeout=5).status_code == 413
    assert topic_values_within(settings, "alerts.feedback", 2.0) == []

    # POST from the confirm form: recorded once, a second confirm changes nothing
    done = httpx.post(ana["Relevant"], data={"t": token}, timeout=5)
    assert done.status_code == 200 and "Recorded: relevant" in done.text
    again = httpx.post(ana["Relevant"], data={"t": token}, timeout=5)
    assert again.status_code == 200 and "Already recorded" in again.text
    assert wait_until(lambda: len(topic_values(settings, "alerts.feedback")) == 1, timeout=20)
    (feedback,) = topic_values(settings, "alerts.feedback")
    alert = topic_values(settings, "alerts")[0]
    assert (feedback["verdict"], feedback["user_id"], feedback["source"]) == (
        "relevant",
        f"email:{ANA}",
        "email",
    )
    assert (feedback["alert_id"], feedback["rule_id"], feedback["story_id"]) == (
        alert["alert_id"],
        "r0",
        alert["story_id"],
    )
    assert feedback["article_id"] == "em-1" and feedback["watchlist_version"]
    no_query = httpx.post(base, data={"t": _token(bo["Not relevant"])}, timeout=5)
    assert no_query.status_code == 200 and "Recorded: not relevant" in no_query.text

    def precision() -> float:
        return metric_value(
            scrape_metrics(worker.web_port), "newswatch_feedback_precision", rule="r0"
        )

    assert wait_until(lambda: precision() == 0.5, timeout=20)  # ana relevant, bo not

    # mute this story: a story silence; the next report of the story is not mailed
    mute = _token(ana["Mute this story"])
    assert httpx.post(ana["Mute this story"], data={"t": mute}, timeout=5).status_code == 200
    assert wait_until(lambda: len(topic_values(settings, "alerts.silences")) == 1, timeout=20)
    (silence,) = topic_values(settings, "alerts.silences")
    assert (silence["kind"], silence["story_id"]) == ("story", alert["story_id"])
    assert silence["created_by"] == f"email:{ANA}"
    produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), [_article(2)])

    def update_recorded() -> bool:
        return any(a["article"]["id"] == "em-2" for a in topic_values(settings, "alerts"))

    assert wait_until(update_recorded, timeout=60), worker.log_tail()
    update = next(a for a in topic_values(settings, "alerts") if a["article"]["id"] == "em-2")
    assert update["kind"] == "update" and update["silenced_by"] == silence["id"]
    time.sleep(1.0)
    assert len(smtp.messages) == 2

    samples = scrape_metrics(worker.web_port)
    expected = {
        "shown": 1,
        "forged": 3,
        "expired": 1,
        "malformed": 1,
        "too_large": 1,
        "recorded": 3,
        "repeated": 1,
    }
    for outcome, count in expected.items():
        found = metric_value(samples, "newswatch_email_feedback_total", outcome=outcome)
        assert found == count, outcome
    log = worker.log_path.read_text(errors="replace")
    assert SECRET not in log and token not in log and payload not in log
    assert worker.alive()


def _claims(token: str, **changes: Any) -> LinkClaims:
    """The claims inside ``token`` (read without checking), with ``changes`` applied."""
    payload = token.split(".")[2]
    claims = LinkClaims.from_payload(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return replace(claims, **changes)
