"""Rendered alerts decoded as the receiving client would: mail parsers, Slack Block Kit."""

from __future__ import annotations

import email
import email.generator
import email.policy
import io
import json
import re
from collections.abc import Callable
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from alerts._text import MAX_LINK, cut_mrkdwn, link_url, safe_url, strip_controls, webhook_text
from alerts.channels.email import build_message
from alerts.render import Renderer
from schemas.records import AlertRecord, ArticleRef

MakeA = Callable[..., AlertRecord]
SAMPLES = Path(__file__).resolve().parents[2] / "streams" / "samples"
GERMAN = "Die Behörden prüfen Äußerungen über den Vorfall in München"


def wire_bytes(subject: str, text: str = "body", html: str | None = None) -> bytes:
    """The message as aiosmtplib puts it on the wire (``BytesGenerator``, policy SMTP)."""
    msg = build_message(
        sender="newswatch@example.com",
        recipients=["secops@example.com"],
        subject=subject,
        text=text,
        html=html,
        message_id="<m1@newswatch>",
    )
    buf = io.BytesIO()
    email.generator.BytesGenerator(buf, policy=email.policy.SMTP).flatten(msg)
    return buf.getvalue()


def decoded_subjects(raw: bytes) -> tuple[str, str]:
    """The subject per the modern parser and per ``decode_header`` of the unfolded header."""
    modern = email.message_from_bytes(raw, policy=email.policy.default)["Subject"]
    legacy = email.message_from_bytes(raw)["Subject"]
    unfolded = re.sub(r"\r?\n", "", legacy)  # RFC 5322 unfolding, as a mail client does
    return str(modern), str(make_header(decode_header(unfolded)))


def header_lines(raw: bytes) -> list[bytes]:
    """The header lines of a wire message."""
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


@pytest.mark.parametrize("pad", range(0, 61))
def test_german_subject_decodes_to_exactly_the_original(pad: int) -> None:
    """Umlaut words keep the spaces between them at every fold position (was: "Behördenprüfen")."""
    subject = f"[newswatch] [HIGH] {'x' * pad} {GERMAN}".replace("  ", " ")
    raw = wire_bytes(subject)
    assert decoded_subjects(raw) == (subject, subject)
    assert all(len(line) <= 78 for line in header_lines(raw))


def test_sample_subject_has_no_empty_encoded_word() -> None:
    """The bundled German sample's alert subject has no ``=?utf-8?q??=`` and decodes exactly."""
    title = (SAMPLES / "alibaba-liege-de.txt").read_text(encoding="utf-8").splitlines()[0]
    for rule_title in ("Alibaba linked to espionage concerns", "Alibaba (alle Sprachen)"):
        for severity in ("high", "medium"):
            subject = f"[newswatch] [{severity.upper()}] {rule_title}: {title}"
            raw = wire_bytes(subject)
            assert b"?q??=" not in raw.lower() and b"?b??=" not in raw.lower()
            assert decoded_subjects(raw) == (subject, subject)


@pytest.mark.parametrize("pad", [0, 19, 20, 40])
def test_ascii_subject_parses_back_without_a_leading_space(pad: int) -> None:
    """A folded ASCII subject parses back exactly (the stdlib folded right after "Subject:")."""
    subject = f"[newswatch] [HIGH] {'x' * pad} ascii only words here and there".replace("  ", " ")
    assert decoded_subjects(wire_bytes(subject)) == (subject, subject)


def test_rendered_email_parses_back_to_subject_and_body(make_alert: MakeA) -> None:
    """A rendered German alert email parses back to the rendered subject, text and HTML."""
    alert = make_alert(title=GERMAN, snippet=f"{GERMAN}.")
    out = Renderer().render(alert, "email")
    assert out.subject is not None and out.html is not None
    raw = wire_bytes(out.subject, out.text, out.html)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert decoded_subjects(raw) == (out.subject, out.subject)
    assert GERMAN in out.subject
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain is not None and html is not None
    lf = {"text": plain.get_content(), "html": html.get_content()}
    lf = {k: v.replace("\r\n", "\n").rstrip("\n") for k, v in lf.items()}  # CRLF on the wire
    assert lf == {"text": out.text.rstrip("\n"), "html": out.html.rstrip("\n")}


# --------------------------------------------------------------------------- Slack


def parse_blocks(blocks: list[dict[str, Any]]) -> list[Block]:
    """Block Kit models of ``blocks``; each must parse and validate as Slack would."""
    models = Block.parse_all(blocks)
    assert len(models) == len(blocks) and all(m is not None for m in models)
    for model in models:
        model.validate_json()
    return models


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every mrkdwn string in ``blocks``."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def links_balanced(text: str) -> bool:
    """Every ``<`` closes with ``>`` before the next ``<`` (no half link after a cut)."""
    unquoted = re.sub(r"(?m)^>", "", text)  # a leading ">" is a block quote, not a link
    return re.fullmatch(r"[^<>]*(?:<[^<>]*>[^<>]*)*", unquoted) is not None


