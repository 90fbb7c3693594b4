"""``python -m streams.tools.bench.cpu``: CPU per stage and a digest of the output."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from streams.tools.bench.cpu import bench_cpu


@pytest.fixture
def gc_state() -> Iterator[None]:
    """The bench tunes and freezes the GC like a worker: restore the test process's."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("gc_state")
def test_cpu_bench_reports_every_stage_and_a_timing_free_output_digest() -> None:
    """Each stage has a CPU figure; the digest repeats on a second run (timings excluded)."""
    first = bench_cpu(10, 12)
    second = bench_cpu(10, 12)
    assert first["articles"] == 10 and first["matches"] == 1
    stages = first["cpu_ms_per_article"]
    assert set(stages) == {"decode", "enrich", "match", "serialize", "total"}
    assert stages["enrich"] > 0 and stages["match"] > 0
    assert set(first["enrich_timings_ms_mean"]) >= {"clean", "language", "nlp", "record"}
    assert first["output_sha256"] == second["output_sha256"]
