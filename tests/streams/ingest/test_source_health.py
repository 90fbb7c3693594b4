"""Source health bookkeeping: each incident opens once and recovers once (pure, fake clock)."""

from __future__ import annotations

from streams.ingest.health import HealthPolicy, Incident, SourceHealth


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def _run(
    health: SourceHealth, clock: Clock, steps: list[tuple[str, int | None, int]]
) -> list[Incident]:
    """Feed ``(outcome, parsed, new)`` per 60 s step for source "f"; collect incidents."""
    out: list[Incident] = []
    for outcome, parsed, new in steps:
        clock.t += 60
        if outcome == "fail":
            health.failed("f", "HTTP 500")
        else:
            health.fetched("f", parsed, new)
        out += health.evaluate()
    return out


def test_failing_opens_after_n_and_recovers_once() -> None:
    """Three failures in a row: one incident; more failures: nothing; a success: recovery."""
    clock = Clock()
    health = SourceHealth(HealthPolicy(fail_after=3), clock=clock)
    got = _run(health, clock, [("ok", 5, 5)] + [("fail", None, 0)] * 6 + [("ok", 5, 1)] * 2)
    assert [(i.kind, i.recovered) for i in got] == [("failing", False), ("failing", True)]
    assert "HTTP 500" in got[0].title and got[1].title.startswith("Recovered: source f was failing")


def test_zero_items_after_items_is_one_incident() -> None:
    """A feed that parsed items and now parses none: one incident (no silent), one recovery."""
    clock = Clock()
    health = SourceHealth(HealthPolicy(min_gaps=2), clock=clock)
    steps = [("ok", 3, 1)] * 4 + [("ok", 0, 0)] * 10 + [("ok", 3, 1)] * 2
    got = _run(health, clock, steps)
    assert [(i.kind, i.recovered) for i in got] == [("zero_items", False), ("zero_items", True)]


def test_silent_after_k_times_the_usual_gap() -> None:
    """New items every 60 s, then none for > 3 x 60 s: silent once; a new item: recovered."""
    clock = Clock()
    health = SourceHealth(HealthPolicy(silent_factor=3.0, min_gaps=3), clock=clock)
    steps = [("ok", 3, 1)] * 5 + [("ok", 3, 0)] * 8 + [("ok", 3, 1)] * 2
    got = _run(health, clock, steps)
    assert [(i.kind, i.recovered) for i in got] == [("silent", False), ("silent", True)]
    assert "usual gap 60s" in got[0].detail


def test_not_modified_is_no_zero_items() -> None:
    """A 304 (parsed None) is not an empty feed."""
    clock = Clock()
    health = SourceHealth(HealthPolicy(min_silent_s=10_000), clock=clock)
    assert _run(health, clock, [("ok", 3, 3)] + [("ok", None, 0)] * 5) == []


def test_low_volume_against_the_daily_baseline() -> None:
    """Ten items a day for a week, then one: low volume once; back to ten: recovered."""
    clock = Clock()
    health = SourceHealth(HealthPolicy(min_silent_s=10**9, low_fraction=0.3), clock=clock)
    incidents: list[Incident] = []
    for day, count in enumerate([10] * 7 + [1, 10, 10]):
        clock.t = 1_800_000_000.0 + day * 86_400
        health.fetched("f", count, count)
        incidents += health.evaluate()
    assert [(i.kind, i.recovered) for i in incidents] == [
        ("low_volume", False),
        ("low_volume", True),
    ]
    row = health.sources["f"].snapshot(clock.t, 3)
    assert row["status"] == "healthy" and row["baseline_per_day"] is not None
