"""Views of an :class:`AuditReport`: a terminal table, JSON and one self-contained HTML file.

Like the replay report: article text is untrusted data, made printable in the terminal and
auto-escaped by Jinja2 in HTML; the page's Content-Security-Policy forbids scripts and any
network fetch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from streams.tools.audit.model import AuditEntry, AuditReport

__all__ = ["audit_json", "render_html", "summary_text", "write_html"]

TEMPLATES = Path(__file__).resolve().parent


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _printable(text: str, width: int) -> str:
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return clean if len(clean) <= width else clean[: width - 1] + "…"


def fate(entry: AuditEntry) -> str:
    """One line: what became of the match (channels, story, limit, reason)."""
    parts: list[str] = []
    if entry.status in ("alerted", "grouped") and entry.story_id:
        parts.append(f"story {entry.story_id}")
    for channel in entry.channels:
        text = f"{channel.channel} {channel.result}"
        if channel.at is not None:
            text += f" {_when(channel.at)}"
        if channel.reason:
            text += f" ({channel.reason})"
        parts.append(text)
    if entry.reason and not entry.channels:
        parts.append(entry.reason)
    return "; ".join(parts)


def summary_text(report: AuditReport, *, all_rows: bool = False, width: int = 60) -> str:
    """The terminal view: counts, then every match not plainly alerted (all with ``all_rows``)."""
    lines = [
        f"newswatch audit: {len(report.entries)} matches since {_when(report.since)}, "
        f"{report.defects} defect(s)",
        "",
        "by status:  " + "  ".join(f"{k} {v}" for k, v in report.by_status.items()),
        "",
        f"{'rule':<28} " + " ".join(f"{s:>13}" for s in report.by_status),
    ]
    for rule, counts in report.by_rule.items():
        row = " ".join(f"{counts.get(s, 0):>13}" for s in report.by_status)
        lines.append(f"{_printable(rule, 28):<28} {row}")
    lines += ["", "by reason:"]
    lines += [f"  {n:>5}  {_printable(reason, 90)}" for reason, n in report.by_reason.items()]
    rows = [e for e in report.entries if all_rows or e.status != "alerted"]
    if rows:
        lines += ["", f"{'matched':<20} {'status':<14} {'rule':<22} {'article':<{width}} fate"]
        for e in rows:
            mark = "!" if e.defect else " "
            lines.append(
                f"{_when(e.matched_at):<20} {mark}{e.status:<13} {_printable(e.rule_id, 22):<22} "
                f"{_printable(e.title or e.article_id, width):<{width}} {_printable(fate(e), 160)}"
            )
    if report.defects:
        lines += ["", f"DEFECT: {report.defects} match(es) have no outcome or an undelivered alert"]
    return "\n".join(lines) + "\n"


def audit_json(report: AuditReport) -> str:
    """The report as JSON (every entry)."""
    return report.model_dump_json(indent=2) + "\n"


def render_html(report: AuditReport) -> str:
    """One self-contained HTML page: counts per status, rule and reason, then every match."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["fate"] = fate
    return env.get_template("audit.html.j2").render(r=report)


def write_html(report: AuditReport, path: Path) -> int:
    """Write the HTML page to ``path``; returns its size in bytes."""
    data = render_html(report).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)
