"""Progress on stderr: a bar on a terminal, periodic plain lines otherwise."""

from __future__ import annotations

import io

from streams.tools.replay import Progress


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_every_interval_with_rate() -> None:
    """Off a terminal: one line per interval, with percent and articles/s; the final state once
    (it printed twice when the last interval line was already at 100 %)."""
    clock, out = _Clock(), io.StringIO()
    progress = Progress(1000, stream=out, interval_s=5.0, clock=clock)
    clock.now = 1.0
    progress.update(100, 100)  # too early for a line
    clock.now = 5.0
    progress.update(400, 400)
    clock.now = 10.0
    progress.update(500, 500)
    progress.close()
    progress.close()  # idempotent
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0] != lines[1]
    assert (
        "50.0%" in lines[0] and "500/1,000 records" in lines[0] and "100.0 articles/s" in lines[0]
    )
    assert "100.0%" in lines[-1] and "\r" not in out.getvalue()


def test_terminal_bar_redraws_in_place() -> None:
    """On a terminal the bar is redrawn with a carriage return and ends with a newline."""
    clock, out = _Clock(), _Tty()
    progress = Progress(10, stream=out, clock=clock)
    clock.now = 1.0
    progress.update(5, 5)
    progress.close()
    text = out.getvalue()
    assert text.count("\r\x1b[2K") == 1 and text.endswith("\n")  # not redrawn unchanged
    assert "[##############..............]" in text and "ETA" in text


def test_disabled_progress_prints_nothing() -> None:
    """--no-progress: nothing on stderr."""
    out = io.StringIO()
    progress = Progress(10, stream=out, enabled=False, interval_s=0.0)
    progress.update(10, 10)
    progress.close()
    assert out.getvalue() == ""


def test_final_line_when_the_last_interval_line_is_stale() -> None:
    """Progress after the last interval line is shown by close, once."""
    clock, out = _Clock(), io.StringIO()
    progress = Progress(10, stream=out, interval_s=5.0, clock=clock)
    clock.now = 5.0
    progress.update(5, 5)
    clock.now = 6.0
    progress.update(5, 5)  # too early for a line
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "50.0%" in lines[0] and "100.0%" in lines[1]


def test_terminal_bar_already_final_is_not_drawn_twice() -> None:
    """On a terminal a bar already at 100 % just gets its newline on close."""
    clock, out = _Clock(), _Tty()
    progress = Progress(10, stream=out, clock=clock)
    clock.now = 1.0
    progress.update(10, 10)
    progress.close()
    text = out.getvalue()
    assert text.count("100.0%") == 1 and text.endswith("\n")
