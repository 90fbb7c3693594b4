"""``/health``, ``/ready`` and ``/metrics``: pure handlers over a :class:`HealthState`.

The handlers return a :class:`Response` (status, content type, body) and know nothing of
the web server; :func:`mount` registers them on a Faust app (``app.page``, served by Faust's
aiohttp web server on ``NEWSWATCH_WEB_HOST:NEWSWATCH_WEB_PORT``) without importing Faust.

- ``/health`` (liveness): 200 while the process serves requests, 503 once a fatal error
  was recorded (``mark_fatal``) so the orchestrator restarts the worker.
- ``/ready`` (readiness): 200 only when the broker is reachable, a watch-list is loaded,
  the templates are valid and the preloaded spaCy pipelines are loaded (``nlp``: an article
  in those languages never waits for a load); the JSON body lists each check. A failed
  watch-list *reload* keeps the worker ready (the last good version stays active) and
  shows the error.
- ``/metrics``: the Prometheus text format of :class:`streams.pipeline.metrics.Metrics`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from streams.pipeline.metrics import CONTENT_TYPE, Metrics

__all__ = [
    "HEALTH_PATH",
    "METRICS_PATH",
    "PATHS",
    "READY_PATH",
    "HealthState",
    "Response",
    "handle",
    "health",
    "metrics",
    "mount",
    "ready",
]

HEALTH_PATH = "/health"
READY_PATH = "/ready"
METRICS_PATH = "/metrics"
PATHS = (HEALTH_PATH, READY_PATH, METRICS_PATH)
JSON = "application/json"


@dataclass(frozen=True)
class Response:
    """What a handler answers; the web framework turns it into its own response."""

    status: int
    content_type: str
    body: bytes
    #: extra response headers (e.g. Cache-Control)
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class _Check:
    ok: bool = False
    detail: str = "not checked yet"
    checked_at: float | None = None


class HealthState:
    """What the worker knows about its own health; updated by the runtime, read by handlers."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.started_at = clock()
        self.fatal: str | None = None
        self._broker = _Check()
        self._templates = _Check()
        self.watchlist_version: str | None = None
        self.watchlist_error: str | None = None
        self.watchlist_loaded_at: float | None = None
        self.watchlist_rules: int | None = None
        self._channels = _Check(True, "no rule names a channel")
        self.topic_problems: list[str] | None = None  # checked only with topic creation off
        self._nlp = _Check(False, "spaCy pipelines not loaded yet")

    def pipelines_loaded(self, languages: list[str]) -> None:
        """The enricher started with the pipelines of ``languages`` loaded (preload)."""
        detail = f"loaded: {', '.join(languages)}" if languages else "none preloaded"
        self._nlp = _Check(True, detail, self._clock())

    def topics_checked(self, problems: list[str]) -> None:
        """Record the topic check (NEWSWATCH_CREATE_TOPICS=false): each problem and its fix."""
        self.topic_problems = list(problems)

    def broker_checked(self, reachable: bool, detail: str = "") -> None:
        """Record the outcome of a broker probe (metadata request, produce, fetch)."""
        self._broker = _Check(
            reachable, detail or ("reachable" if reachable else "unreachable"), self._clock()
        )

    def templates_checked(self, valid: bool, detail: str = "") -> None:
        """Record whether the alert templates compiled and rendered a sample."""
        self._templates = _Check(valid, detail or ("valid" if valid else "invalid"), self._clock())

    def watchlist_loaded(self, version: str, rules: int | None = None) -> None:
        """A watch-list version became active; clears the last reload error."""
        self.watchlist_version = version
        self.watchlist_error = None
        self.watchlist_loaded_at = self._clock()
        if rules is not None:
            self.watchlist_rules = rules

    def watchlist_valid(self) -> None:
        """The watch-list file validated again (same version): the last reload error is over."""
        self.watchlist_error = None

    def channels_checked(self, missing: list[tuple[str, str, str]]) -> None:
        """Record the ``(rule, channel, missing setting)`` triples this worker cannot reach."""
        if not missing:
            self._channels = _Check(
                True, "every channel named by a rule is configured", self._clock()
            )
            return
        detail = "; ".join(
            f"rule {rule!r} names {channel!r}, which needs {setting}"
            for rule, channel, setting in missing
        )
        self._channels = _Check(False, detail, self._clock())

    def watchlist_failed(self, error: str) -> None:
        """A watch-list (re)load failed; the last good version, if any, stays active."""
        self.watchlist_error = error

    def mark_fatal(self, reason: str) -> None:
        """The worker cannot go on (e.g. an agent died): liveness fails from now on."""
        self.fatal = reason

    def checks(self) -> dict[str, dict[str, Any]]:
        """Each readiness check with ``ok`` and details (the ``/ready`` body)."""
        watchlist: dict[str, Any] = {
            "ok": self.watchlist_version is not None and self.watchlist_rules != 0,
            "version": self.watchlist_version,
            "rules": self.watchlist_rules,
            "loaded_at": self.watchlist_loaded_at,
            "last_error": self.watchlist_error,
        }
        if self.watchlist_rules == 0:
            watchlist["detail"] = "the watch-list has no enabled rule"
        checks = {
            "broker": self._as_dict(self._broker),
            "watchlist": watchlist,
            "templates": self._as_dict(self._templates),
            "channels": self._as_dict(self._channels),
            "nlp": self._as_dict(self._nlp),
        }
        if self.topic_problems is not None:
            checks["topics"] = {"ok": not self.topic_problems, "problems": self.topic_problems}
        return checks

    @property
    def uptime_s(self) -> float:
        """Seconds since this state (and so the worker) was created."""
        return self._clock() - self.started_at

    @property
    def ready(self) -> bool:
        """True when every readiness check passes and nothing fatal happened."""
        return self.fatal is None and all(check["ok"] for check in self.checks().values())

    @staticmethod
    def _as_dict(check: _Check) -> dict[str, Any]:
        return {"ok": check.ok, "detail": check.detail, "checked_at": check.checked_at}


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(status, JSON, json.dumps(payload, sort_keys=True).encode("utf-8"))


