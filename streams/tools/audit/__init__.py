"""``newswatch audit``: every match since a time and what became of it.

model     MatchRef, AuditEntry, AuditReport, build_audit (pure)
_read     read articles.matches, alerts.outcomes and alerts.dlq (Kafka)
_views    terminal summary, JSON, self-contained HTML
"""

from __future__ import annotations

from streams.tools.audit._run import AuditOptions, run_audit
from streams.tools.audit._views import audit_json, render_html, summary_text, write_html
from streams.tools.audit.model import (
    DEFECT_STATUSES,
    AuditEntry,
    AuditReport,
    ChannelFate,
    MatchRef,
    build_audit,
)

__all__ = [
    "DEFECT_STATUSES",
    "AuditEntry",
    "AuditOptions",
    "AuditReport",
    "ChannelFate",
    "MatchRef",
    "audit_json",
    "build_audit",
    "render_html",
    "run_audit",
    "summary_text",
    "write_html",
]
