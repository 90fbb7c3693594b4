"""Sandboxed Jinja rendering: escaping, limits, validation and run-time fallback."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from alerts.blocks import block_problems
from alerts.errors import TemplateError
from alerts.render import Renderer
from schemas.records import AlertRecord, Evidence

MakeA = Callable[..., AlertRecord]
INJECTION = "<!channel> <@U123> <https://evil.example|click> {{ 7*7 }} <script>alert(1)</script>"


def _slack_strings(rendered_blocks: object, text: str) -> str:
    return json.dumps(rendered_blocks, ensure_ascii=False) + "\n" + text


def test_builtin_templates_validate() -> None:
    """Every built-in template compiles and renders the sample alert."""
    names = Renderer().validate()
    assert "slack.json.j2" in names and "email.html.j2" in names and "console.txt.j2" in names


def test_injection_is_inert_in_slack_output(make_alert: MakeA) -> None:
    """Mentions, links, template syntax and tags in article text arrive escaped in Slack."""
    alert = make_alert(title=INJECTION, source=INJECTION, snippet=INJECTION)
    out = Renderer().render(alert, "slack")
    assert out.blocks is not None and not out.fallback
    everything = _slack_strings(out.blocks, out.text)
    for forbidden in ("<!channel>", "<@U123>", "<https://evil", "<script>", "49"):
        assert forbidden not in everything
    assert "&lt;!channel&gt;" in everything and "{{ 7\u22177 }}" in everything  # * made inert
    # the only link is the one the template built around the validated article URL
    links = [s for s in everything.split("<")[1:] if s.startswith("http")]
    assert links and all(s.startswith("https://news-one.example/") for s in links)


def test_injection_is_inert_in_email_html(make_alert: MakeA) -> None:
    """The email HTML escapes tags; the subject is one line; nothing is evaluated."""
    alert = make_alert(title=INJECTION + "\r\nBcc: victim@example.com", snippet=INJECTION)
    out = Renderer().render(alert, "email")
    assert out.html is not None and out.subject is not None
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "{{ 7*7 }}" in out.html and "49" not in out.html
    assert "\n" not in out.subject and "\r" not in out.subject


def test_untrusted_url_never_becomes_a_link(make_alert: MakeA) -> None:
    """A ``javascript:`` URL is dropped; no href or Slack link is made from it."""
    alert = make_alert(url="javascript:alert(1)")
    slack = Renderer().render(alert, "slack")
    email = Renderer().render(alert, "email")
    assert "javascript" not in json.dumps(slack.blocks)
    assert email.html is not None and "href" not in email.html


def test_slack_output_fits_block_kit_limits(make_alert: MakeA) -> None:
    """A huge title and many matched sentences still give a valid, cut message."""
    alert = make_alert(title="T" * 1000, source="S" * 1000)
    many = [
        Evidence(
            condition="concept:espionage",
            term="spy",
            surface="spy",
            start=0,
            end=3,
            sentence=i,
            paragraph=0,
            snippet=f"spy sentence {i} " + "x" * 5000,
        )
        for i in range(100)
    ]
    alert = alert.model_copy(update={"evidence": many})
    out = Renderer().render(alert, "slack")
    assert out.blocks is not None
    assert block_problems(out.blocks) == []
    header = out.blocks[0]["text"]["text"]
    assert len(header) <= 150
    assert any("more matched sentences" in json.dumps(b) for b in out.blocks)
    assert len(out.text) <= 3000 and out.text.endswith("…")


def test_console_text_shows_rule_severity_title_and_sentence(make_alert: MakeA) -> None:
    """The console format names the rule, severity and title and quotes the sentence."""
    out = Renderer().render(make_alert(title="Title \x1b[31mred"), "console")
    assert "HIGH · alibaba-espionage" in out.text
    assert "Title [31mred" in out.text and "\x1b" not in out.text
    assert "*Alibaba* Group over possible *espionage*." in out.text


def test_syntax_error_in_override_names_template_and_line(tmp_path: Path) -> None:
    """``validate`` reports a broken override as ``file:line: message``."""
    (tmp_path / "slack.txt.j2").write_text("line one\n{% if alert.kind %}\nno endif\n")
    with pytest.raises(TemplateError) as err:
        Renderer(tmp_path).validate()
    assert err.value.template.endswith("slack.txt.j2")
    assert err.value.line is not None and err.value.line >= 2


def test_undefined_variable_in_override_names_line(tmp_path: Path) -> None:
    """StrictUndefined: a misspelt variable fails validation with its line."""
    (tmp_path / "console.txt.j2").write_text("ok\n{{ alert.rule_id }}\n{{ alert.no_such }}\n")
    with pytest.raises(TemplateError) as err:
        Renderer(tmp_path).validate()
    assert err.value.line == 3 and "no_such" in str(err.value)


def test_sandbox_blocks_attribute_escapes(tmp_path: Path) -> None:
    """A template reaching for Python internals is refused by the sandbox."""
    (tmp_path / "console.txt.j2").write_text("{{ alert.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateError):
        Renderer(tmp_path).validate()


def test_runtime_template_error_falls_back_and_logs(
    tmp_path: Path, make_alert: MakeA, caplog: pytest.LogCaptureFixture
) -> None:
    """A per-rule template that fails at run time is logged and the minimal one is used."""
    rule_dir = tmp_path / "rules" / "alibaba-espionage"
    rule_dir.mkdir(parents=True)
    (rule_dir / "slack.json.j2").write_text('{"blocks": [{{ alert.missing }}]}')
    caplog.set_level(logging.ERROR)
    out = Renderer(tmp_path).render(make_alert(title=INJECTION), "slack")
    assert out.fallback and out.templates[0] == "minimal/slack.json.j2"
    assert out.blocks and block_problems(out.blocks) == []
    assert "<!channel>" not in json.dumps(out.blocks)
    assert "slack.json.j2:1" in caplog.text


def test_per_rule_and_folder_overrides_are_used(tmp_path: Path, make_alert: MakeA) -> None:
    """A rule's own template wins over the folder's, which wins over the built-in."""
    (tmp_path / "console.txt.j2").write_text("folder {{ alert.rule_id }}")
    rule_dir = tmp_path / "rules" / "other-rule"
    rule_dir.mkdir(parents=True)
    (rule_dir / "console.txt.j2").write_text("rule {{ article.title }}")
    renderer = Renderer(tmp_path)
    renderer.validate()
    alert = make_alert(title="<b>T</b>")
    assert renderer.render(alert, "console").text == "folder alibaba-espionage\n"
    other = alert.model_copy(update={"rule_id": "other-rule"})
    assert renderer.render(other, "console").text == "rule <b>T</b>\n"


def test_digest_lists_every_alert(make_alert: MakeA) -> None:
    """The digest subject counts the items and the body lists each title."""
    alerts = [make_alert("a", title="First <one>"), make_alert("b", title="Second")]
    out = Renderer().render_digest(alerts)
    assert out.subject is not None and "2 alerts" in out.subject
    assert "First <one>" in out.text and "Second" in out.text
    assert out.html is not None and "First &lt;one&gt;" in out.html
