"""``POST /slack/interactions``: feedback buttons of Slack alerts, verified, answered fast.

Off unless ``SLACK_SIGNING_SECRET`` is set. Each request is checked before anything else:

1. body at most ``MAX_BODY`` bytes (413, counted ``too_large``);
2. ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` present (else 401 ``unsigned``);
3. the timestamp within 5 minutes of now (else 401 ``stale``);
4. the signature valid for the body (slack-sdk's ``SignatureVerifier``; else 401 ``forged``);
5. a signature not seen before within the 5 minutes (else 401 ``replayed``).

A valid click is answered 200 at once; the work runs in a task: the judgement is applied
by ``judgements.JudgementRecorder`` (shared with the email links): a ``Feedback`` record on
``alerts.feedback`` (key alert id), for *Mute this story* / *Snooze this rule* a ``Silence``
on ``alerts.silences`` (applied to this worker's book at once, to the others by their
feed), then the message is updated with ``chat.update`` to show who did what and when.
Every outcome is counted as ``newswatch_slack_interactions_total{outcome}``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

from alerts.feedback import ACTION_VERDICTS, judged_blocks, parse_button_value
from alerts.silences import SilenceBook
from schemas.records import Silence
from schemas.topics import Topics
from streams.pipeline.judgements import Judgement, JudgementRecorder
from streams.pipeline.metrics import Metrics
from streams.pipeline.services import Outbox
from streams.pipeline.web import Response

__all__ = ["INTERACTIONS_PATH", "MAX_BODY", "MessageUpdater", "SlackInteractions"]

log = logging.getLogger(__name__)

INTERACTIONS_PATH = "/slack/interactions"
MAX_BODY = 64 * 1024
WINDOW_S = 300.0


class MessageUpdater(Protocol):
    """Updates a posted Slack message (``SlackChannel.update_message``)."""

    async def update_message(
        self, channel_id: str, ts: str, blocks: list[dict[str, Any]], text: str
    ) -> bool: ...


@dataclass(frozen=True)
class _Click:
    payload: dict[str, Any]
    action_id: str
    value: str


def _text(status: int, text: str) -> Response:
    return Response(status, "application/json", json.dumps({"error": text}).encode())


class SlackInteractions:
    """Verifies interaction requests and turns valid clicks into records and message updates."""

    def __init__(
        self,
        *,
        signing_secret: str,
        outbox: Outbox,
        topics: Topics,
        metrics: Metrics,
        silences: SilenceBook,
        updater: MessageUpdater | None,
        watchlist_version: Callable[[], str],
        snooze_s: float,
        mute_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.metrics = metrics
        self.updater = updater
        self.clock = clock
        self.recorder = JudgementRecorder(
            outbox=outbox,
            topics=topics,
            silences=silences,
            watchlist_version=watchlist_version,
            snooze_s=snooze_s,
            mute_s=mute_s,
            clock=clock,
        )
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ request
    def handle(self, headers: Mapping[str, str], body: bytes | None) -> Response:
        """Check one request; a valid click is answered at once and processed in a task."""
        if body is None:
            return self._refuse(413, "too_large")
        timestamp = headers.get("X-Slack-Request-Timestamp") or ""
        signature = headers.get("X-Slack-Signature") or ""
        if not timestamp or not signature:
            return self._refuse(401, "unsigned")
        now = self.clock()
        try:
            sent_at = float(int(timestamp))
        except ValueError:
            return self._refuse(401, "stale")
        if abs(now - sent_at) > WINDOW_S:
            return self._refuse(401, "stale")
        expected = self.verifier.generate_signature(timestamp=timestamp, body=body) or ""
        if not hmac.compare_digest(expected, signature):
            return self._refuse(401, "forged")
        self._forget_old(now)
        if signature in self._seen:
            return self._refuse(401, "replayed")
        self._seen[signature] = now
        click = _parse(body)
        if click is None:
            return self._refuse(400, "malformed")
        self.metrics.slack_interaction("accepted")
        task = asyncio.get_running_loop().create_task(self._process(click))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return Response(200, "application/json", b"{}")

    def _refuse(self, status: int, outcome: str) -> Response:
        self.metrics.slack_interaction(outcome)
        log.warning("refused a Slack interaction request: %s", outcome)
        return _text(status, outcome)

    def _forget_old(self, now: float) -> None:
        while self._seen and next(iter(self._seen.values())) < now - 2 * WINDOW_S:
            self._seen.popitem(last=False)

    async def drain(self) -> None:
        """Wait for the clicks still being processed (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ------------------------------------------------------------------ work
    async def _process(self, click: _Click) -> None:
        try:
            await self._record(click)
        except Exception:  # the endpoint answered already: log, never kill the worker
            log.exception("processing a Slack interaction failed")

    async def _record(self, click: _Click) -> None:
        ids = parse_button_value(click.value)
        user = str((click.payload.get("user") or {}).get("id") or "unknown")[:256]
        judgement = Judgement(
            verdict=ACTION_VERDICTS[click.action_id],
            alert_id=ids["a"],
            rule_id=ids["r"],
            article_id=ids["x"],
            story_id=ids["s"],
            watchlist_version=ids.get("v") or "",
            user_id=user,
            source="slack",
        )
        feedback, silence = await self.recorder.apply(judgement)
        await self._update_message(click, judgement.verdict, user, feedback.at, silence)

    async def _update_message(
        self, click: _Click, verdict: Any, user: str, now: float, silence: Silence | None
    ) -> None:
        container = click.payload.get("container") or {}
        message = click.payload.get("message") or {}
        channel_id = container.get("channel_id") or (click.payload.get("channel") or {}).get("id")
        ts = container.get("message_ts") or message.get("ts")
        blocks = message.get("blocks")
        if self.updater is None or not channel_id or not ts or not isinstance(blocks, list):
            return
        updated = judged_blocks(
            blocks,
            verdict=verdict,
            user_id=user,
            at=now,
            until=silence.ends_at if silence else None,
        )
        await self.updater.update_message(
            str(channel_id), str(ts), updated, str(message.get("text") or "newswatch alert")
        )


def _parse(body: bytes) -> _Click | None:
    """The clicked newswatch button of a ``block_actions`` payload, or None."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        payload = json.loads(form["payload"][0])
        if not isinstance(payload, dict) or payload.get("type") != "block_actions":
            return None
        action = (payload.get("actions") or [None])[0]
        if not isinstance(action, dict) or action.get("action_id") not in ACTION_VERDICTS:
            return None
        value = str(action.get("value") or "")
        parse_button_value(value)
        return _Click(payload, str(action["action_id"]), value)
    except (ValueError, KeyError, IndexError, UnicodeDecodeError, TypeError):
        return None
