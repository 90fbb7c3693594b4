"""Inline SVG timeline chart: matches per day (NEW vs BASELINE) for one rule.

Generated here, no JavaScript and no external resource, so the report opens offline. Every
piece of text that reaches the SVG is escaped. Past ``MAX_BARS`` days the chart groups days
into weeks (the JSON keeps the per-day figures). Matches of articles without a date are the
last bar, labelled ``undated``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from html import escape

from streams.tools.report.model import DayCount

__all__ = ["MAX_BARS", "timeline_svg"]

MAX_BARS = 120
WIDTH, HEIGHT = 760, 190
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 14, 34
NEW_COLOR, BASE_COLOR = "#2563eb", "#f59e0b"


UNDATED = "undated"


def _buckets(days: Sequence[DayCount]) -> tuple[list[tuple[str, int, int]], str]:
    """``[(label, new, baseline)]`` per day, or per ISO week (Monday) when there are many days;
    the ``undated`` bucket, if any, last."""
    undated = [(d.day, d.new, d.baseline) for d in days if d.day == UNDATED]
    days = [d for d in days if d.day != UNDATED]
    if len(days) <= MAX_BARS:
        return [(d.day, d.new, d.baseline) for d in days] + undated, "day"
    weeks: dict[str, list[int]] = {}
    for d in days:
        day = date.fromisoformat(d.day)
        monday = (day - timedelta(days=day.weekday())).isoformat()
        slot = weeks.setdefault(monday, [0, 0])
        slot[0] += d.new
        slot[1] += d.baseline
    return [(k, v[0], v[1]) for k, v in weeks.items()] + undated, "week"


def _nice_max(value: int) -> int:
    if value <= 2:
        return 2
    if value <= 4:
        return 4
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return value  # pragma: no cover - the loop always returns


def timeline_svg(rule_id: str, days: Sequence[DayCount]) -> str:
    """An ``<svg>`` element with grouped bars per day (or week) for NEW and BASELINE."""
    buckets, unit = _buckets(days)
    rid = escape(rule_id, quote=True)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    peak = max((max(n, b) for _, n, b in buckets), default=0)
    top = _nice_max(peak)
    parts = [
        f'<svg class="timeline" data-rule="{rid}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="matches per {unit} for rule {rid}: NEW vs BASELINE">',
        f"<title>Matches per {unit} for {rid}</title>",
    ]
    # axes and grid
    for frac in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - frac)
        value = top * frac
        label = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            'stroke="#d1d5db" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#374151">{label}</text>'
        )
    n = len(buckets)
    if n == 0:
        parts.append(
            f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" text-anchor="middle" '
            'font-size="13" fill="#6b7280">no articles in range</text>'
        )
    slot = plot_w / max(n, 1)
    bar = max(slot * 0.4, 0.6)
    label_every = max(1, math.ceil(n / 8))
    for i, (label, new, base) in enumerate(buckets):
        x0 = LEFT + i * slot + slot * 0.1
        tip = escape(f"{label}: NEW {new}, BASELINE {base}", quote=False)
        parts.append("<g>")
        parts.append(f"<title>{tip}</title>")
        for j, (count, color) in enumerate(((new, NEW_COLOR), (base, BASE_COLOR))):
            h = plot_h * count / top if top else 0
            x = x0 + j * bar
            parts.append(
                f'<rect class="{"new" if j == 0 else "baseline"}" x="{x:.2f}" '
                f'y="{TOP + plot_h - h:.2f}" width="{bar:.2f}" height="{h:.2f}" fill="{color}"/>'
            )
        parts.append("</g>")
        if i % label_every == 0 or label == UNDATED:
            tick = label[5:] if unit == "day" and label != UNDATED else label
            parts.append(
                f'<text x="{x0 + bar:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
                f'font-size="10" fill="#374151">{escape(tick)}</text>'
            )
    # legend
    lx = LEFT
    ly = HEIGHT - 8
    for name, color in (("NEW", NEW_COLOR), ("BASELINE", BASE_COLOR)):
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{lx + 14}" y="{ly}" font-size="11" fill="#111827">{name}</text>')
        lx += 90
    dated = [b for b in buckets if b[0] != UNDATED]
    if dated:
        first, last = dated[0][0], dated[-1][0]
        parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{ly}" text-anchor="end" font-size="11" fill="#6b7280">'
            f"{escape(first)} … {escape(last)} (UTC, per {unit})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
