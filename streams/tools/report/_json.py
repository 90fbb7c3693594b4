"""The machine-readable report: ``BacktestReport`` as JSON (every list in full)."""

from __future__ import annotations

from pathlib import Path

import orjson

from streams.tools.report._html import _atomic_write
from streams.tools.report.model import BacktestReport

__all__ = ["read_json", "report_json", "write_json"]


def report_json(report: BacktestReport) -> bytes:
    """The report as indented UTF-8 JSON."""
    return orjson.dumps(report.model_dump(mode="json"), option=orjson.OPT_INDENT_2)


def write_json(report: BacktestReport, path: Path) -> int:
    """Write the JSON report atomically; returns its size in bytes."""
    data = report_json(report)
    _atomic_write(path, data)
    return len(data)


def read_json(path: Path) -> BacktestReport:
    """Load a report written by ``write_json``."""
    return BacktestReport.model_validate_json(path.read_bytes())
