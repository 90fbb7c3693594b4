"""``newswatch bench match --regex-worst-case``: the JSON report of issue 13.2."""

from __future__ import annotations

import io
import json

from streams.tools.bench.regex_worst import ADVERSARIAL_PATTERNS, run_regex_worst_case


def test_regex_worst_case_report_shape() -> None:
    """The report names the three patterns and gives per-article figures for every text."""
    out = io.StringIO()
    run_regex_worst_case(rounds=1, size=2_000, out=out)
    report = json.loads(out.getvalue())
    assert report["patterns"] == ADVERSARIAL_PATTERNS
    assert report["article_chars"] == 2_000
    assert set(report["regex_ms_per_article"]) == set(report["match_article_ms"])
    assert report["worst_ms"] == max(report["regex_ms_per_article"].values())
    assert report["target_ms"] == 50.0 and isinstance(report["target_met"], bool)
