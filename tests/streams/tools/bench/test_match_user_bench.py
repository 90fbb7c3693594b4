"""``newswatch bench match``'s user section (issue 15 target 1): figures, not speed."""

from __future__ import annotations

from streams.tools.bench.match_user import run_user_bench


def test_user_bench_reports_cli_runs_and_reload_lag() -> None:
    """The section times real `newswatch match` children at both rule counts and a reload."""
    report = run_user_bench([2, 5], articles=10, repeat=1)
    runs = {r["rules"]: r for r in report["runs"]}
    assert set(runs) == {2, 5}
    for row in runs.values():
        assert row["start_cpu_s"] > 0 and row["run_cpu_s"] >= row["start_cpu_s"]
        assert row["peak_rss_mb"] >= row["start_peak_rss_mb"] > 0
        assert row["matches"] >= 1  # article 10 names organisation 0 next to its concept
    reload = report["reload"]
    assert reload["swapped"] is True and reload["rules"] == 5
    assert reload["loop_lag_during_reload"]["samples"] > 0
    assert len(report["targets"]) == 4
