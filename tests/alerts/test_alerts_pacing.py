"""The token bucket that paces each delivery lane."""

from __future__ import annotations

from alerts._pacing import TokenBucket


class FakeTime:
    """A clock whose sleep advances it, recording every wait."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 6))
        self.now += seconds


async def test_bucket_allows_a_burst_then_paces_at_the_rate() -> None:
    """Three messages go at once, the next ones one second apart (1 msg/s, burst 3)."""
    t = FakeTime()
    bucket = TokenBucket(1.0, 3, clock=t.clock, sleep=t.sleep)
    for _ in range(5):
        await bucket.acquire()
    assert t.waits == [1.0, 1.0]
    assert t.now == 102.0


async def test_pause_holds_tokens_until_retry_after() -> None:
    """After ``pause(30)`` no token is handed out for 30 s, and the saved burst is gone."""
    t = FakeTime()
    bucket = TokenBucket(1.0, 3, clock=t.clock, sleep=t.sleep)
    bucket.pause(30)
    await bucket.acquire()
    await bucket.acquire()
    assert t.waits == [30.0, 1.0]
