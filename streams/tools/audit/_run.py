"""Wire ``newswatch audit``: settings → read the topics → build the report → print/write it."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from streams.errors import NewswatchError
from streams.settings import Settings
from streams.tools.audit._read import read_audit_input
from streams.tools.audit._views import audit_json, summary_text, write_html
from streams.tools.audit.model import AuditReport, build_audit

__all__ = ["AuditError", "AuditOptions", "audit", "run_audit"]


class AuditError(NewswatchError):
    """The audit could not read what it needs (exit code 2; 1 means defects were found)."""

    exit_code = 2


@dataclass(frozen=True)
class AuditOptions:
    """What ``newswatch audit`` was asked for."""

    since: datetime | None = None
    json_out: bool = False
    html: Path | None = None
    grace_s: float = 120.0
    all_rows: bool = False


async def audit(settings: Settings, options: AuditOptions) -> AuditReport:
    """Read the topics since ``options.since`` and account for every match."""
    from streams.kafka.security import client_kwargs

    since_ms = int(options.since.timestamp() * 1000) if options.since else None
    topics = settings.topics
    names = {"matches": topics.matches, "outcomes": topics.outcomes, "dlq": topics.alerts_dlq}
    from streams.tools.replay.errors import TopicNotFound

    try:
        data = await read_audit_input(
            settings.bootstrap_servers, names, since_ms=since_ms, security=client_kwargs(settings)
        )
    except TopicNotFound as exc:
        raise AuditError(
            f"cannot audit: {exc.topic!r} does not exist on {settings.bootstrap_servers} "
            "(no worker ran with this NEWSWATCH_TOPIC_PREFIX, or one older than alerts.outcomes)"
        ) from None
    except NewswatchError as exc:
        raise AuditError(f"cannot audit: {exc}") from None
    return build_audit(
        data.matches,
        data.outcomes,
        data.letters,
        matches_topic=topics.matches,
        now=time.time(),
        grace_s=options.grace_s,
        since=since_ms / 1000 if since_ms is not None else None,
        records_read=data.read,
    )


def run_audit(settings: Settings, options: AuditOptions, out: TextIO = sys.stdout) -> int:
    """Run the audit; exit code 1 when a match has no outcome (a defect), else 0."""
    report = asyncio.run(audit(settings, options))
    out.write(
        audit_json(report) if options.json_out else summary_text(report, all_rows=options.all_rows)
    )
    if options.html is not None:
        size = write_html(report, options.html)
        print(f"audit report: {options.html} ({size} bytes)", file=sys.stderr)
    return 1 if report.defects else 0
