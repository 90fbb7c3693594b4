"""Render alerts with Jinja2 templates in a sandbox: Slack Block Kit, email, console text.

Templates are looked up per rule, then in ``template_dir``, then among the built-ins in
``alerts/templates/``::

    <template_dir>/rules/<rule_id>/slack.json.j2   only for that rule
    <template_dir>/slack.json.j2                   every rule
    alerts/templates/slack.json.j2                 built-in

Each output has its own escaping, applied to every ``{{ expression }}`` (templates need no
filters and cannot forget one): Slack JSON → mrkdwn-escaped then JSON-escaped; Slack text
→ mrkdwn-escaped; email HTML → HTML-escaped (autoescape); text → controls stripped.
Article text only ever enters as a *value*: it is never compiled as template source.

``Renderer.validate()`` compiles and test-renders every template at start-up and raises
``TemplateError`` naming the template and line. At run time a failing template is logged
and replaced by the minimal built-in one (``alerts/templates/minimal/``); the alert still
goes out and the rule stays enabled.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateSyntaxError,
)
from jinja2.sandbox import SandboxedEnvironment

from alerts._context import alert_context, digest_context, sample_alert
from alerts._text import cut, cut_mrkdwn, mrkdwn_escape, one_line, strip_controls
from alerts.blocks import MAX_TEXT, fit_blocks
from alerts.errors import TemplateError
from schemas.records import AlertRecord

__all__ = ["BUILTIN_TEMPLATES", "FORMATS", "Format", "Rendered", "Renderer"]

log = logging.getLogger(__name__)

BUILTIN_TEMPLATES = Path(__file__).resolve().parent / "templates"
Format = Literal["slack", "email", "console", "digest"]
Mode = Literal["slack_json", "mrkdwn", "html", "text"]

#: format → (part, template name, escaping mode)
FORMATS: dict[str, tuple[tuple[str, str, Mode], ...]] = {
    "slack": (("blocks", "slack.json.j2", "slack_json"), ("text", "slack.txt.j2", "mrkdwn")),
    "email": (
        ("subject", "email.subject.j2", "text"),
        ("text", "email.txt.j2", "text"),
        ("html", "email.html.j2", "html"),
    ),
    "console": (("text", "console.txt.j2", "text"),),
    "digest": (
        ("subject", "digest.subject.j2", "text"),
        ("text", "digest.txt.j2", "text"),
        ("html", "digest.html.j2", "html"),
    ),
}
#: feedback links used to test-render the email templates
SAMPLE_FEEDBACK = {
    action: f"https://newswatch.example/email/feedback?t=sample-{action}"
    for action in ("relevant", "not_relevant", "mute_story")
}
_SAFE_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")


@dataclass
class Rendered:
    """One alert rendered for one format; unused parts are None."""

    fmt: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    html: str | None = None
    subject: str | None = None
    templates: list[str] = field(default_factory=list)
    fallback: bool = False


def _json_finalize(value: Any) -> str:
    return json.dumps(mrkdwn_escape(strip_controls(_str(value))), ensure_ascii=False)[1:-1]


def _mrkdwn_finalize(value: Any) -> str:
    return mrkdwn_escape(strip_controls(_str(value)))


def _text_finalize(value: Any) -> str:
    return strip_controls(_str(value))


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _make_env(loader: BaseLoader, mode: Mode) -> SandboxedEnvironment:
    common: dict[str, Any] = {
        "loader": loader,
        "undefined": StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "auto_reload": False,
    }
    if mode == "html":
        return SandboxedEnvironment(autoescape=True, **common)
    finalize = {"slack_json": _json_finalize, "mrkdwn": _mrkdwn_finalize, "text": _text_finalize}
    return SandboxedEnvironment(autoescape=False, finalize=finalize[mode], **common)


def _template_line(exc: BaseException, template: Template | None) -> int | None:
    """The template line of a render error, from the (Jinja-rewritten) traceback."""
    if isinstance(exc, TemplateSyntaxError):
        return exc.lineno
    filename = template.filename if template is not None else None
    tb: TracebackType | None = exc.__traceback__
    line = None
    while tb is not None:
        if filename and tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class Renderer:
    """Renders alerts; built-in templates unless overridden in ``template_dir``."""

    def __init__(self, template_dir: Path | None = None) -> None:
        self.template_dir = Path(template_dir) if template_dir else None
        loaders: list[BaseLoader] = []
        if self.template_dir is not None:
            loaders.append(FileSystemLoader(str(self.template_dir)))
        loaders.append(FileSystemLoader(str(BUILTIN_TEMPLATES)))
        chosen = ChoiceLoader(loaders)
        minimal = FileSystemLoader(str(BUILTIN_TEMPLATES / "minimal"))
        modes: tuple[Mode, ...] = ("slack_json", "mrkdwn", "html", "text")
        self._envs = {mode: _make_env(chosen, mode) for mode in modes}
        self._minimal = {mode: _make_env(minimal, mode) for mode in modes}
        self.stats: Counter[str] = Counter()

    # ------------------------------------------------------------------ public
    def validate(self) -> list[str]:
        """Compile and test-render every template in use; ``TemplateError`` names file:line."""
        checked: list[str] = []
        rules: list[str | None] = [None]
        if self.template_dir is not None and (self.template_dir / "rules").is_dir():
            rules += sorted(p.name for p in (self.template_dir / "rules").iterdir() if p.is_dir())
        sample = sample_alert()
        for fmt, parts in FORMATS.items():
            for rule in rules:
                alert = sample if rule is None else sample.model_copy(update={"rule_id": rule})
                pair = [alert, alert.model_copy(update={"kind": "new"})]
                contexts = [self._context(fmt, pair)]
                if fmt == "email":  # with the signed feedback links too
                    contexts.append(self._context(fmt, pair, SAMPLE_FEEDBACK))
                for part, name, mode in parts:
                    template = self._template(name, mode, rule)
                    for context in contexts:
                        self._render_part(template, mode, part, context)
                    if template.name not in checked:
                        checked.append(str(template.name))
        for fmt, parts in FORMATS.items():  # the fallbacks must work too
            context = self._context(fmt, [sample], SAMPLE_FEEDBACK)
            for part, name, mode in parts:
                self._render_part(self._minimal[mode].get_template(name), mode, part, context)
        return checked

    def render(
        self, alert: AlertRecord, fmt: str, *, feedback: Mapping[str, str] | None = None
    ) -> Rendered:
        """Render one alert; on a template error log it and use the minimal template.

        ``feedback``: the signed feedback links of an email (``{action: URL}``, template
        variable ``feedback``; None: no links).
        """
        return self._render(fmt, [alert], alert.rule_id, feedback)

    def render_digest(self, alerts: list[AlertRecord]) -> Rendered:
        """Render several alerts as one digest email (subject, text, HTML)."""
        return self._render("digest", alerts, None)

    # ------------------------------------------------------------------ internals
    def _render(
        self,
        fmt: str,
        alerts: list[AlertRecord],
        rule: str | None,
        feedback: Mapping[str, str] | None = None,
    ) -> Rendered:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; one of {sorted(FORMATS)}")
        context = self._context(fmt, alerts, feedback)
        try:
            parts = {}
            names = []
            for part, name, mode in FORMATS[fmt]:
                template = self._template(name, mode, rule)
                names.append(str(template.name))
                parts[part] = self._render_part(template, mode, part, context)
            self.stats[f"rendered:{fmt}"] += 1
            return self._assemble(fmt, parts, names, fallback=False)
        except TemplateError as exc:
            log.error("template error, using the minimal template: %s", exc)
            self.stats[f"fallback:{fmt}"] += 1
        parts, names = {}, []
        for part, name, mode in FORMATS[fmt]:
            try:
                parts[part] = self._render_part(
                    self._minimal[mode].get_template(name), mode, part, context
                )
            except TemplateError as exc:  # pragma: no cover - the minimal templates are tested
                log.error("minimal template failed too: %s", exc)
                parts[part] = self._last_resort(part, alerts)
            names.append(f"minimal/{name}")
        return self._assemble(fmt, parts, names, fallback=True)

    @staticmethod
    def _context(
        fmt: str, alerts: list[AlertRecord], feedback: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        if fmt == "digest":
            return digest_context(alerts)
        context = alert_context(alerts[0], mrkdwn=fmt == "slack")
        context["feedback"] = dict(feedback) if feedback else None
        return context

    def _template(self, name: str, mode: Mode, rule: str | None) -> Template:
        env = self._envs[mode]
        candidates = [name]
        if rule and _SAFE_RULE.fullmatch(rule) and self.template_dir is not None:
            candidates.insert(0, f"rules/{rule}/{name}")
        try:
            return env.select_template(candidates)
        except TemplateSyntaxError as exc:
            raise TemplateError(
                exc.filename or exc.name or name, exc.message or "syntax error", line=exc.lineno
            ) from None
        except Exception as exc:  # TemplateNotFound and friends
            raise TemplateError(name, f"{type(exc).__name__}: {exc}") from None

    @staticmethod
    def _render_part(template: Template, mode: Mode, part: str, context: dict[str, Any]) -> Any:
        where = template.filename or template.name or "?"
        try:
            output = template.render(context)
        except Exception as exc:
            raise TemplateError(
                where, f"{type(exc).__name__}: {exc}", line=_template_line(exc, template)
            ) from None
        if mode != "slack_json":
            return output
        try:
            data = json.loads(output)
        except json.JSONDecodeError as exc:
            raise TemplateError(
                where, f"output is not JSON: {exc.msg} (output line {exc.lineno})"
            ) from None
        blocks = data.get("blocks") if isinstance(data, dict) else data
        if not isinstance(blocks, list):
            raise TemplateError(where, 'output must be {"blocks": [...]} or a list of blocks')
        return blocks

    @staticmethod
    def _assemble(fmt: str, parts: dict[str, Any], names: list[str], *, fallback: bool) -> Rendered:
        text = str(parts.get("text", "")).strip("\n")
        subject = parts.get("subject")
        blocks = parts.get("blocks")
        return Rendered(
            fmt=fmt,
            text=cut_mrkdwn(text, MAX_TEXT) if fmt == "slack" else text + "\n",
            blocks=fit_blocks(blocks) if blocks is not None else None,
            html=parts.get("html"),
            subject=cut(one_line(subject), 200) if subject is not None else None,
            templates=names,
            fallback=fallback,
        )

    @staticmethod
    def _last_resort(part: str, alerts: list[AlertRecord]) -> Any:
        alert = alerts[0]
        line = one_line(f"[{alert.severity.upper()}] {alert.rule_title}: {alert.article.title}")
        if part == "blocks":
            return [{"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn_escape(line)}}]
        if part == "html":
            from html import escape

            return f"<p>{escape(line)}</p>"
        return mrkdwn_escape(line) if part == "text" else line
