"""Render a ``BacktestReport`` as one self-contained HTML file.

The template is a file shipped next to this module (``report.html.j2``); article text only
ever enters as template *data*, auto-escaped by Jinja2. The page carries a
Content-Security-Policy that forbids scripts and any network fetch, so even a text that
slipped through could not run or phone home. Charts are inline SVG (``_svg``). Long lists
are cut to a row budget so the file stays small (the JSON report keeps everything).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from streams.tools.report._svg import timeline_svg
from streams.tools.report.model import BacktestReport

__all__ = ["DEFAULT_MAX_ITEMS", "ROW_BUDGET", "highlight", "render_html", "write_html"]

TEMPLATES = Path(__file__).resolve().parent
DEFAULT_MAX_ITEMS = 100
#: Rows of article lists in the whole page; keeps 10,000-article reports well under 2 MB.
ROW_BUDGET = 2_500
_MIN_ITEMS = 10

T = TypeVar("T")

_env: Environment | None = None


def _environment() -> Environment:
    global _env
    if _env is None:
        _env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _env


def highlight(snippet: str, surface: str) -> tuple[str, str, str]:
    """Split ``snippet`` around the first case-insensitive occurrence of ``surface``."""
    if surface:
        at = snippet.find(surface)
        if at < 0:
            at = snippet.casefold().find(surface.casefold())
            if at >= 0 and len(snippet.casefold()) != len(snippet):
                at = -1  # casefold changed lengths: positions would not line up
        if at >= 0:
            return snippet[:at], snippet[at : at + len(surface)], snippet[at + len(surface) :]
    return snippet, "", ""


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _list_cap(report: BacktestReport, max_items: int) -> int:
    lists = 0
    for rule in report.rules:
        lists += sum(
            1
            for items in (
                rule.gained,
                rule.lost,
                rule.new_false_positives,
                rule.new_false_negatives,
                rule.baseline_false_positives,
                rule.baseline_false_negatives,
            )
            if items
        )
    if lists == 0:
        return max_items
    return max(min(max_items, ROW_BUDGET // lists), min(_MIN_ITEMS, max_items))


def render_html(report: BacktestReport, *, max_items: int = DEFAULT_MAX_ITEMS) -> str:
    """The report as an HTML document (string); lists cut to ``max_items`` rows or less."""
    cap = _list_cap(report, max(1, max_items))

    def cut(items: list[T]) -> list[T]:
        return items[:cap]

    charts = {rule.id: Markup(timeline_svg(rule.id, rule.timeline)) for rule in report.rules}
    context: dict[str, Any] = {
        "r": report,
        "s": report.stats,
        "charts": charts,
        "cut": cut,
        "pct": _pct,
        "highlight": highlight,
    }
    return _environment().get_template("report.html.j2").render(**context)


def write_html(report: BacktestReport, path: Path, *, max_items: int = DEFAULT_MAX_ITEMS) -> int:
    """Write the HTML report atomically; returns its size in bytes."""
    data = render_html(report, max_items=max_items).encode("utf-8")
    _atomic_write(path, data)
    return len(data)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
