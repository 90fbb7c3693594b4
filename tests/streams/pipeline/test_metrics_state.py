"""The alert-state size gauge: keys of the policy and sent tables, read at every scrape."""

from __future__ import annotations

from streams.pipeline.metrics import Metrics


def test_alert_state_keys_follow_the_tables_at_scrape_time() -> None:
    """The gauge shows each table's current key count; 0 before tracking, NaN if unreadable."""
    metrics = Metrics()
    assert metrics.sample("newswatch_alert_state_keys", table="policy") == 0
    policy: dict[str, object] = {"r|a|1": {}, "r|s|1": {}}
    metrics.track_state_size("policy", lambda: len(policy))
    assert metrics.sample("newswatch_alert_state_keys", table="policy") == 2
    policy["r|u|x"] = {}
    assert metrics.sample("newswatch_alert_state_keys", table="policy") == 3
    assert b'newswatch_alert_state_keys{table="sent"} 0.0' in metrics.render()

    def broken() -> int:
        raise RuntimeError("table not started")

    metrics.track_state_size("sent", broken)
    value = metrics.sample("newswatch_alert_state_keys", table="sent")
    assert value is not None and value != value  # NaN
