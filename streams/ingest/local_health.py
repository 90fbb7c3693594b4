"""Produce local inputs (files, folders, ``-``) and keep their source health.

Each file read by ``newswatch ingest`` (or ``<stdin>``) is one *fetch*. Its articles are
counted per record ``source`` (``unknown`` when a record names none): every source in it gets
a successful fetch with the items it parsed and how many were new. A read that yields no
article but problems (unreadable file, not JSONL, every line invalid) is a failed fetch of
the sources that file produced at its last good read, or of the file's path when it never
produced one; the last problem is the last error. Bad lines in a file that also had good
ones keep the fetch successful and show as its last error. (An empty file yields nothing
and is not counted as a read.)

These rows raise only the fetch-side incidents (failing, zero_items): a one-shot producer
cannot tell that a source went quiet. The worker does, from what arrives on ``articles.raw``
(:mod:`streams.pipeline.arrivals`), whoever produced it.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from schemas.records import RawArticle
from streams.errors import IngestError
from streams.ingest.health import FETCH_KINDS, OTHER
from streams.ingest.sources import SourceMonitor
from streams.kafka.jsonl import BadInput
from streams.settings import Settings

if TYPE_CHECKING:
    from streams.ingest.producer import ArticleProducer

__all__ = ["UNKNOWN_SOURCE", "LocalRead", "produce_local", "record_read"]

#: The health row of records without a ``source`` (the worker uses the same name).
UNKNOWN_SOURCE = "unknown"


@dataclass
class LocalRead:
    """What one read of one file (or stdin) gave: per source ``[parsed, new]``, problems."""

    origin: str
    counts: dict[str, list[int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def article(self, article: RawArticle, new: bool) -> None:
        """One article read (``new``: not a duplicate id of this run)."""
        count = self.counts.setdefault(article.source or UNKNOWN_SOURCE, [0, 0])
        count[0] += 1
        count[1] += int(new)


def record_read(monitor: SourceMonitor, read: LocalRead) -> None:
    """Feed one read into the monitor's health (see the module docstring)."""
    health = monitor.health
    kind = "stdin" if read.origin == "<stdin>" else "file"
    if read.counts:
        names = []
        for source, (parsed, new) in read.counts.items():
            stats = health.stats(source, kind)
            health.fetched(stats.name, parsed, new, kind=kind)
            if read.problems:
                stats.last_error = f"{len(read.problems)} bad input(s); last: {read.problems[-1]}"
            names.append(stats.name)
        if read.origin in health.sources and read.origin not in names:
            health.fetched(read.origin, None, 0, kind=kind)  # a file that failed before
        monitor.origins[read.origin] = sorted(set(names))
    else:
        for name in monitor.origins.get(read.origin) or [read.origin]:
            health.failed(name, read.problems[-1] if read.problems else "no article", kind=kind)
    for name in {*read.counts, *monitor.origins.get(read.origin, []), read.origin}:
        row = health.sources.get(health.key(name))
        if row is not None and row.name != OTHER:
            row.alerts = FETCH_KINDS


async def produce_local(
    settings: Settings, producer: ArticleProducer, sources: list[str], monitor: SourceMonitor
) -> int:
    """Produce every local article of ``sources``, recording each read; returns the problems."""
    from streams.ingest.producer import iter_local

    problems = 0
    read: LocalRead | None = None
    items = iter_local(sources, settings)
    while (pair := await asyncio.to_thread(next, items, None)) is not None:
        origin, item = pair
        if read is None or read.origin != origin:
            if read is not None:
                record_read(monitor, read)
            read = LocalRead(origin)
        if isinstance(item, BadInput):
            problems += 1
            read.problems.append(str(item).removeprefix(f"{origin}: ")[:300])
            print(f"newswatch ingest: {item}", file=sys.stderr)
            continue
        try:
            read.article(item, await producer.produce(item))
        except IngestError as exc:
            problems += 1
            print(f"newswatch ingest: {origin}: {exc}", file=sys.stderr)
    if read is not None:
        record_read(monitor, read)
    await producer.flush()
    return problems
