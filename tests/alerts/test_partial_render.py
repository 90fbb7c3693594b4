"""Alerts on a partial text say so: Slack (Block Kit models) and email (parsed back)."""

from __future__ import annotations

import email
import email.generator
import email.policy
import io
from collections.abc import Callable

from slack_sdk.models.blocks import Block

from alerts.channels.email import build_message
from alerts.render import Renderer
from schemas.records import AlertRecord

MakeA = Callable[..., AlertRecord]
REASON = "paywall: 'subscribe to continue reading'"


def _partial(make_alert: MakeA, reason: str | None = REASON) -> AlertRecord:
    alert = make_alert()
    return alert.model_copy(
        update={"article": alert.article.model_copy(update={"partial_text": reason})}
    )


def test_slack_alert_on_a_partial_text_says_partial_text(make_alert: MakeA) -> None:
    """The Slack blocks validate as Block Kit and one context block names the reason."""
    out = Renderer().render(_partial(make_alert), "slack")
    assert out.blocks is not None
    models = Block.parse_all(out.blocks)
    assert all(m is not None for m in models)
    for model in models:
        model.validate_json()
    texts = [el["text"] for b in out.blocks if b["type"] == "context" for el in b["elements"]]
    assert any("partial text" in t and "subscribe to continue reading" in t for t in texts)
    assert "partial text" in out.text


def test_slack_alert_on_a_whole_text_does_not(make_alert: MakeA) -> None:
    """Without a reason nothing about partial texts is rendered."""
    out = Renderer().render(_partial(make_alert, None), "slack")
    assert out.blocks is not None and "partial text" not in str(out.blocks)
    assert "partial text" not in out.text


def test_email_alert_on_a_partial_text_says_so_after_parsing(make_alert: MakeA) -> None:
    """The email's text and HTML parts, parsed back from the wire, both say "Partial text"."""
    out = Renderer().render(_partial(make_alert), "email")
    assert out.subject is not None and out.html is not None
    msg = build_message(
        sender="newswatch@example.com",
        recipients=["secops@example.com"],
        subject=out.subject,
        text=out.text,
        html=out.html,
        message_id="<m1@newswatch>",
    )
    buf = io.BytesIO()
    email.generator.BytesGenerator(buf, policy=email.policy.SMTP).flatten(msg)
    parsed = email.message_from_bytes(buf.getvalue(), policy=email.policy.default)
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and html is not None
    assert "Partial text: paywall: 'subscribe to continue reading'" in plain.get_content()
    assert "<strong>Partial text:</strong> paywall: &#39;subscribe" in html.get_content()
