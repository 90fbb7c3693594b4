"""Progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise.

The total is known up front (the partitions' offsets to read), so the bar shows percent,
records, articles/s and an ETA. ``enabled=False`` prints nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress"]

_BAR = 28


class Progress:
    """Progress of a replay over ``total`` records (offsets)."""

    def __init__(
        self,
        total: int | None,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        interval_s: float = 5.0,
        label: str = "replay",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval_s = 0.1 if self.tty else interval_s
        self.label = label
        self.clock = clock
        self.done = 0
        self.articles = 0
        self.started = clock()
        self._last_draw = self.started
        self._drawn: tuple[int, int] | None = None  # (done, articles) last shown
        self._closed = False

    def rate(self) -> float:
        """Articles per second so far."""
        elapsed = self.clock() - self.started
        return self.articles / elapsed if elapsed > 0 else 0.0

    def update(self, records: int, articles: int) -> None:
        """Add ``records`` read and ``articles`` processed; redraw when it is time."""
        self.done += records
        self.articles += articles
        now = self.clock()
        if self.enabled and now - self._last_draw >= self.interval_s:
            self._last_draw = now
            self._draw(final=False)

    def line(self) -> str:
        """The current progress as one line of text (no control characters)."""
        rate = self.rate()
        if self.total:
            frac = min(1.0, self.done / self.total)
            filled = int(frac * _BAR)
            bar = "#" * filled + "." * (_BAR - filled)
            remaining = max(0, self.total - self.done)
            per_record = (self.clock() - self.started) / self.done if self.done else 0.0
            eta = f" ETA {remaining * per_record:.0f}s" if self.done and remaining else ""
            return (
                f"{self.label} [{bar}] {frac * 100:5.1f}% {self.done:,}/{self.total:,} records"
                f"  {self.articles:,} articles  {rate:,.1f} articles/s{eta}"
            )
        return (
            f"{self.label}: {self.done:,} records  {self.articles:,} articles"
            f"  {rate:,.1f} articles/s"
        )

    def _draw(self, *, final: bool) -> None:
        self._drawn = (self.done, self.articles)
        text = self.line()
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Show the final state once: not again if the last line already showed it."""
        if self._closed:
            return
        self._closed = True
        if not self.enabled:
            return
        if self._drawn == (self.done, self.articles):
            if self.tty:  # the bar already shows it: just end its line
                self.stream.write("\n")
                self.stream.flush()
            return
        self._draw(final=True)
