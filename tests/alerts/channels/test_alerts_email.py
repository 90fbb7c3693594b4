"""Email delivery through aiosmtplib to a real aiosmtpd server on loopback."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts.channels.digest import DigestChannel
from alerts.channels.email import EmailChannel
from alerts.config import DeliveryConfig, SmtpConfig
from alerts.deliver import Deliverer
from alerts.render import Renderer
from alerts.testing.smtp import SmtpCapture, self_signed_cert
from schemas.records import AlertRecord, ArticleRef
from tests.alerts.conftest import DeadLetters

pytestmark = pytest.mark.servers
MakeA = Callable[..., AlertRecord]
PASSWORD = "smtp-pa55-word-secret"


@pytest.fixture
def smtp() -> Iterator[SmtpCapture]:
    """A plain SMTP capture server."""
    with SmtpCapture() as server:
        yield server


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command line tool not installed")
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


def _config(server: SmtpCapture, **kw: Any) -> SmtpConfig:
    base: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "sender": "newswatch@example.com",
        "default_to": ["secops@example.com"],
        "timeout_s": 2.0,
    }
    base.update(kw)
    return SmtpConfig(**base)


def _part(msg: Any, kind: str) -> str:
    """The decoded text of the ``plain`` or ``html`` body of a parsed message."""
    body = msg.get_body((kind,))
    assert body is not None, f"no {kind} part"
    return str(body.get_content())


def _deliverer(
    config: SmtpConfig, dlq: DeadLetters, delivery: DeliveryConfig, **kw: Any
) -> Deliverer:
    email = EmailChannel(config)
    renderer = Renderer()
    digest = DigestChannel(email, renderer, kw.pop("buffer", None))
    return Deliverer(
        {"email": email, "digest": digest},
        kw.pop("sent", {}),
        dlq,
        renderer=renderer,
        config=delivery,
        digest_check_s=None,
    )


async def test_alert_email_is_multipart_text_and_html(
    smtp: SmtpCapture, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """One message with text and HTML parts, a subject and a deterministic Message-ID."""
    async with _deliverer(_config(smtp), dlq, fast_delivery) as deliverer:
        report = await deliverer.deliver(make_alert(channels=["email:a@example.com,b@example.com"]))
    assert report.outcomes == {"email:a@example.com,b@example.com": "sent"}
    [captured] = smtp.messages
    msg = captured.message
    assert captured.rcpt_tos == ["a@example.com", "b@example.com"]
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"].startswith("[newswatch] [HIGH] Alibaba linked to espionage concerns")
    assert msg["Message-ID"].startswith("<alert-1.")
    html = _part(msg, "html")
    text = _part(msg, "plain")
    assert "<strong>Alibaba</strong>" in html and "Matched sentences" in text


async def test_injection_strings_arrive_inert_in_email(
    smtp: SmtpCapture, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """Tags are escaped in HTML, template syntax stays literal, no header is injected."""
    bad = "<!channel> <@U123> <https://evil|click> {{ 7*7 }} <script>alert(1)</script>"
    alert = make_alert(title=bad + "\r\nBcc: victim@example.com", snippet=bad, channels=["email"])
    async with _deliverer(_config(smtp), dlq, fast_delivery) as deliverer:
        await deliverer.deliver(alert)
    [captured] = smtp.messages
    html = _part(captured.message, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "{{ 7*7 }}" in html and "49" not in html
    assert captured.message["Bcc"] is None and captured.rcpt_tos == ["secops@example.com"]


async def test_starttls_with_auth_delivers_and_password_never_leaks(
    cert: tuple[Path, Path],
    dlq: DeadLetters,
    fast_delivery: DeliveryConfig,
    make_alert: MakeA,
    log_text: Callable[[], str],
) -> None:
    """STARTTLS + AUTH succeeds; a wrong password is a permanent 535 in the DLQ, redacted."""
    with SmtpCapture(auth={"alice": PASSWORD}, cert=cert, starttls=True) as server:
        good = _config(server, user="alice", password=PASSWORD, starttls=True, ca_file=cert[0])
        async with _deliverer(good, dlq, fast_delivery) as deliverer:
            report = await deliverer.deliver(make_alert(channels=["email"]))
        assert report.outcomes == {"email": "sent"}
        assert server.messages[0].authenticated_as == "alice"
        wrong = "wrong-" + PASSWORD
        bad = _config(server, user="alice", password=wrong, starttls=True, ca_file=cert[0])
        async with _deliverer(bad, dlq, fast_delivery) as deliverer:
            await deliverer.deliver(make_alert("alert-2", channels=["email"]))
    [letter] = dlq
    assert letter.reason.startswith("smtp 535") and not letter.retriable
    dump = letter.model_dump_json() + log_text()
    assert PASSWORD not in dump and wrong not in dump


async def test_implicit_tls_delivers(
    cert: tuple[Path, Path], dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """SMTPS (implicit TLS) with a verified certificate delivers the message."""
    with SmtpCapture(cert=cert, implicit_tls=True) as server:
        config = _config(server, tls=True, ca_file=cert[0])
        async with _deliverer(config, dlq, fast_delivery) as deliverer:
            report = await deliverer.deliver(make_alert(channels=["email"]))
        assert report.outcomes == {"email": "sent"} and len(server.messages) == 1


async def test_smtp_4xx_is_retried_then_delivered(
    smtp: SmtpCapture, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """A 451 at DATA is transient: the retry is accepted and nothing is dead-lettered."""
    smtp.fail("DATA", 451, "try again later")
    async with _deliverer(_config(smtp), dlq, fast_delivery) as deliverer:
        report = await deliverer.deliver(make_alert(channels=["email"]))
        retries = deliverer.stats.retries["email"]
    assert report.outcomes == {"email": "sent"} and len(smtp.messages) == 1
    assert retries == 1 and not dlq


async def test_smtp_5xx_is_dead_lettered_without_retry(
    smtp: SmtpCapture, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """A 550 recipient refusal is permanent: one try, then the DLQ with the SMTP code."""
    smtp.fail("RCPT", 550, "no such user")
    async with _deliverer(_config(smtp), dlq, fast_delivery) as deliverer:
        report = await deliverer.deliver(make_alert(channels=["email:nobody@example.com"]))
    assert report.outcomes == {"email:nobody@example.com": "dead_lettered"}
    [letter] = dlq
    assert letter.reason.startswith("smtp 550") and not letter.retriable
    assert smtp.messages == []


async def test_unreachable_server_is_retried_then_dead_lettered(
    dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """Connection refused is retriable; after max attempts it lands in the DLQ as retriable."""
    with SmtpCapture() as server:
        config = _config(server)
    async with _deliverer(config, dlq, fast_delivery) as deliverer:
        await deliverer.deliver(make_alert(channels=["email"]))
    [letter] = dlq
    assert letter.retriable and letter.reason.startswith(
        "gave up after 3 attempts: smtp connection"
    )


async def test_digest_collects_alerts_and_updates_into_one_email(
    smtp: SmtpCapture, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """Queued alerts and an update go out as one digest email on flush, then the buffer empties."""
    buffer: dict[str, Any] = {}
    related = [ArticleRef(id="b1", title="Second outlet <b>", source="Two")]
    async with _deliverer(_config(smtp), dlq, fast_delivery, buffer=buffer) as deliverer:
        r1 = await deliverer.deliver(make_alert("x1", title="First story", channels=["digest"]))
        r2 = await deliverer.deliver(
            make_alert("x1", kind="update", related=related, channels=["digest"])
        )
        assert (r1.outcomes, r2.outcomes) == ({"digest": "queued"}, {"digest": "queued"})
        assert smtp.messages == []
        assert await deliverer.flush_digests(force=True) == 1
    [captured] = smtp.messages
    assert "2 alerts" in captured.message["Subject"]
    text = _part(captured.message, "plain")
    assert "First story" in text and "first reported by Two: Second outlet <b>" in text
    assert buffer == {}


async def test_failed_digest_dead_letters_each_queued_alert(
    smtp: SmtpCapture, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """A digest refused with 554 puts every alert it held in the DLQ and empties the buffer."""
    buffer: dict[str, Any] = {}
    smtp.fail("DATA", 554, "rejected")
    async with _deliverer(_config(smtp), dlq, fast_delivery, buffer=buffer) as deliverer:
        await deliverer.deliver(make_alert("x1", channels=["digest"]))
        await deliverer.deliver(make_alert("x2", channels=["digest"]))
        assert await deliverer.flush_digests(force=True) == 0
    assert sorted(letter.key or "" for letter in dlq) == ["x1", "x2"]
    assert all(letter.channel == "digest" and not letter.retriable for letter in dlq)
    assert buffer == {} and smtp.messages == []
