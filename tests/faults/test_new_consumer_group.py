"""A worker with a new consumer group does not re-send history (issue 12, finding 2).

Worker A alerts on three articles; then worker B, with another ``NEWSWATCH_APP_ID`` on the
same broker, reads articles.raw, articles.matches and alerts from the beginning. Everything
it finds is older than its maximum alert age, so it posts nothing and counts them as stale.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fault_support import generate_stream

from streams.settings import Settings
from streams.testing import (
    SlackThread,
    WorkerProcess,
    group_lag,
    metric_value,
    produce_values,
    scrape_metrics,
    wait_until,
)

pytestmark = [pytest.mark.faults, pytest.mark.broker]

MAX_AGE_S = 2.0


def test_new_app_id_posts_no_old_alerts(
    fault_settings: Callable[..., Settings],
    slack_server: Callable[..., SlackThread],
    spawn_worker: Callable[..., WorkerProcess],
) -> None:
    """A second worker with a new app id on the same topics posts none of the old alerts."""
    slack = slack_server()
    stream = generate_stream(6, every=2, rules=1)  # 3 matching articles
    settings = fault_settings({"r0": ("zorblax", "slack:#sec")}, slack=slack)
    first = spawn_worker(settings, name="first")
    produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), stream.records)
    assert wait_until(lambda: len(slack.messages()) == 3, timeout=90), first.log_tail()
    first.stop(timeout=10)

    time.sleep(MAX_AGE_S + 1)  # everything on the topics is now older than B's maximum age
    staging = settings.model_copy(
        update={"app_id": settings.app_id + "-staging", "max_alert_age_s": MAX_AGE_S}
    )
    second = spawn_worker(staging, name="second")

    def caught_up(*topics: str) -> bool:
        return all(
            group_lag(staging.bootstrap_servers, staging.app_id, staging.topic(t)) == 0
            for t in topics
        )

    assert wait_until(lambda: caught_up("articles.raw", "articles.matches"), timeout=90), (
        second.log_tail()
    )
    time.sleep(3)
    assert len(slack.messages()) == 3, [m.get("text") for m in slack.messages()]
    assert wait_until(lambda: caught_up("alerts.lane.slack"), timeout=30), second.log_tail()
    assert len(slack.messages()) == 3
    stale = metric_value(scrape_metrics(second.web_port), "newswatch_alerts_total", outcome="stale")
    assert stale >= 3
    assert "stale" in second.log_tail(200)
