"""Issue 15.1: a hot reload frees the replaced list in its own thread, piece by piece, and
only once nothing else holds it; load and compile pause the cyclic GC and restore it."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

from streams.watchlist import WatchlistReloader
from streams.watchlist._gc import gc_paused

V1 = "entities:\n  a: {aliases: [Acme]}\nrules:\n  - {id: r1, title: one, all: ['entity:a']}\n"
V2 = "rules:\n  - {id: r2, title: two, all: ['term:mole']}\n"
V3 = "rules:\n  - {id: r3, title: three, all: ['term:spy']}\n"


def test_replaced_list_is_drained_by_the_reload_thread(write_yaml: Callable[..., Path]) -> None:
    """Nobody else holds the old list: the check that replaced it empties and drops it."""
    path = write_yaml(V1)
    reloader = WatchlistReloader(path)
    old = reloader.current
    assert old is not None
    patterns, gone = old.patterns, weakref.ref(old)
    del old
    path.write_text(V2, encoding="utf-8")
    assert reloader.check()
    assert patterns == [] and gone() is None and reloader._retired == []


def test_list_in_use_is_kept_until_released(write_yaml: Callable[..., Path]) -> None:
    """A list still matching an article elsewhere is left intact, and freed at a later poll."""
    path = write_yaml(V1)
    reloader = WatchlistReloader(path)
    in_use = reloader.current
    assert in_use is not None
    path.write_text(V2, encoding="utf-8")
    assert reloader.check()
    assert in_use.patterns and in_use.model.rules  # untouched while held
    patterns = in_use.patterns
    del in_use
    path.write_text(V3, encoding="utf-8")
    assert reloader.check()
    assert patterns == [] and reloader._retired == []


def test_gc_pause_nests_across_threads_and_restores_the_collector() -> None:
    """Overlapping pauses (two threads) keep the collector off until the last one ends."""
    assert gc.isenabled()
    inner_done = threading.Event()
    release = threading.Event()

    def other() -> None:
        with gc_paused():
            inner_done.set()
            release.wait(5)

    with gc_paused():
        thread = threading.Thread(target=other)
        thread.start()
        inner_done.wait(5)
    assert not gc.isenabled()  # the other thread's pause is still on
    release.set()
    thread.join(5)
    assert gc.isenabled()
