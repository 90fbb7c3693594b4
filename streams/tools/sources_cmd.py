"""``newswatch sources``: the health of every source, from the two status files.

``DATA_DIR/sources.json``: what the producer fetched (``newswatch ingest``: feeds, files,
stdin): last success, failures in a row, last error, items per fetch. ``DATA_DIR/
sources.worker.json``: what the worker saw arrive on ``articles.raw`` from every producer:
last new item, items today against the baseline, silent / low volume. A source in both is
one row (fetch fields from the producer, arrival fields from the worker, the worse status);
``seen by`` says where a row comes from. This command only reads the files.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from streams.ingest.sources import read_sources

WORKER_FILE = "sources.worker.json"  # streams.pipeline.arrivals.WORKER_SOURCES_FILE
_ARRIVAL = ("last_new_item", "items_today", "baseline_per_day", "usual_gap_s", "new_items")

__all__ = ["SORT_KEYS", "run_sources", "sources_table"]

SORT_KEYS = ("status", "source", "failures", "last_success", "last_new_item", "items")
_ORDER = {"failing": 0, "format changed": 1, "silent": 2, "low volume": 3, "healthy": 4}


def _ago(epoch: Any, now: float) -> str:
    if not isinstance(epoch, (int, float)):
        return "never"
    seconds = max(0.0, now - float(epoch))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def _key(sort: str) -> Any:
    def key(row: dict[str, Any]) -> Any:
        if sort == "status":
            return (_ORDER.get(row.get("status", ""), 9), row.get("source", ""))
        if sort == "failures":
            return (-int(row.get("consecutive_failures") or 0), row.get("source", ""))
        if sort == "items":
            return (-int(row.get("items_today") or 0), row.get("source", ""))
        if sort in ("last_success", "last_new_item"):
            return (float(row.get(sort) or 0.0), row.get("source", ""))
        return row.get("source", "")

    return key


def _rows(data: dict[str, object]) -> list[dict[str, Any]]:
    listed = data.get("sources")
    return [r for r in listed if isinstance(r, dict)] if isinstance(listed, list) else []


def merge_rows(
    fetched: list[dict[str, Any]],
    arrived: list[dict[str, Any]],
    origins: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One row per source: the producer's fetch fields, the worker's arrival fields.

    ``origins`` (feed URL -> the record sources it produced) joins a feed's URL row with the
    worker's row of its records' source name.
    """
    out = {str(r.get("source")): dict(r) for r in fetched}
    alias = {
        str(name): origin
        for origin, names in (origins or {}).items()
        if origin in out and isinstance(names, list)
        for name in names
        if str(name) not in out
    }
    for row in arrived:
        name = str(row.get("source"))
        mine = out.get(alias.get(name, name))
        if mine is None:
            out[name] = dict(row)
            continue
        mine.update({k: row.get(k) for k in _ARRIVAL})
        mine["incidents"] = sorted({*mine.get("incidents", []), *row.get("incidents", [])})
        worse = min(mine.get("status", ""), row.get("status", ""), key=lambda s: _ORDER.get(s, 9))
        mine["status"] = worse
        mine["seen_by"] = f"{mine.get('seen_by', 'ingest')}+worker"
    return list(out.values())


def sources_table(rows: list[dict[str, Any]], *, now: float, sort: str = "status") -> str:
    """The terminal table, sorted by ``sort`` (one of ``SORT_KEYS``)."""
    ordered = sorted(rows, key=_key(sort))
    head = (
        f"{'source':<44} {'status':<15} {'last success':>13} {'last new item':>14} "
        f"{'fails':>5} {'items/fetch':>11} {'today':>6} {'baseline/d':>10} {'seen by':<13} "
        "last error"
    )
    lines = [head]
    for r in ordered:
        base = r.get("baseline_per_day")
        items = r.get("items_last_fetch")
        lines.append(
            f"{str(r.get('source', ''))[:44]:<44} {r.get('status', ''):<15} "
            f"{_ago(r.get('last_success'), now):>13} {_ago(r.get('last_new_item'), now):>14} "
            f"{r.get('consecutive_failures', 0):>5} {('-' if items is None else items):>11} "
            f"{r.get('items_today', 0):>6} {('-' if base is None else f'{base:.1f}'):>10} "
            f"{r.get('seen_by') or 'ingest'!s:<13} {(r.get('last_error') or '')[:80]}".rstrip()
        )
    return "\n".join(lines) + "\n"


def run_sources(data_dir: Path, *, as_json: bool = False, sort: str = "status") -> int:
    """Print the table (or JSON); exit code 1 when a source is not healthy, 0 otherwise."""
    data = read_sources(data_dir)
    worker = read_sources(data_dir, WORKER_FILE)
    origins = data.get("origins")
    rows = merge_rows(_rows(data), _rows(worker), origins if isinstance(origins, dict) else None)
    data = {**data, "worker_written_at": worker.get("written_at")}
    if as_json:
        print(json.dumps({**data, "sources": sorted(rows, key=_key(sort))}, indent=2))
    elif not rows:
        print(
            f"no source health yet ({data_dir / 'sources.json'}): "
            "run `newswatch ingest`, `newswatch worker` or `newswatch run`"
        )
    else:
        now = time.time()
        print(sources_table(rows, now=now, sort=sort), end="")
        seen = worker.get("written_at")
        print(
            f"worker view (articles.raw): {_ago(seen, now)}"
            if seen
            else "no worker view yet (DATA_DIR/sources.worker.json): silence of non-feed "
            "sources is judged by a running worker"
        )
    return 1 if any(r.get("status") != "healthy" for r in rows) else 0
