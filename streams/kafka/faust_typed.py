"""Typed wrappers for Faust's untyped decorators (``app.timer``, ``app.task``).

Faust's decorators carry no annotations, so under ``mypy --strict`` every decorated function
would become untyped; these wrappers state what they return (the same coroutine function).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

import faust

__all__ = ["AsyncFn", "task", "timer"]

#: A coroutine function without arguments, as Faust timers and tasks are.
AsyncFn = Callable[[], Awaitable[None]]


def timer(app: faust.App, interval: float) -> Callable[[AsyncFn], AsyncFn]:
    """``@app.timer(interval=...)`` with a type: runs the function every ``interval`` s."""
    return cast(Callable[[AsyncFn], AsyncFn], app.timer(interval=interval))


def task(app: faust.App) -> Callable[[AsyncFn], AsyncFn]:
    """``@app.task`` with a type: runs the function once when the worker has started."""
    return cast(Callable[[AsyncFn], AsyncFn], app.task)
