"""The terminal summary: one aligned text table, one row per rule, plus a totals line."""

from __future__ import annotations

import unicodedata

from streams.tools.report.model import BacktestReport, Scores

__all__ = ["summary_table"]

_MAX_RULE = 36


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut(text: str, limit: int) -> str:
    clean = "".join(ch if ch.isprintable() else "?" for ch in text)
    return clean if _width(clean) <= limit else clean[: limit - 1] + "…"


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def _scores(sc: Scores | None) -> list[str]:
    if sc is None:
        return ["n/a", "n/a", "n/a"]
    return [_pct(sc.precision), _pct(sc.recall), _pct(sc.f1)]


def summary_table(report: BacktestReport) -> str:
    """The per-rule figures as a plain-text table (printable on any terminal)."""
    with_labels = report.labels is not None
    header = ["rule", "NEW", "BASE", "gained", "lost"]
    if with_labels:
        header += ["P% new", "R% new", "F1 new", "P% base", "R% base", "F1 base"]
    rows: list[list[str]] = []
    for rule in report.rules:
        name = _cut(rule.id, _MAX_RULE)
        if not rule.in_new:
            name += " (removed)"
        elif not rule.in_baseline:
            name += " (new)"
        row = [
            name,
            str(rule.new_matches),
            str(rule.baseline_matches),
            f"+{rule.gained_count}",
            f"-{rule.lost_count}",
        ]
        if with_labels:
            row += _scores(rule.new_scores) + _scores(rule.baseline_scores)
        rows.append(row)
    t = report.totals
    total = ["TOTAL", str(t.new_matches), str(t.baseline_matches), f"+{t.gained}", f"-{t.lost}"]
    if with_labels:
        total += [""] * 6
    widths = [max(_width(r[i]) for r in [header, *rows, total]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(_pad(c, widths[i], right=i > 0) for i, c in enumerate(cells)).rstrip()

    rule_line = "  ".join("-" * w for w in widths)
    out = [line(header), rule_line, *(line(r) for r in rows), rule_line, line(total)]
    s = report.stats
    out.append(
        f"{s.articles} articles replayed in {s.elapsed_s:.2f} s"
        f" ({s.articles_per_s:.1f} articles/s);"
        f" {s.duplicates} duplicates, {s.replayed_skipped} replayed copies skipped,"
        f" {s.invalid} invalid, {s.enrich_failed} failed enrichment"
    )
    return "\n".join(out)
