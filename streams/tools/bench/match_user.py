"""``newswatch bench match`` as a user sees it: the ``newswatch match`` command, enrichment
included, timed from the outside at a low and a high rule count, and a hot reload.

For each rule count the bench writes the e2e bench's watch-list (``corpus.bench_watchlist``:
two aliases per organisation, the shipped concept packs; YAML as a user writes it) and
runs ``python -m streams.cli match --watchlist W.yaml ARTICLES.jsonl`` as a child process:

- once on an empty input: *start* = load + compile + enricher set-up + interpreter;
- once on ``articles`` raw articles (``corpus.make_corpus``: German, English, French).

CPU seconds (user + system) come from ``os.wait4`` of that child only (other processes on
a shared machine do not count), peak RSS from the child's own ``VmHWM``; each run is
repeated and the smallest CPU time kept. Per article = (full run - start run) / articles:
everything the articles cost, including loading a language's pipeline and building its
entity ruler on first use.

Hot reload: a ``WatchlistReloader`` on the high-count list, an ``Enricher`` with its
patterns, and a loop-lag probe (``asyncio.sleep(1 ms)`` in a loop; lag = how late it
wakes). The list is edited (an ops channel added) and the worker's steps run as in
``pipeline.root.poll_watchlist``: ``check`` in a thread, the new entity patterns set in a
thread (``apply_entity_patterns``), one article enriched in a thread (the ruler rebuild).
The same probe runs as long on an idle loop first: on a shared machine the OS alone
delays a thread by tens of ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["reload_stall", "run_user_bench"]

TARGET_SPEED = 0.8
TARGET_START_S = 3.0
TARGET_RSS_RATIO = 1.3
TARGET_STALL_MS = 50.0


def _write_inputs(folder: Path, rule_counts: list[int], articles: int) -> dict[str, Path]:
    import yaml

    from streams.tools.bench.corpus import bench_watchlist, make_corpus

    paths: dict[str, Path] = {}
    for n in rule_counts:
        path = folder / f"watchlist-{n}.yaml"
        doc = bench_watchlist(n)
        path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), "utf-8")
        paths[str(n)] = path
    corpus = folder / "articles.jsonl"
    with corpus.open("w", encoding="utf-8") as out:
        for art in make_corpus(articles, rules=min(rule_counts), match_share=0.1):
            out.write(json.dumps(art.fields, ensure_ascii=False) + "\n")
    empty = folder / "empty.jsonl"
    empty.write_text("", "utf-8")
    paths["articles"], paths["empty"] = corpus, empty
    return paths


#: The child: ``newswatch match`` (``streams.cli.main``), then its own peak RSS (VmHWM)
#: written to a file. ``ru_maxrss`` of a child cannot be used: Linux carries the parent's
#: high-water mark over ``fork`` + ``exec``, so a small child would report the bench's size.
_CHILD = """
import atexit, sys
def _hwm(path=sys.argv.pop(1)):
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(path, "w").write(line.split()[1])
atexit.register(_hwm)
from streams.cli import main
main(sys.argv[1:])
"""


def _run_cli(watchlist: Path, source: Path) -> dict[str, float]:
    """One ``newswatch match`` child: CPU seconds, wall seconds, peak RSS (MB), output lines.

    The child imports newswatch from this source tree (``NEWSWATCH_BENCH_SOURCE``: another
    checkout, to time an older version back to back with this one)."""
    root = os.environ.get("NEWSWATCH_BENCH_SOURCE") or _root()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, _pythonpath()]))}
    with tempfile.NamedTemporaryFile(prefix="nw-hwm-", delete=False) as hwm_file:
        hwm = Path(hwm_file.name)
    args = ["match", "--watchlist", str(watchlist), str(source)]
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(hwm), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert proc.stdout is not None
        with proc.stdout:
            lines = proc.stdout.read().count(b"\n")
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak_kb = float(hwm.read_text() or 0)
    finally:
        hwm.unlink(missing_ok=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"newswatch match exited {proc.returncode}")
    return {
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "wall_s": time.perf_counter() - start,
        "rss_mb": peak_kb / 1024,
        "matches": lines,
    }


def _root() -> str:
    return str(Path(__file__).resolve().parents[3])


def _pythonpath() -> str:
    return os.environ.get("PYTHONPATH", "")


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    best = min(runs, key=lambda r: r["cpu_s"])
    return {**best, "rss_mb": max(r["rss_mb"] for r in runs)}


def _measure(paths: dict[str, Path], n: int, articles: int, repeat: int) -> dict[str, Any]:
    watchlist = paths[str(n)]
    start = _best([_run_cli(watchlist, paths["empty"]) for _ in range(repeat)])
    full = _best([_run_cli(watchlist, paths["articles"]) for _ in range(repeat)])
    per_article = max(full["cpu_s"] - start["cpu_s"], 0.0) / articles
    return {
        "rules": n,
        "start_cpu_s": round(start["cpu_s"], 3),
        "start_wall_s": round(start["wall_s"], 3),
        "start_peak_rss_mb": round(start["rss_mb"], 1),
        "run_cpu_s": round(full["cpu_s"], 3),
        "peak_rss_mb": round(full["rss_mb"], 1),
        "cpu_ms_per_article": round(per_article * 1000, 3),
        "articles_per_cpu_s": round(1 / per_article, 1) if per_article else None,
        "matches": int(full["matches"]),
    }


async def _probe(lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(0.001)
        lags.append(time.perf_counter() - t0 - 0.001)


def _lag_summary(lags: list[float]) -> dict[str, float]:
    ordered = sorted(lags) or [0.0]
    return {
        "max_ms": round(ordered[-1] * 1000, 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1),
        "samples": len(lags),
    }


async def _reload_stall(path: Path) -> dict[str, Any]:
    from schemas.records import RawArticle
    from streams.enrich import EnrichConfig, Enricher
    from streams.watchlist.reload import WatchlistReloader, apply_entity_patterns

    reloader = WatchlistReloader(path)
    assert reloader.current is not None
    enricher = Enricher(EnrichConfig())
    enricher.set_entity_patterns(reloader.current.entity_patterns())
    article = RawArticle(
        id="reload-probe", title="Reload probe", text="The ministry fined the company. " * 30
    )
    await asyncio.to_thread(enricher.enrich, article)  # pipeline and ruler loaded before
    # the same probe on a loop that does nothing else (the machine's own noise)
    idle: list[float] = []
    stop = asyncio.Event()
    task = asyncio.create_task(_probe(idle, stop))
    await asyncio.sleep(1.5)
    stop.set()
    await task
    with path.open("a", encoding="utf-8") as edit:  # a new version (ops channel added)
        edit.write("ops_channels: [console]\n")
    lags: list[float] = []
    stop = asyncio.Event()
    task = asyncio.create_task(_probe(lags, stop))
    await asyncio.sleep(0.05)
    cpu0, t0 = time.process_time(), time.perf_counter()
    changed = await asyncio.to_thread(reloader.check)
    t1 = time.perf_counter()
    current = reloader.current
    await asyncio.to_thread(apply_entity_patterns, current, enricher.set_entity_patterns)
    t2 = time.perf_counter()
    await asyncio.to_thread(enricher.enrich, article)  # rebuilds the ruler
    t3 = time.perf_counter()
    cpu = time.process_time() - cpu0
    await asyncio.sleep(0.05)
    stop.set()
    await task
    return {
        "rules": len(current.rules),
        "swapped": changed,
        "check_s": round(t1 - t0, 3),
        "set_patterns_s": round(t2 - t1, 3),
        "ruler_rebuild_s": round(t3 - t2, 3),
        "reload_cpu_s": round(cpu, 3),
        "loop_lag_during_reload": _lag_summary(lags),
        "loop_lag_idle": _lag_summary(idle),
    }


def reload_stall(path: Path) -> dict[str, Any]:
    """Event-loop lag while a watch-list at ``path`` is hot-reloaded (see module doc)."""
    return asyncio.run(_reload_stall(path))


def run_user_bench(
    rule_counts: list[int], *, articles: int = 400, repeat: int = 2
) -> dict[str, Any]:
    """The ``newswatch match`` figures of issue 15 target 1 (a JSON-ready dict)."""
    low, high = min(rule_counts), max(rule_counts)
    with tempfile.TemporaryDirectory(prefix="nw-bench-match-") as tmp:
        paths = _write_inputs(Path(tmp), sorted({low, high}), articles)
        rows = {n: _measure(paths, n, articles, repeat) for n in sorted({low, high})}
        print("bench match: newswatch match runs done", file=sys.stderr)
        stall = reload_stall(paths[str(high)])
    lo, hi = rows[low], rows[high]
    speed = lo["cpu_ms_per_article"] / hi["cpu_ms_per_article"] if hi["cpu_ms_per_article"] else 0
    rss_ratio = hi["peak_rss_mb"] / lo["peak_rss_mb"]
    lag = stall["loop_lag_during_reload"]["max_ms"]
    return {
        "command": "newswatch match --watchlist W.yaml articles.jsonl (enrichment on)",
        "articles": articles,
        "clock": f"CPU time of the child (os.wait4), best of {repeat}; peak RSS: its VmHWM",
        "runs": list(rows.values()),
        "speed_high_vs_low": round(speed, 3),
        "peak_rss_high_vs_low": round(rss_ratio, 3),
        "reload": stall,
        "targets": {
            f"speed_{high}_rules>={TARGET_SPEED}_of_{low}": speed >= TARGET_SPEED,
            f"start_cpu_{high}_rules<{TARGET_START_S}s": hi["start_cpu_s"] < TARGET_START_S,
            f"peak_rss_{high}_rules<={TARGET_RSS_RATIO}x_{low}": rss_ratio <= TARGET_RSS_RATIO,
            f"reload_{high}_rules_loop_lag<={TARGET_STALL_MS}ms": lag <= TARGET_STALL_MS,
        },
    }