def test_evidence_quote_keeps_the_sentence_around_a_mention(make_alert: MakeA) -> None:
    """A sentence holding ``<!channel>`` is quoted whole and escaped (was ``>channel&gt;``)."""
    from tests.alerts.render_helpers import enrich_and_match

    sentence = "Officials said <!channel> Alibaba was suspected of espionage at the hub."
    found = enrich_and_match(f"First sentence here. {sentence} Last one.")
    assert found and all(ev.snippet == sentence for ev in found)
    evidence = found[0]
    out = Renderer().render(make_alert(snippet=evidence.snippet), "slack")
    assert out.blocks is not None
    quotes = [t for t in mrkdwn_texts(out.blocks) if t.startswith(">")]
    assert quotes and quotes[0].startswith(">Officials said &lt;!channel&gt; ")
    parse_blocks(out.blocks)


def test_also_reported_by_is_cut_between_links(make_alert: MakeA) -> None:
    """ "Also reported by" over 3,000 characters ends before a link, never inside one."""
    related = [
        ArticleRef(
            id=f"r{i}",
            title="Alibaba hub report " + "w" * 40,
            url=f"https://n{i}.example/{'p' * (90 + i)}",
            source=f"Source {i}",
        )
        for i in range(20)
    ]
    out = Renderer().render(make_alert(kind="update", related=related), "slack")
    assert out.blocks is not None
    texts = mrkdwn_texts(out.blocks)
    also = [t for t in texts if t.startswith("*First reported by*")]
    assert also and len(also[0]) <= 3000 and also[0].endswith("…")
    assert all(links_balanced(t) for t in texts)
    parse_blocks(out.blocks)


def test_long_non_ascii_url_is_dropped_not_cut(make_alert: MakeA) -> None:
    """A 1,900-character CJK URL (≈17k encoded) becomes no link at all, never half a link."""
    url = "https://news-one.example/" + "東" * 1_875
    assert len(url) == 1_900 and link_url(url) is None
    out = Renderer().render(
        make_alert(url=url, related=[ArticleRef(id="r", title="t", url=url)], kind="update"),
        "slack",
    )
    assert out.blocks is not None
    wire = json.dumps(out.blocks)
    assert len(safe_url(url) or "") > 16_000  # what percent-encoding made of it
    assert "%E6%9D%B1" not in wire and len(wire) < 6_000
    assert all(links_balanced(t) for t in mrkdwn_texts(out.blocks))
    parse_blocks(out.blocks)
    assert len(link_url("https://news-one.example/" + "д" * 100) or "") <= MAX_LINK


def test_formatting_characters_from_article_text_are_inert(make_alert: MakeA) -> None:
    """``*bold*``, ``_it_``, ``~strike~`` and backticks in article text cannot format in Slack."""
    hostile = "*bold* _it_ ~strike~ `code` ```block```"
    alert = make_alert(title=hostile, source=hostile, snippet=f"Alibaba {hostile} here.")
    out = Renderer().render(alert, "slack")
    assert out.blocks is not None
    for text in [*mrkdwn_texts(out.blocks), out.text]:
        for token in ("*bold*", "_it_", "~strike~", "`code`"):
            assert token not in text
    assert "\u2217bold\u2217 \u02cdit\u02cd \u223cstrike\u223c \u02cbcode\u02cb" in out.text
    parse_blocks(out.blocks)


@pytest.mark.parametrize("char", ["\u061c", "\u200b", "\ufeff", "\u2066", "\u00ad", "\u2060"])
def test_invisible_format_characters_are_removed(make_alert: MakeA, char: str) -> None:
    """Bidi marks, zero-width space, BOM and other invisible format characters are dropped."""
    assert strip_controls(f"Ali{char}baba") == "Alibaba"
    out = Renderer().render(
        make_alert(title=f"Ali{char}baba hub", snippet=f"Ali{char}baba."), "slack"
    )
    assert char not in json.dumps(out.blocks, ensure_ascii=False) + out.text
    assert "\u200d" in strip_controls("👩\u200d💻") and "\u200c" in strip_controls("می\u200cخواهم")


def test_webhook_text_carries_no_raw_mention() -> None:
    """The webhook ``text`` is escaped for Slack-/Mattermost-compatible incoming webhooks."""
    out = webhook_text("Alert <!channel> <@U1> <https://evil|x> @channel @here *b* A&B")
    assert "<" not in out and ">" not in out and "@channel" not in out and "@here" not in out
    assert out.startswith("Alert &lt;!channel&gt; &lt;@U1&gt;") and "A&amp;B" in out
    assert cut_mrkdwn("ab <https://x.example|y> cd", 10) == "ab…"
