"""The composition root: a worker built from settings, its health and its lifecycle."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from streams.pipeline.root import build_worker
from streams.pipeline.web import ready
from streams.settings import Settings
from streams.testing import MemoryOutbox, term_watchlist, write_text_atomic


def _settings(make_settings: Callable[..., Settings], watchlist: Path) -> Settings:
    return make_settings(watchlist=watchlist, alert_channels=["file"])


def test_empty_watchlist_makes_the_worker_unready(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """A watch-list without an enabled rule (a truncated ConfigMap) turns /ready to 503."""
    path = tmp_path / "wl.yaml"
    path.write_text("version: 1\nrules: []\n")
    worker = build_worker(_settings(make_settings, path), outbox=MemoryOutbox())
    worker.health.broker_checked(True)
    body = json.loads(ready(worker.health).body)
    assert ready(worker.health).status == 503
    assert body["checks"]["watchlist"]["rules"] == 0 and not body["checks"]["watchlist"]["ok"]


async def test_restored_watchlist_clears_the_reload_error(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Break the file, then restore the same content: the reload error is cleared."""
    path = tmp_path / "wl.yaml"
    good = term_watchlist({"r1": ("spy", "file")})
    path.write_text(good)
    worker = build_worker(_settings(make_settings, path), outbox=MemoryOutbox())
    write_text_atomic(path, good + "  - this is: [not valid\n")
    await worker.poll_watchlist()
    assert worker.health.watchlist_error is not None
    write_text_atomic(path, good)
    await worker.poll_watchlist()
    assert worker.health.watchlist_error is None
    assert worker.health.checks()["watchlist"]["ok"]


def test_unreachable_channel_makes_the_worker_unready(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """A rule naming Slack in a worker without a token: /ready names rule, channel, setting."""
    path = tmp_path / "wl.yaml"
    path.write_text(term_watchlist({"r1": ("spy", "slack:#sec")}))
    worker = build_worker(_settings(make_settings, path), outbox=MemoryOutbox())
    worker.health.broker_checked(True)
    check = worker.health.checks()["channels"]
    assert not check["ok"]
    assert "'r1'" in check["detail"] and "slack:#sec" in check["detail"]
    assert "SLACK_BOT_TOKEN" in check["detail"]
    assert ready(worker.health).status == 503
