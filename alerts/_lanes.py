"""Delivery lanes: one lock per channel spec, pacing, and retries with backoff (429 aware)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from alerts._outcomes import DeliveryStats
from alerts._pacing import TokenBucket
from alerts.channels.base import Channel, Receipt
from alerts.config import DeliveryConfig
from alerts.errors import DeliveryError, RateLimited

__all__ = ["Failed", "Lanes"]

log = logging.getLogger("alerts.deliver")  # the deliverer's logger, as before the split


class Failed(Exception):
    """A send given up on: the error to dead-letter, attempts and 429s it took."""

    def __init__(self, error: DeliveryError, attempts: int, rate_limited: int) -> None:
        super().__init__(error.reason)
        self.error = error
        self.attempts = attempts
        self.rate_limited = rate_limited


class Lanes:
    """The per-spec locks, token buckets, per-kind 429 gates and retry loop of a deliverer."""

    def __init__(
        self,
        config: DeliveryConfig,
        stats: DeliveryStats,
        *,
        sleep: Callable[[float], Awaitable[object]],
        monotonic: Callable[[], float],
        redact: Callable[[str], str],
    ) -> None:
        self.config = config
        self.stats = stats
        self.sleep = sleep
        self.monotonic = monotonic
        self._redact = redact
        self._random = random.Random(config.seed)
        self._locks: dict[str, asyncio.Lock] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._gates: dict[str, float] = {}

    async def attempt(
        self, channel: Channel, name: str, send: Callable[[], Awaitable[Receipt]]
    ) -> Receipt:
        """``send()`` on its lane's pace, retried; ``Failed`` when it gives up."""
        retry = self.config.retry
        attempts = 0
        limited = 0
        while True:
            await self.pace(channel, name)
            attempts += 1
            try:
                return await send()
            except RateLimited as exc:
                limited += 1
                self.stats.rate_limited[channel.name] += 1
                if limited >= retry.max_rate_limited:
                    raise Failed(_exhausted(exc, "rate limited"), attempts, limited) from None
                wait = (
                    exc.retry_after if exc.retry_after is not None else retry.default_retry_after_s
                )
                wait = min(wait, retry.max_retry_after_s)
                self._gates[channel.name] = max(
                    self._gates.get(channel.name, 0.0), self.monotonic() + wait
                )
                bucket = self._buckets.get(name)
                if bucket is not None:
                    bucket.pause(wait)  # and no burst right after the pause
                log.warning("%s: rate limited, retrying in %.1fs", name, wait)
                attempts -= 1  # a 429 is not a failed attempt; it has its own limit
                await self.sleep(wait)
            except DeliveryError as exc:
                if not exc.retriable:
                    raise Failed(exc, attempts, limited) from None
                if attempts >= retry.max_attempts:
                    raise Failed(
                        _exhausted(exc, f"{attempts} attempts"), attempts, limited
                    ) from None
                self.stats.retries[channel.name] += 1
                delay = self.backoff(attempts)
                log.warning(
                    "%s: %s, retry %d in %.2fs", name, self._redact(exc.reason), attempts, delay
                )
                await self.sleep(delay)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in a channel must not kill the worker
                log.error("%s: unexpected %s", name, type(exc).__name__)
                error = DeliveryError(
                    channel=name, retriable=False, reason=f"unexpected {type(exc).__name__}"
                )
                raise Failed(error, attempts, limited) from None

    def backoff(self, attempt: int) -> float:
        """The delay before retry ``attempt``: exponential, capped, with equal jitter."""
        retry = self.config.retry
        cap = min(retry.max_delay_s, retry.base_delay_s * (2 ** (attempt - 1)))
        return self._random.uniform(cap / 2, cap)  # "equal jitter": never zero, never > cap

    async def pace(self, channel: Channel, name: str) -> None:
        """Wait out the channel kind's 429 gate, then the spec's token bucket."""
        gate = self._gates.get(channel.name, 0.0)
        now = self.monotonic()
        if gate > now:
            await self.sleep(gate - now)
        if channel.pacing is None:
            return
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = TokenBucket(
                channel.pacing.rate_per_s,
                channel.pacing.burst,
                clock=self.monotonic,
                sleep=self.sleep,
            )
            self._buckets[name] = bucket
        await bucket.acquire()

    def lock(self, name: str) -> asyncio.Lock:
        """The lock of a spec's lane (created on first use): one send at a time, in order."""
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        return lock


def _exhausted(error: DeliveryError, what: str) -> DeliveryError:
    return DeliveryError(
        channel=error.channel,
        retriable=True,
        reason=f"gave up after {what}: {error.reason}",
        status=error.status,
    )
