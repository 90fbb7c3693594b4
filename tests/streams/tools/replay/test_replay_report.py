"""Report views: HTML (escaped, self-contained, bounded), SVG chart, terminal table, JSON."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from streams.tools.report import (
    ArticleHit,
    BacktestReport,
    DayCount,
    EvidenceBrief,
    LabelsRef,
    ReplayStats,
    RuleReport,
    Scores,
    SourceRef,
    WatchlistRef,
    highlight,
    read_json,
    render_html,
    summary_table,
    timeline_svg,
    write_json,
)

EVIL = "<script>alert('pwned')</script><img src=x onerror=alert(1)>"


@pytest.fixture
def make_report() -> Callable[..., BacktestReport]:
    """Factory: a report with ``rules`` rules, ``hits`` gained hits each, over ``days`` days."""

    def factory(
        rules: int = 2,
        hits: int = 3,
        days: int = 3,
        labels: bool = True,
        title: str = "Title",
        snippet: str = "Alibaba faces espionage claims.",
    ) -> BacktestReport:
        day_names = [f"2024-03-{d + 1:02d}" for d in range(days)]
        scores = Scores(
            labelled=4,
            positives=2,
            tp=1,
            fp=1,
            fn=1,
            precision=0.5,
            recall=0.5,
            f1=0.5,
            unlabelled_matches=0,
        )
        rule_reports = []
        for r in range(rules):
            gained = [
                ArticleHit(
                    id=f"r{r}-a{i}",
                    title=f"{title} {i}",
                    source="wire",
                    time="2024-03-01T10:00:00Z",
                    timestamp_ms=1_709_287_200_000,
                    partition=0,
                    offset=i,
                    evidence=[
                        EvidenceBrief(
                            condition="concept:espionage",
                            term="espionage",
                            surface="espionage",
                            snippet=snippet,
                        )
                    ],
                )
                for i in range(hits)
            ]
            rule_reports.append(
                RuleReport(
                    id=f"rule-{r}",
                    title=f"Rule {r}",
                    in_new=True,
                    in_baseline=True,
                    new_matches=hits,
                    baseline_matches=0,
                    unchanged=0,
                    gained_count=hits,
                    lost_count=0,
                    gained=gained,
                    timeline=[DayCount(day=d, new=i, baseline=1) for i, d in enumerate(day_names)],
                    new_scores=scores if labels else None,
                    baseline_scores=scores if labels else None,
                    new_false_positives=gained[:1] if labels else [],
                )
            )
        return BacktestReport(
            generated_at="2024-03-10T00:00:00Z",
            source=SourceRef(kind="topic", topic="articles.raw", bootstrap="127.0.0.1:9092"),
            since="2024-03-01T00:00:00Z",
            until="2024-03-04T00:00:00Z",
            new=WatchlistRef(path="new.yaml", version="sha256:1", rules=rules),
            baseline=WatchlistRef(path="base.yaml", version="sha256:2", rules=rules),
            labels=LabelsRef(path="l.jsonl", judgements=4, used=4, outside=0) if labels else None,
            stats=ReplayStats(articles=hits * rules),
            days=day_names,
            rules=rule_reports,
        )

    return factory


def test_untrusted_text_is_escaped(make_report: Callable[..., BacktestReport]) -> None:
    """Titles and snippets with markup render as text: no script or img element gets through."""
    html = render_html(make_report(title=EVIL, snippet=f"Alibaba {EVIL} espionage here"))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
    assert "<mark>espionage</mark>" in html


def test_html_is_self_contained(make_report: Callable[..., BacktestReport]) -> None:
    """The page loads nothing from anywhere: no src/href to other documents, scripts forbidden."""
    html = render_html(make_report())
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert re.findall(r'href="([^"]*)"', html) == ["#rule-rule-0", "#rule-rule-1"]
    assert html.count('<tr class="rule-row"') == 2
    assert html.count('<svg class="timeline"') == 2


def test_long_lists_are_cut_and_size_stays_bounded(
    make_report: Callable[..., BacktestReport],
) -> None:
    """A report with 10 rules x 1,000 gained articles stays under 2 MB and says what it cut."""
    report = make_report(rules=10, hits=1_000, days=30, snippet="espionage " * 30)
    html = render_html(report)
    assert len(html.encode()) < 2_000_000
    assert "of 1000; the JSON report lists all" in html
    assert html.count('class="hits"') == 20  # gained + false positives per rule


def test_timeline_svg_bars_per_day_and_weeks_for_long_ranges() -> None:
    """One NEW and one BASELINE bar per day; past 120 days the chart groups by week."""
    days = [DayCount(day=f"2024-03-{d + 1:02d}", new=d, baseline=1) for d in range(3)]
    svg = timeline_svg("r<1>", days)
    assert svg.count('class="new"') == 3 and svg.count('class="baseline"') == 3
    assert 'data-rule="r&lt;1&gt;"' in svg and "per day" in svg
    many = [
        DayCount(day=f"2024-{1 + d // 28:02d}-{1 + d % 28:02d}", new=1, baseline=0)
        for d in range(28 * 6)
    ]
    weekly = timeline_svg("r", many)
    assert "per week" in weekly and weekly.count('class="new"') < 30
    assert "no articles in range" in timeline_svg("r", [])


def test_highlight_splits_around_the_surface() -> None:
    """The surface is found (case-insensitively) and split out; absent means no highlight."""
    assert highlight("Fear of Espionage rises", "espionage") == ("Fear of ", "Espionage", " rises")
    assert highlight("nothing here", "spy") == ("nothing here", "", "")


def test_terminal_table_has_one_row_per_rule(make_report: Callable[..., BacktestReport]) -> None:
    """The summary table lists each rule with counts and P/R/F1 columns, then totals."""
    table = summary_table(make_report())
    lines = table.splitlines()
    assert lines[0].split()[:5] == ["rule", "NEW", "BASE", "gained", "lost"]
    assert "P% new" in lines[0]
    rows = [line for line in lines if line.startswith("rule-")]
    assert [r.split()[0] for r in rows] == ["rule-0", "rule-1"]
    assert rows[0].split()[1:6] == ["3", "0", "+3", "-0", "50.0"]
    unlabelled = summary_table(make_report(labels=False))
    assert "P% new" not in unlabelled


def test_json_round_trip(make_report: Callable[..., BacktestReport], tmp_path: Path) -> None:
    """The JSON file reads back into the same report."""
    report = make_report()
    size = write_json(report, tmp_path / "r.json")
    assert size == (tmp_path / "r.json").stat().st_size
    assert read_json(tmp_path / "r.json") == report
