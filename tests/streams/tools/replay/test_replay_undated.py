"""Undated matches get their own chart bucket; labels of absent articles are named as such."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from replay_corpus import TEXTS

from streams.settings import Settings
from streams.tools.replay import ReplayOptions, backtest
from streams.tools.report import DayCount, timeline_svg


def _bars(svg: str, kind: str) -> list[float]:
    """Heights of the ``new`` or ``baseline`` bars of a timeline SVG."""
    return [float(h) for h in re.findall(rf'class="{kind}"[^>]*height="([0-9.]+)"', svg)]


def test_five_undated_matches_show_in_an_undated_bucket(
    make_settings: Callable[..., Settings],
    watchlists: tuple[Path, Path],
    replay_enricher: Any,
    tmp_path: Path,
) -> None:
    """A rule with 5 matches on articles without a date charts them as "undated" (was empty)."""
    corpus = tmp_path / "undated.jsonl"
    rows = [
        {"id": f"U-{i}", "title": f"Report {i}", "text": TEXTS["SAME"], "language": "en"}
        for i in range(5)
    ]
    corpus.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    labels = tmp_path / "labels.jsonl"
    labels.write_bytes(
        orjson.dumps({"id": "U-0", "rule": "alibaba-espionage", "relevant": True})
        + b"\n"
        + orjson.dumps({"id": "GONE-1", "rule": "alibaba-espionage", "relevant": True})
        + b"\n"
    )
    new, base = watchlists
    options = ReplayOptions(
        watchlist=new,
        baseline=base,
        progress=False,
        inputs=[corpus],
        labels=labels,
        report=tmp_path / "r.html",
    )
    result = asyncio.run(backtest(make_settings(), options, enricher=replay_enricher))
    assert result.report is not None and result.html_path is not None
    [rule] = [r for r in result.report.rules if r.id == "alibaba-espionage"]
    assert rule.new_matches == 5
    assert [(d.day, d.new) for d in rule.timeline] == [("undated", 5)]
    html = result.html_path.read_text(encoding="utf-8")
    svg = html[html.index('<svg class="timeline" data-rule="alibaba-espionage"') :]
    svg = svg[: svg.index("</svg>")]
    assert max(_bars(svg, "new")) > 0 and ">undated<" in svg
    assert "no articles in range" not in svg
    assert result.report.labels is not None and result.report.labels.outside == 1
    assert "1 not in the replayed input" in html and "outside the range" not in html


def test_timeline_svg_puts_undated_after_the_days_and_out_of_week_grouping() -> None:
    """Dated days keep their order; "undated" is the last bar, also when days group into weeks."""
    days = [DayCount(day=f"2024-01-{d:02d}", new=1, baseline=0) for d in range(1, 4)]
    svg = timeline_svg("r", [*days, DayCount(day="undated", new=3, baseline=2)])
    assert len(_bars(svg, "new")) == 4 and svg.rindex(">undated<") > svg.rindex(">01-03<")
    assert "2024-01-01 … 2024-01-03" in svg
    many = [
        DayCount(day=f"2024-{m:02d}-{d:02d}", new=1, baseline=1)
        for m in range(1, 6)
        for d in range(1, 29)
    ]
    weekly = timeline_svg("r", [*many, DayCount(day="undated", new=4, baseline=0)])
    assert "per week" in weekly and ">undated<" in weekly