def health(state: HealthState) -> Response:
    """Liveness: 200 with the uptime, or 503 with the fatal reason."""
    if state.fatal is not None:
        return _json(503, {"status": "fatal", "reason": state.fatal})
    return _json(200, {"status": "ok", "uptime_s": round(state.uptime_s, 3)})


def ready(state: HealthState) -> Response:
    """Readiness: 200 when broker, watch-list and templates are fine, else 503; JSON checks."""
    is_ready = state.ready
    body: dict[str, Any] = {"ready": is_ready, "checks": state.checks()}
    if state.fatal is not None:
        body["fatal"] = state.fatal
    return _json(200 if is_ready else 503, body)


def metrics(registry: Metrics) -> Response:
    """The Prometheus exposition of ``registry``."""
    return Response(200, CONTENT_TYPE, registry.render())


def handle(path: str, state: HealthState, registry: Metrics) -> Response | None:
    """Dispatch a request path (trailing slash ignored) to its handler; None if unknown."""
    path = "/" + path.strip("/")
    if path == HEALTH_PATH:
        return health(state)
    if path == READY_PATH:
        return ready(state)
    if path == METRICS_PATH:
        return metrics(registry)
    return None


def mount(app: Any, state: HealthState, registry: Metrics) -> None:
    """Register the three pages on a Faust app (``app.page``); Faust is not imported here."""
    for path in PATHS:
        app.page(path, name=f"newswatch{path.replace('/', '_')}")(_view(path, state, registry))


def _view(path: str, state: HealthState, registry: Metrics) -> Callable[[Any, Any], Awaitable[Any]]:
    async def get(view: Any, request: Any) -> Any:
        response = handle(path, state, registry)
        assert response is not None
        # aiohttp refuses a charset inside ``content_type=``: send the header as is.
        return view.bytes(
            response.body, status=response.status, headers={"Content-Type": response.content_type}
        )

    get.__name__ = f"newswatch{path.replace('/', '_')}"
    get.__doc__ = f"GET {path}"
    return get
