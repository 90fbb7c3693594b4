"""Property tests: hostile Unicode in article fields never breaks or activates rendered output."""

from __future__ import annotations

import email
import email.policy
import json
import re
import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts._context import alert_context
from alerts._text import mrkdwn_escape, safe_url, webhook_text
from alerts.blocks import block_problems
from alerts.render import Renderer
from schemas.records import AlertRecord, ArticleRef, Evidence
from tests.alerts.test_render_clients import (
    decoded_subjects,
    header_lines,
    links_balanced,
    mrkdwn_texts,
    parse_blocks,
    wire_bytes,
)

HOSTILE = [
    "<!channel>", "<!here|here>", "<@U123>", "<#C1>", "<https://evil.example|click>", "&amp;",
    "&", "<", ">", "|", "*", "_", "~", "`", "```", ":", "@channel", "@here", "\u202e", "\u2066",
    "\u200b", "\u200e", "\ufeff", "\u061c", "\u00ad", "\u2060", "\u180e", "\U000e0041", "\x1b[31m",
    "\x00", "\r\n", "\n", "\u2028", "=?utf-8?q??=", "=?utf-8?b?QQ==?=", "Behörden prüfen",
    "Äußerungen",
    "\u0301", "e\u0301", "👩\u200d💻", "\U0001f1e9\U0001f1ea", "مرحبا", "שלום", "東京", " ", "  ",
    "{{ 7*7 }}", "{% raw %}", "</script>", '"', "'", "\\", "\t",
]  # fmt: skip
PIECES = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)
TEXT = st.lists(PIECES, max_size=25).map("".join)
URL = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "https://news.example/a_b~c?x=1&y=<2>|3",
            "javascript:alert(1)",
            "https://user@evil.example/",
            "https://news.example/" + "д" * 1_500,
            "https://bücher.example/straße",
        ]
    ),
    TEXT.map(lambda t: "https://news.example/" + t),
)
# Cf characters allowed in output: ZWNJ/ZWJ (scripts, emoji); the word joiner only after "@".
ALLOWED_FORMAT = {"\u200c", "\u200d"}
FORMATTING = set("*_~`")


def ref(i: int, title: str, url: str | None, source: str) -> ArticleRef:
    """An article reference from untrusted fields."""
    return ArticleRef(id=f"a{i}", title=title, url=url, source=source or None)


@st.composite
def alerts(draw: st.DrawFn) -> AlertRecord:
    """An alert whose every article-derived field is hostile text."""
    snippet = draw(TEXT)
    surface = snippet[: draw(st.integers(0, 8))] or "x"
    related = [ref(i, draw(TEXT), draw(URL), draw(TEXT)) for i in range(draw(st.integers(0, 4)))]
    return AlertRecord(
        alert_id="0" * 32,
        kind=draw(st.sampled_from(["new", "update"])),
        rule_id="rule-1",
        rule_title="Rule one",
        severity="high",
        story_id="s" * 20,
        article=ref(0, draw(TEXT), draw(URL), draw(TEXT)),
        evidence=[
            Evidence(
                condition="entity:x",
                term=surface,
                surface=surface,
                start=0,
                end=len(surface),
                sentence=0,
                paragraph=0,
                snippet=snippet,
            )
        ],
        related=related,
        channels=["slack"],
        watchlist_version="v1",
        created_at=1_700_000_000.0,
    )


def strings(node: Any, skip: frozenset[str] = frozenset()) -> list[str]:
    """Every string value in a nested structure, except under keys in ``skip``."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() if k not in skip for s in strings(v, skip)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v, skip)]
    return []


def format_chars(text: str) -> set[str]:
    """The invisible format characters (category Cf) in ``text``."""
    return {c for c in text if unicodedata.category(c) == "Cf"}


RENDERER = Renderer()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(alerts())
def test_slack_payload_is_always_valid_and_inert(alert: AlertRecord) -> None:
    """Blocks parse and validate with slack-sdk; links balanced; no mention or foreign link."""
    out = RENDERER.render(alert, "slack")
    assert out.blocks is not None and not out.fallback
    assert block_problems(out.blocks) == []
    parse_blocks(out.blocks)
    urls = {safe_url(r.url) for r in [alert.article, *alert.related]}
    allowed = {mrkdwn_escape(u) for u in urls if u is not None}
    for text in [*mrkdwn_texts(out.blocks), out.text]:
        assert links_balanced(text), text
        for target in re.findall(r"<([^<>|]*)[|>]", text):
            assert target in allowed, target  # only links the template built
        assert not re.search(r"<[!@#]", text)
        assert format_chars(text) <= ALLOWED_FORMAT
    header = out.blocks[0]["text"]["text"]
    assert format_chars(header) <= ALLOWED_FORMAT


@SETTINGS
@given(alerts())
def test_no_formatting_character_from_article_text_reaches_slack(alert: AlertRecord) -> None:
    """In the Slack template context, article text holds no ``* _ ~ ` `` (URLs excepted)."""
    context = alert_context(alert, mrkdwn=True)
    article_strings = strings(
        [context["article"], context["related"], context["evidence"]], frozenset({"url", "host"})
    )
    for value in article_strings:
        assert not (set(value) & FORMATTING), value


@SETTINGS
@given(alerts())
def test_email_always_parses_back(alert: AlertRecord) -> None:
    """Subject and bodies decode to exactly what was rendered; no header is injected."""
    out = RENDERER.render(alert, "email")
    assert out.subject is not None and out.html is not None
    raw = wire_bytes(out.subject, out.text, out.html)
    assert decoded_subjects(raw) == (out.subject, out.subject)
    head = b"\n".join(header_lines(raw)).lower()
    assert b"?q??=" not in head and b"?b??=" not in head
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None and not parsed.defects
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and html is not None
    got = [p.get_content().replace("\r\n", "\n").rstrip("\n") for p in (plain, html)]
    assert got == [out.text.rstrip("\n"), out.html.rstrip("\n")]


@SETTINGS
@given(TEXT)
def test_webhook_text_is_inert(text: str) -> None:
    """Webhook text has no ``<``/``>``, no formatting character, no live broadcast mention."""
    out = webhook_text(text)
    assert "<" not in out and ">" not in out and not (set(out) & FORMATTING)
    assert not re.search(r"@(channel|here|all|everyone)\b", out, re.IGNORECASE)
    assert format_chars(out) <= ALLOWED_FORMAT | {"\u2060"}
    json.dumps({"text": out})
