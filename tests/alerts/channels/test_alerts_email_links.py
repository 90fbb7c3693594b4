"""Alert emails with signed feedback links, sent to a real aiosmtpd server and parsed back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from alerts.channels.email import EmailChannel, recipient_message_id
from alerts.config import DeliveryConfig, LinkConfig, SmtpConfig
from alerts.deliver import Deliverer
from alerts.links import FEEDBACK_PATH, LinkSigner
from alerts.render import Renderer
from alerts.testing.smtp import CapturedMessage, SmtpCapture
from schemas.records import AlertRecord, ArticleRef
from tests.alerts.conftest import DeadLetters

pytestmark = pytest.mark.servers
MakeA = Callable[..., AlertRecord]
SECRET = "email-link-secret-0123456789"
LINKS = LinkConfig(base_url="https://nw.example/base", secret=SecretStr(SECRET), ttl_s=3600)
HOSTILE = '<a href="https://evil.example/x?y=1&z=2">"quoted" {{ 7*7 }}</a>'


class _Anchors(HTMLParser):
    """Collects ``(href, text)`` of every ``<a>`` in an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
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
            self.found.append((self._href, self._text))
            self._href = None


@pytest.fixture
def smtp() -> Iterator[SmtpCapture]:
    """A plain SMTP capture server."""
    with SmtpCapture() as server:
        yield server


def _config(server: SmtpCapture, **kw: Any) -> SmtpConfig:
    base: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "sender": "newswatch@example.com",
        "default_to": ["secops@example.com"],
        "timeout_s": 2.0,
        "links": LINKS,
    }
    base.update(kw)
    return SmtpConfig(**base)


def _deliverer(config: SmtpConfig, dlq: DeadLetters, delivery: DeliveryConfig) -> Deliverer:
    renderer = Renderer()
    email = EmailChannel(config, renderer=renderer)
    return Deliverer({"email": email}, {}, dlq, renderer=renderer, config=delivery)


def _part(captured: CapturedMessage, kind: str) -> str:
    body = captured.message.get_body((kind,))
    assert body is not None, f"no {kind} part"
    return str(body.get_content())


def _feedback_links(captured: CapturedMessage) -> dict[str, str]:
    """Link text → href of the feedback anchors of the HTML part (parsed, entities decoded)."""
    parser = _Anchors()
    parser.feed(_part(captured, "html"))
    return {text: href for href, text in parser.found if FEEDBACK_PATH in href}


def _text_links(captured: CapturedMessage) -> list[str]:
    """The feedback URLs of the plain-text part, in order."""
    words = _part(captured, "plain").split()
    return [w for w in words if FEEDBACK_PATH in w]


async def test_each_recipient_gets_links_signed_for_their_address(
    smtp: SmtpCapture, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """Two recipients → two messages; HTML and text links verify to that recipient's claims."""
    alert = make_alert(channels=["email:a@example.com,b@example.com"], title=HOSTILE)
    async with _deliverer(_config(smtp), dlq, fast_delivery) as deliverer:
        report = await deliverer.deliver(alert)
    assert report.outcomes == {"email:a@example.com,b@example.com": "sent"}
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["a@example.com", "b@example.com"]
    signer = LinkSigner.from_config(LINKS)
    ids = set()
    for captured in smtp.messages:
        (recipient,) = captured.rcpt_tos
        assert captured.message["To"] == recipient
        ids.add(captured.message["Message-ID"])
        html_links = _feedback_links(captured)
        assert list(html_links) == ["Relevant", "Not relevant", "Mute this story"]
        assert list(html_links.values()) == _text_links(captured)
        for (label, url), action in zip(
            html_links.items(), ["relevant", "not_relevant", "mute_story"], strict=True
        ):
            parts = urlsplit(url)
            assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
                f"https://nw.example/base{FEEDBACK_PATH}"
            ), label
            assert "evil" not in url and "&" not in url
            claims = signer.verify(parse_qs(parts.query)["t"][0])
            assert (claims.action, claims.recipient) == (action, recipient)
            assert (claims.alert_id, claims.rule_id, claims.story_id) == (
                alert.alert_id,
                alert.rule_id,
                alert.story_id,
            )
        # the hostile title is escaped text, not a link of its own
        anchors = _Anchors()
        anchors.feed(_part(captured, "html"))
        assert not [href for href, _text in anchors.found if "evil" in href]
        assert HOSTILE not in _part(captured, "html") and HOSTILE in _part(captured, "plain")
    assert len(ids) == 2


async def test_updates_thread_to_each_recipients_first_message(
    smtp: SmtpCapture, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """An update's In-Reply-To is the Message-ID of that recipient's first message."""
    spec = ["email:a@example.com,b@example.com"]
    related = [ArticleRef(id="b1", title="Second outlet", source="Two")]
    async with _deliverer(_config(smtp), dlq, fast_delivery) as deliverer:
        await deliverer.deliver(make_alert(channels=spec))
        await deliverer.deliver(make_alert(kind="update", channels=spec, related=related))
    first = {m.rcpt_tos[0]: m.message["Message-ID"] for m in smtp.messages[:2]}
    for update in smtp.messages[2:]:
        assert update.message["In-Reply-To"] == first[update.rcpt_tos[0]]
    assert len(smtp.messages) == 4


async def test_a_repeated_send_skips_recipients_already_served(
    smtp: SmtpCapture, make_alert: MakeA
) -> None:
    """A retry of the same alert (after a partial failure) does not mail anyone twice."""
    channel = EmailChannel(_config(smtp))
    alert = make_alert(channels=["email:a@example.com,b@example.com"])
    rendered = Renderer().render(alert, "email")
    first = await channel.send(alert, rendered, target="a@example.com,b@example.com")
    again = await channel.send(alert, rendered, target="a@example.com,b@example.com")
    assert len(smtp.messages) == 2 and first.ref == again.ref
    assert recipient_message_id(str(first.ref), "a@example.com") in {
        m.message["Message-ID"] for m in smtp.messages
    }


async def test_a_refused_recipient_does_not_stop_the_others(
    smtp: SmtpCapture, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """A 550 for one recipient is reported, the other recipient still gets the alert."""
    smtp.fail("RCPT", 550, "no such user")
    async with _deliverer(_config(smtp), dlq, fast_delivery) as deliverer:
        report = await deliverer.deliver(make_alert(channels=["email:gone@x.org,b@example.com"]))
    assert report.outcomes == {"email:gone@x.org,b@example.com": "sent"}
    assert [m.rcpt_tos for m in smtp.messages] == [["b@example.com"]] and not dlq


async def test_without_link_settings_emails_carry_no_links(
    smtp: SmtpCapture, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """Links are optional: without them one message goes to all recipients, link-free."""
    config = _config(smtp, links=None)
    async with _deliverer(config, dlq, fast_delivery) as deliverer:
        await deliverer.deliver(make_alert(channels=["email:a@example.com,b@example.com"]))
    [captured] = smtp.messages
    assert captured.rcpt_tos == ["a@example.com", "b@example.com"]
    assert FEEDBACK_PATH not in captured.raw.decode("utf-8", "replace")
    assert "Was this alert useful" not in _part(captured, "plain")
