"""Deliver alerts to their channels: once per channel, in order, paced, retried, or DLQ'd.

``Deliverer.deliver(alert)`` never raises for a delivery failure. For each channel spec of
the alert it

1. skips the spec if ``sent[delivery_key]`` already records it (restart, rebalance, replay);
2. renders the alert once per format (a template error falls back, never fails);
3. waits its turn on the spec's lane (one lock per spec keeps order) and its token bucket;
4. sends, retrying retriable errors with exponential backoff and full jitter up to
   ``max_attempts``, honouring 429 ``Retry-After`` (capped, and pausing the whole channel
   kind) up to ``max_rate_limited`` times;
5. records the spec in ``sent`` only after the channel accepted it, or hands a
   ``DeadLetter`` (reason, channel, retriable) to ``dead_letter`` and counts it.

Reconciliation (beyond at-least-once): an alert that may have been sent by a process that
died before recording it — ``deliver(alert, maybe_sent=True)``, or by default an alert
created before ``reconcile_before`` (set by ``note_assignment()`` when the worker starts
and whenever it is assigned partitions) — is first looked up with the channel's
``find_sent`` (Slack: by message metadata in the channel history). If found it is recorded
as sent with that receipt (outcome ``reconciled``) instead of being sent again.

``sent`` is a Faust table in the worker (a dict in tests); values are replaced, never
mutated. Updates are posted as replies to the thread of the story's first message.
Every configured secret is redacted from logs and dead letters.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from typing import Any

from alerts._lanes import Failed, Lanes
from alerts._outcomes import DeliveryReport, DeliveryStats
from alerts.channels.base import Channel, ChannelSpec, Receipt, parse_spec
from alerts.channels.digest import DigestBatch, DigestChannel
from alerts.config import DeliveryConfig
from alerts.errors import ChannelSpecError, DeliveryError
from alerts.ids import delivery_key
from alerts.render import Rendered, Renderer
from schemas.records import AlertRecord, DeadLetter
from schemas.topics import Topics

__all__ = ["DLQ_TOPIC", "Deliverer", "DeliveryReport", "DeliveryStats"]

log = logging.getLogger(__name__)

DLQ_TOPIC = Topics().alerts_dlq  # unprefixed; the worker passes its configured topics
#: The dead-letter reason of an alert whose channel kind this worker has not configured.
NOT_CONFIGURED = "channel not configured"
_MAX_DLQ_VALUE = 100_000


class Deliverer:
    """Sends alerts to channels keyed by kind (``console``, ``file``, ``slack``…)."""

    def __init__(
        self,
        channels: Mapping[str, Channel],
        sent: MutableMapping[str, Any],
        dead_letter: Callable[[DeadLetter], Awaitable[None]],
        *,
        renderer: Renderer | None = None,
        config: DeliveryConfig | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        digest_check_s: float | None = 60.0,
        source_topic: str = Topics().alerts,
    ) -> None:
        self.channels = dict(channels)
        self.source_topic = source_topic
        self.sent = sent
        self.dead_letter = dead_letter
        self.renderer = renderer or Renderer()
        self.config = config or DeliveryConfig()
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        self.digest_check_s = digest_check_s
        self.stats = DeliveryStats()
        self._lanes = Lanes(
            self.config, self.stats, sleep=sleep, monotonic=monotonic, redact=self._redact
        )
        self._flusher: asyncio.Task[None] | None = None
        self._started = False
        self._reported_unconfigured: set[str] = set()
        #: Alerts created before this time may have been sent by an earlier owner of their
        #: partition that died before recording it; None: no reconciliation by default.
        self.reconcile_before: float | None = None

    def note_assignment(self) -> None:
        """This worker (re)started or was assigned partitions: reconcile older alerts."""
        self.reconcile_before = self.clock()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start every channel once, and the digest flusher if a digest channel exists."""
        if self._started:
            return
        for channel in self._unique_channels():
            await channel.start()
        self._started = True
        if self.digest_check_s and any(
            isinstance(c, DigestChannel) for c in self.channels.values()
        ):
            self._flusher = asyncio.create_task(self._flush_loop(), name="alerts-digest-flush")

    async def stop(self) -> None:
        """Stop the flusher and every channel (queued digests stay in their buffer)."""
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
            self._flusher = None
        for channel in self._unique_channels():
            try:
                await channel.stop()
            except Exception as exc:
                log.warning("channel %s did not stop cleanly: %s", channel.name, type(exc).__name__)
        self._started = False

    async def __aenter__(self) -> Deliverer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def prune_sent(self, owns: Callable[[str], bool], horizon: float) -> int:
        """Delete sent records last written before ``horizon`` whose alert ``owns`` says is ours.

        ``owns(alert_id)`` must be true only for alerts of the partition being processed: a
        Faust table writes a delete to the changelog partition of the current event.
        """
        stale = [
            key
            for key, value in list(self.sent.items())
            if isinstance(value, dict)
            and float(value.get("t", horizon)) < horizon
            and owns(str(value.get("alert_id", "")))
        ]
        for key in stale:
            del self.sent[key]
        return len(stale)

    # ------------------------------------------------------------------ delivery
    async def deliver(
        self,
        alert: AlertRecord,
        *,
        kinds: Collection[str] | None = None,
        maybe_sent: bool | None = None,
    ) -> DeliveryReport:
        """Deliver one alert to its channels (only those of ``kinds`` if given); never raises.

        ``maybe_sent``: look for the alert in each channel before sending (None: when it
        was created before ``reconcile_before``).
        """
        if maybe_sent is None:
            maybe_sent = self.reconcile_before is not None and (
                alert.created_at < self.reconcile_before
            )
        key = delivery_key(alert)
        report = DeliveryReport(alert.alert_id, key)
        done = (self.sent.get(key) or {}).get("channels", {})
        jobs: list[Awaitable[None]] = []
        rendered: dict[str, Rendered] = {}
        for raw in dict.fromkeys(alert.channels):
            try:
                spec = parse_spec(raw)
            except ChannelSpecError as exc:
                if kinds is not None and raw.split(":", 1)[0].strip().lower() not in kinds:
                    continue  # another lane's spec
                report.outcomes[raw] = "dead_lettered"
                await self._dead_letter(
                    alert, key, raw, DeliveryError(channel=raw, retriable=False, reason=str(exc))
                )
                continue
            name = str(spec)
            if kinds is not None and spec.kind not in kinds:
                continue
            if name in done:
                report.outcomes[name] = "skipped"
                self.stats.skipped[spec.kind] += 1
                continue
            jobs.append(self._deliver_to(alert, key, spec, rendered, report, maybe_sent))
        if jobs:
            await asyncio.gather(*jobs)
        await self.flush_digests()
        return report

    async def flush_digests(self, *, force: bool = False) -> int:
        """Send every due digest (all if ``force``); returns how many emails went out."""
        count = 0
        for channel in list(self.channels.values()):
            if not isinstance(channel, DigestChannel):
                continue
            try:
                batches = channel.due(force=force)
            except Exception as exc:
                log.error("digest buffer unreadable: %s", type(exc).__name__)
                continue
            for batch in batches:
                count += await self._flush_batch(channel, batch)
        return count

    # ------------------------------------------------------------------ internals
    async def _deliver_to(
        self,
        alert: AlertRecord,
        key: str,
        spec: ChannelSpec,
        rendered: dict[str, Rendered],
        report: DeliveryReport,
        maybe_sent: bool = False,
    ) -> None:
        name = str(spec)
        channel = self.channels.get(spec.kind)
        if channel is None:
            self.stats.unconfigured[spec.kind] += 1
            if self.config.unconfigured == "skip":
                report.outcomes[name] = "unconfigured"
                return
            error = DeliveryError(
                channel=name, retriable=True, reason=f"{NOT_CONFIGURED}: {spec.kind!r}"
            )
            report.outcomes[name] = "dead_lettered"
            await self._dead_letter(alert, key, name, error)
            return
        fmt = channel.fmt or "console"
        if fmt not in rendered:
            rendered[fmt] = self.renderer.render(alert, fmt)
        thread = self._thread_ref(alert, name)

        async with self._lanes.lock(name):
            found = await self._find_sent(channel, alert, spec, thread) if maybe_sent else None
            if found is not None:
                self._mark_sent(key, alert, name, found)
                report.receipts[name] = found
                report.outcomes[name] = "reconciled"
                self.stats.reconciled[spec.kind] += 1
                log.info("alert %s already in %s: recorded, not sent again", alert.alert_id, name)
                return
            try:
                receipt = await self._lanes.attempt(
                    channel,
                    name,
                    lambda: channel.send(alert, rendered[fmt], target=spec.target, thread=thread),
                )
            except Failed as failed:
                report.outcomes[name] = "dead_lettered"
                await self._dead_letter(
                    alert, key, name, failed.error, failed.attempts, failed.rate_limited
                )
                return
        self._mark_sent(key, alert, name, receipt)
        report.receipts[name] = receipt
        report.outcomes[name] = "queued" if receipt.queued else "sent"
        (self.stats.queued if receipt.queued else self.stats.sent)[spec.kind] += 1

    async def _find_sent(
        self, channel: Channel, alert: AlertRecord, spec: ChannelSpec, thread: str | None
    ) -> Receipt | None:
        fresh_after = self.reconcile_before if self.reconcile_before is not None else 0.0
        try:
            return await channel.find_sent(
                alert, target=spec.target, thread=thread, fresh_after=fresh_after
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never let the check stop a delivery
            log.warning("%s: reconciliation failed (%s); sending", spec, type(exc).__name__)
            return None

    def _thread_ref(self, alert: AlertRecord, name: str) -> str | None:
        if alert.kind != "update":
            return None
        parent = (self.sent.get(alert.alert_id) or {}).get("channels", {}).get(name) or {}
        ref = parent.get("ref")
        return ref if isinstance(ref, str) and not parent.get("queued") else None

    def _mark_sent(self, key: str, alert: AlertRecord, name: str, receipt: Receipt) -> None:
        record = dict(self.sent.get(key) or {})
        channels = dict(record.get("channels") or {})
        channels[name] = {"at": self.clock(), "ref": receipt.ref, "queued": receipt.queued}
        record.update({"t": self.clock(), "alert_id": alert.alert_id, "channels": channels})
        self.sent[key] = record  # replaced, not mutated: a Faust table sees the write

    async def _flush_batch(self, channel: DigestChannel, batch: DigestBatch) -> int:
        name = f"digest:{batch.target}" if batch.target else "digest"
        async with self._lanes.lock(name):
            try:
                await self._lanes.attempt(channel.email, name, lambda: channel.send_batch(batch))
            except Failed as failed:
                for alert in batch.alerts:
                    await self._dead_letter(
                        alert,
                        delivery_key(alert),
                        name,
                        failed.error,
                        failed.attempts,
                        failed.rate_limited,
                    )
                channel.remove(batch)
                return 0
        channel.remove(batch)
        self.stats.sent["digest"] += 1
        return 1

    async def _dead_letter(
        self,
        alert: AlertRecord,
        key: str,
        name: str,
        error: DeliveryError,
        attempts: int = 0,
        rate_limited: int = 0,
    ) -> None:
        kind = name.split(":", 1)[0]
        reason = self._redact(error.reason)
        self.stats.dead_lettered[kind] += 1
        unconfigured = reason.startswith(NOT_CONFIGURED)
        if not unconfigured or kind not in self._reported_unconfigured:
            log.error(
                "alert %s not delivered to %s (%s): %s%s",
                alert.alert_id,
                self._redact(name),
                "retriable" if error.retriable else "permanent",
                reason,
                "; further alerts for this channel kind go to the DLQ unlogged"
                if unconfigured
                else "",
            )
            if unconfigured:
                self._reported_unconfigured.add(kind)
        value = self._redact(alert.model_dump_json())
        raw = value.encode("utf-8")
        letter = DeadLetter(
            reason=reason,
            error=type(error).__name__,
            source_topic=self.source_topic,
            key=alert.alert_id,
            value=value[:_MAX_DLQ_VALUE],
            value_bytes=len(raw),
            value_truncated=len(value) > _MAX_DLQ_VALUE,
            value_sha256=hashlib.sha256(raw).hexdigest(),
            channel=self._redact(name),
            retriable=error.retriable,
            failed_at=self.clock(),
            extra={
                "delivery_key": key,
                "kind": alert.kind,
                "rule_id": alert.rule_id,
                "attempts": attempts,
                "rate_limited": rate_limited,
                "status": error.status,
            },
        )
        try:
            await self.dead_letter(letter)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.stats.dead_letter_errors[kind] += 1
            log.error(
                "could not dead-letter alert %s (%s): %s; letter: %s",
                alert.alert_id,
                name,
                type(exc).__name__,
                json.dumps(letter.model_dump(mode="json", exclude={"value"})),
            )

    def _redact(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, "[redacted]")
        return text

    def _secrets(self) -> list[str]:
        secrets: list[str] = []
        for channel in self._unique_channels():
            secrets += [s for s in channel.secrets() if s and len(s) >= 4]
        return sorted(set(secrets), key=len, reverse=True)

    def _unique_channels(self) -> list[Channel]:
        seen: dict[int, Channel] = {}
        for channel in self.channels.values():
            seen.setdefault(id(channel), channel)
            if isinstance(channel, DigestChannel):
                seen.setdefault(id(channel.email), channel.email)
        return list(seen.values())

    async def _flush_loop(self) -> None:
        assert self.digest_check_s
        while True:
            await asyncio.sleep(self.digest_check_s)
            try:
                await self.flush_digests()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("digest flush failed: %s", type(exc).__name__)
