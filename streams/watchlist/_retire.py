"""Free a replaced compiled watch-list in small pieces, in the reload thread.

Dropping the last reference to a 10,000-rule ``CompiledWatchlist`` frees about a million
objects in one cascade that holds the GIL (150 ms): done by whichever thread lets go
last — often a worker's event loop, which was still matching an article with it. The
reloader therefore keeps replaced lists and, on a later poll in its own thread, empties
the big lists and dicts of one that nobody else holds any more a few hundred items at a
time (the interpreter can switch threads in between), then lets it go.
"""

from __future__ import annotations

import sys
from contextlib import suppress
from typing import Any

__all__ = ["drain", "sole_owner"]

CHUNK = 256


def sole_owner(obj: Any, holders: int) -> bool:
    """True when ``obj`` has no references besides the ``holders`` the caller knows."""
    return sys.getrefcount(obj) - 2 <= holders  # getrefcount's argument and ``obj`` excluded


def _drain_container(value: Any) -> None:
    if isinstance(value, list):
        while value:
            del value[-CHUNK:]
    elif isinstance(value, dict):
        while value:
            for _ in range(min(CHUNK, len(value))):
                value.popitem()


def drain(compiled: Any) -> None:
    """Empty the big containers of a compiled watch-list nobody else uses, piece by piece."""
    holders = [compiled, getattr(compiled, "model", None)]
    loaded = getattr(compiled, "loaded", None)
    if loaded is not None:
        holders += [loaded, getattr(loaded, "model", None)]
    for holder in holders:
        if holder is None:
            continue
        for value in list(vars(holder).values()):
            _drain_container(value)
    automaton = getattr(compiled, "automaton", None)
    if automaton is not None:  # word by word: ``clear()`` frees 64k payloads in one call
        keys = list(automaton.keys())
        for start in range(0, len(keys), CHUNK):
            for key in keys[start : start + CHUNK]:
                with suppress(KeyError):
                    automaton.pop(key)
        automaton.clear()
