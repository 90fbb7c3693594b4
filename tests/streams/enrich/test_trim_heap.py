"""The worker's periodic heap trim gives freed pages back to the OS (glibc only)."""

from __future__ import annotations

import ctypes.util
import os

import pytest

from streams.enrich.nlp import trim_heap

pytestmark = pytest.mark.skipif(
    ctypes.util.find_library("c") is None or os.uname().sysname != "Linux",
    reason="malloc_trim is glibc's",
)


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_trim_returns_pages_freed_below_a_live_allocation() -> None:
    """200 MB freed under a block still in use stay in RSS until the trim hands them back."""
    blocks = [b"x" * 4096 + bytes([i % 256]) for i in range(50_000)]  # ~200 MB, touched
    keep = blocks[-1]  # holds the top of the heap: free() alone cannot shrink it
    del blocks
    before = _rss_bytes()
    assert trim_heap()
    after = _rss_bytes()
    assert before - after > 100_000_000, (before, after)
    assert keep[-1] == 49_999 % 256
