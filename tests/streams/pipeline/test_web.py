"""/health, /ready and /metrics: handler logic, and the pages mounted on a real Faust app."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from streams.pipeline.metrics import CONTENT_TYPE, Metrics
from streams.pipeline.web import (
    HEALTH_PATH,
    METRICS_PATH,
    READY_PATH,
    HealthState,
    handle,
    health,
    metrics,
    mount,
    ready,
)


class Clock:
    """A settable clock for HealthState."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def make_state() -> Callable[..., HealthState]:
    """Factory: a HealthState on a fixed clock, optionally with every check passing."""

    def make(*, healthy: bool = False, clock: Clock | None = None) -> HealthState:
        state = HealthState(clock=clock or Clock())
        if healthy:
            state.broker_checked(True)
            state.watchlist_loaded("sha256:abc")
            state.templates_checked(True)
            state.pipelines_loaded(["de"])
        return state

    return make


def body(response) -> dict:  # type: ignore[no-untyped-def]
    """The JSON body of a handler response."""
    assert response.content_type == "application/json"
    return json.loads(response.body)


def test_health_is_ok_with_uptime_while_running(make_state) -> None:
    """Liveness answers 200 and the uptime from the state's clock."""
    clock = Clock(100.0)
    state = make_state(clock=clock)
    clock.now = 142.5
    response = health(state)
    assert response.status == 200
    assert body(response) == {"status": "ok", "uptime_s": 42.5}


def test_health_fails_after_a_fatal_error(make_state) -> None:
    """Once mark_fatal was called, liveness answers 503 with the reason."""
    state = make_state(healthy=True)
    state.mark_fatal("enrich agent crashed")
    response = health(state)
    assert (response.status, body(response)["reason"]) == (503, "enrich agent crashed")
    assert ready(state).status == 503


def test_ready_fails_until_every_check_passed(make_state) -> None:
    """A fresh state is not ready and its body lists all three checks as not ok."""
    response = ready(make_state())
    payload = body(response)
    assert response.status == 503
    assert payload["ready"] is False
    assert {name: check["ok"] for name, check in payload["checks"].items()} == {
        "broker": False,
        "watchlist": False,
        "templates": False,
        "channels": True,  # nothing names a channel yet
        "nlp": False,  # the preloaded spaCy pipelines are not loaded yet
    }


def test_ready_when_broker_watchlist_and_templates_are_fine(make_state) -> None:
    """With the broker reachable, a watch-list loaded and templates valid, /ready is 200."""
    response = ready(make_state(healthy=True))
    payload = body(response)
    assert response.status == 200 and payload["ready"] is True
    assert payload["checks"]["watchlist"]["version"] == "sha256:abc"


@pytest.mark.parametrize(
    "breaks",
    [
        lambda s: s.broker_checked(False, "NodeNotReadyError: 127.0.0.1:9092"),
        lambda s: s.templates_checked(False, "slack.j2:3: unexpected '}'"),
        lambda s: s.channels_checked([("r1", "slack:#sec", "SLACK_BOT_TOKEN")]),
        lambda s: s.watchlist_loaded("sha256:empty", 0),
    ],
)
def test_one_failing_check_makes_it_unready(make_state, breaks) -> None:
    """A broker, template, channel or empty-watch-list failure alone turns /ready to 503."""
    state = make_state(healthy=True)
    breaks(state)
    response = ready(state)
    failing = [name for name, check in body(response)["checks"].items() if not check["ok"]]
    assert response.status == 503
    assert len(failing) == 1
    assert body(response)["checks"][failing[0]]["detail"] != ""


def test_failed_reload_keeps_the_last_good_watchlist_ready(make_state) -> None:
    """A bad edit after a good load keeps /ready 200 and reports the error; a fix clears it."""
    state = make_state(healthy=True)
    state.watchlist_failed("watchlist.yaml:4:3: mapping values are not allowed here")
    payload = body(ready(state))
    assert payload["ready"] is True
    assert payload["checks"]["watchlist"]["last_error"].startswith("watchlist.yaml:4:3")
    state.watchlist_loaded("sha256:def")
    watchlist = body(ready(state))["checks"]["watchlist"]
    assert (watchlist["version"], watchlist["last_error"]) == ("sha256:def", None)


def test_failed_first_load_is_not_ready(make_state) -> None:
    """Without any good watch-list version the worker is not ready."""
    state = make_state()
    state.broker_checked(True)
    state.templates_checked(True)
    state.watchlist_failed("watchlist.yaml:1:1: not a mapping")
    assert ready(state).status == 503


def test_metrics_handler_serves_the_registry_text() -> None:
    """/metrics answers the Prometheus content type and the registry's rendering."""
    registry = Metrics()
    registry.alert_sent("slack")
    response = metrics(registry)
    assert (response.status, response.content_type) == (200, CONTENT_TYPE)
    assert b'newswatch_alerts_total{channel="slack",outcome="sent"} 1.0' in response.body


def test_handle_dispatches_paths_and_ignores_unknown(make_state) -> None:
    """Known paths (with or without a trailing slash) dispatch; others give None."""
    state, registry = make_state(healthy=True), Metrics()
    assert handle("/health/", state, registry).status == 200  # type: ignore[union-attr]
    assert handle("ready", state, registry).status == 200  # type: ignore[union-attr]
    assert handle(METRICS_PATH, state, registry).content_type == CONTENT_TYPE  # type: ignore[union-attr]
    assert handle("/admin", state, registry) is None


@pytest.mark.servers
async def test_pages_mounted_on_a_faust_app_answer_over_http(make_state) -> None:
    """mount() registers the pages on a real Faust app; its aiohttp server answers them."""
    faust = pytest.importorskip("faust")
    from aiohttp import web as aioweb

    app = faust.App("newswatch-web-test", broker="kafka://127.0.0.1:1", autodiscover=False)
    state, registry = make_state(), Metrics()
    registry.rule_matched("r1")
    mount(app, state, registry)
    runner = aioweb.AppRunner(app.web.web_app)
    await runner.setup()
    site = aioweb.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            live, not_ready = await client.get(HEALTH_PATH), await client.get(READY_PATH)
            state.broker_checked(True)
            state.watchlist_loaded("v1")
            state.templates_checked(True)
            state.pipelines_loaded(["de"])
            now_ready, scraped = await client.get(READY_PATH), await client.get(METRICS_PATH)
    finally:
        await runner.cleanup()
    assert (live.status_code, not_ready.status_code, now_ready.status_code) == (200, 503, 200)
    assert not_ready.json()["checks"]["broker"]["ok"] is False
    assert scraped.headers["content-type"] == CONTENT_TYPE
    assert 'newswatch_matches_total{rule="r1"} 1.0' in scraped.text


def test_unreachable_channel_names_rule_channel_and_setting(make_state) -> None:
    """/ready names the rule, the channel and the setting it lacks (issue 12, finding 1)."""
    state = make_state(healthy=True)
    state.channels_checked([("alibaba-espionage", "email:secops@example.com", "SMTP_HOST")])
    response = ready(state)
    detail = body(response)["checks"]["channels"]["detail"]
    assert response.status == 503
    assert "alibaba-espionage" in detail and "email:secops@example.com" in detail
    assert "SMTP_HOST" in detail


def test_valid_file_with_the_same_version_clears_the_reload_error(make_state) -> None:
    """After a failed reload, validating the file again clears the error (issue 12, finding 7)."""
    state = make_state(healthy=True)
    state.watchlist_failed("watchlist.yaml:1:1: truncated")
    state.watchlist_valid()
    assert body(ready(state))["checks"]["watchlist"]["last_error"] is None
