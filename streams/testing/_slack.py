"""The fake Slack Web API with injected faults, served over real HTTP in a thread."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from alerts.testing.slack import FakeSlack, Fault, SlackRequest

__all__ = ["FlakySlack", "SlackThread"]


class FlakySlack(FakeSlack):
    """``FakeSlack`` that fails ``chat.postMessage`` at random rates, or always while down.

    ``rates`` maps a fault kind (``ratelimited``, ``server_error``, ``error``) to the share of
    calls that get it, drawn from a generator seeded with ``seed``; ``go_down()`` answers every
    call with a 500 until ``come_up()``. Faults queued with ``fail()`` still come first.
    ``on_accept(message)`` runs (in the server's thread) after a message was accepted and
    before the answer is sent: a crash test can kill the poster exactly there.
    """

    def __init__(
        self,
        *,
        rates: Mapping[str, float] | None = None,
        seed: int = 0,
        retry_after: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.rates = dict(rates or {})
        if sum(self.rates.values()) > 1.0:
            raise ValueError("fault rates add up to more than 1")
        self.retry_after = retry_after
        self.down = False
        self.on_accept: Callable[[dict[str, Any]], None] | None = None
        self._random = random.Random(seed)

    def go_down(self) -> None:
        """From now on every ``chat.postMessage`` gets a 500 (an outage)."""
        self.down = True

    def come_up(self) -> None:
        """End the outage; random faults (if any) continue."""
        self.down = False

    def _post_message(self, record: SlackRequest, params: dict[str, Any]) -> web.Response:
        count = len(self.messages)
        response = super()._post_message(record, params)
        if self.on_accept is not None and len(self.messages) > count:
            self.on_accept(self.messages[-1])
        return response

    def _next_fault(self, method: str) -> Fault | None:
        queued = super()._next_fault(method)
        if queued is not None or method != "chat.postMessage":
            return queued
        if self.down:
            return Fault("server_error", method)
        roll = self._random.random()
        for kind, rate in self.rates.items():
            if roll < rate:
                return Fault(kind, method, retry_after=self.retry_after)
            roll -= rate
        return None


class SlackThread:
    """Serve a ``FakeSlack`` from a background thread, so worker subprocesses can reach it.

    with SlackThread(FlakySlack(rates={"ratelimited": 0.3})) as slack:
        env["SLACK_API_URL"] = slack.url
        ...
        slack.messages()            # a snapshot of the accepted messages
    """

    def __init__(self, slack: FakeSlack | None = None) -> None:
        self.slack = slack if slack is not None else FakeSlack()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fake-slack", daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL for ``SLACK_API_URL``."""
        return self.slack.url

    def start(self, timeout: float = 10.0) -> str:
        """Start the loop thread and the server; returns ``url``."""
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.slack.start(), self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and the loop thread (idempotent)."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.slack.stop(), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._loop.close()

    def messages(self) -> list[dict[str, Any]]:
        """A snapshot of the accepted ``chat.postMessage`` calls, in arrival order."""
        return list(self.slack.messages)

    def outcomes(self) -> dict[str, int]:
        """How many ``chat.postMessage`` calls ended how (``ok``, ``fault:ratelimited``...)."""
        counts: dict[str, int] = {}
        for request in list(self.slack.requests):
            if request.method == "chat.postMessage":
                counts[request.outcome] = counts.get(request.outcome, 0) + 1
        return counts

    def __enter__(self) -> SlackThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
