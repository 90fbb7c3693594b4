"""Backtest reports of ``newswatch replay``: the data model and its three views.

    model        BacktestReport and its parts (the JSON contract)
    _terminal    summary_table(report) -> str
    _html        render_html / write_html: one self-contained file, inline SVG charts
    _json        report_json / write_json / read_json

Pure: no Kafka, no enrichment. Article text is untrusted data: escaped in HTML, made
printable in the terminal.
"""

from __future__ import annotations

from streams.tools.report._html import DEFAULT_MAX_ITEMS, highlight, render_html, write_html
from streams.tools.report._json import read_json, report_json, write_json
from streams.tools.report._svg import timeline_svg
from streams.tools.report._terminal import summary_table
from streams.tools.report.model import (
    ArticleHit,
    BacktestReport,
    DayCount,
    EvidenceBrief,
    LabelsRef,
    PartitionRead,
    ReplayStats,
    RuleReport,
    Scores,
    SourceRef,
    Totals,
    WatchlistRef,
)

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "ArticleHit",
    "BacktestReport",
    "DayCount",
    "EvidenceBrief",
    "LabelsRef",
    "PartitionRead",
    "ReplayStats",
    "RuleReport",
    "Scores",
    "SourceRef",
    "Totals",
    "WatchlistRef",
    "highlight",
    "read_json",
    "render_html",
    "report_json",
    "summary_table",
    "timeline_svg",
    "write_html",
    "write_json",
]
