"""Token-bucket pacing per delivery lane, with a pause for server-requested back-off."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; ``pause`` blocks until a time.

    ``clock`` and ``sleep`` are injectable, so tests can check the waits without waiting.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.sleep = sleep
        self.tokens = float(burst)
        self.updated = clock()
        self.paused_until = 0.0

    def _refill(self, now: float) -> None:
        if now <= self.updated:  # still inside a pause: nothing accrues
            return
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def pause(self, seconds: float) -> None:
        """Hand out no token for ``seconds`` (e.g. a 429's Retry-After); drop saved burst."""
        now = self.clock()
        self.paused_until = max(self.paused_until, now + max(0.0, seconds))
        self._refill(now)
        self.tokens = min(self.tokens, 1.0)
        self.updated = max(self.updated, self.paused_until)  # accrue again only afterwards

    def wait_time(self) -> float:
        """Seconds until a token is available (0 if one is available now)."""
        now = self.clock()
        self._refill(now)
        if now < self.paused_until:
            return self.paused_until - now
        # A refill computed in floating point may leave 0.9999999… tokens; a wait shorter than
        # the clock's resolution would then never advance it (an endless loop).
        return 0.0 if self.tokens >= 1 - 1e-9 else (1 - self.tokens) / self.rate

    async def acquire(self) -> float:
        """Wait for and take one token; returns the total time waited (by the clock)."""
        waited = 0.0
        while True:
            delay = self.wait_time()
            if delay <= 0:
                self.tokens -= 1
                return waited
            waited += delay
            await self.sleep(delay)
