"""The ``newswatch watchlist check`` and ``newswatch match`` commands (wired in streams/cli.py).

``run_check`` prints a one-screen summary (exit 0) or one ``FILE:LINE:COL: message`` line per
problem (exit 1). ``run_match`` reads articles — JSONL of raw articles (``id``, ``title``,
``text``…), JSONL of enriched articles (``newswatch enrich`` output), or a ``.txt`` file
whose first non-empty line is the title — and writes one JSON line per (article, rule)
match. Raw articles go through ``enrich`` when the caller passes one (the CLI passes the
real enrichment stage), else through ``build_enriched`` (naive split, the record's language).
A bad input line is reported on stderr as ``SOURCE:LINE: message``; the others are still
matched; the exit code is then 1, else 0 (also when nothing matched).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from schemas.records import EnrichedArticle, RawArticle
from streams.watchlist.compile import CompiledWatchlist, compile_watchlist
from streams.watchlist.errors import WatchlistError
from streams.watchlist.load import load_watchlist
from streams.watchlist.match import build_enriched, match_article

__all__ = ["EnrichFn", "format_summary", "read_match_input", "run_check", "run_match"]

#: Enrich a batch of raw articles: an enriched article, or an exception, per input.
EnrichFn = Callable[[Sequence[RawArticle]], Sequence[EnrichedArticle | Exception]]

BATCH = 32


def run_check(
    path: Path, *, as_json: bool = False, out: IO[str] | None = None, allow_empty: bool = False
) -> int:
    """Check a watch-list: summary and 0, or problem lines and 1. Never raises.

    A watch-list without any enabled rule is a problem (a truncated ConfigMap would be a
    silent outage) unless ``allow_empty``."""
    out = out or sys.stdout
    try:
        compiled = compile_watchlist(load_watchlist(path))
    except WatchlistError as exc:
        for problem in exc.problems:
            print(str(problem), file=out)
        print(f"{len(exc.problems)} problem(s) in {path}", file=sys.stderr)
        return 1
    if compiled.enabled_rules == 0 and not allow_empty:
        total = len(compiled.model.rules)
        print(
            f"{path}:1:1: no enabled rule ({total} rule(s) in the file): a worker with this "
            "watch-list never alerts and is not ready; pass --allow-empty if this is intended",
            file=out,
        )
        print(f"1 problem(s) in {path}", file=sys.stderr)
        return 1
    summary = compiled.summary()
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2), file=out)
    else:
        print(format_summary(compiled), file=out)
    return 0


def format_summary(compiled: CompiledWatchlist) -> str:
    """The one-screen text summary of a valid watch-list."""
    s = compiled.summary()
    rules = compiled.model.rules
    lines = [f"{s['path']}: OK, version {s['version']}"]
    shown = ", ".join(r.id + ("" if r.enabled else " (disabled)") for r in rules[:8])
    more = f", … (+{len(rules) - 8})" if len(rules) > 8 else ""
    lines.append(f"  rules      {s['rules']} ({s['rules_enabled']} enabled): {shown}{more}")
    windows = s["rule_windows"]
    width = max((len(w["id"]) for w in windows[:12]), default=0)
    for w in windows[:12]:
        note = " (default: no throttle)" if w["window_default"] else ""
        off = "  [disabled]" if not w["enabled"] else ""
        lines.append(f"    {w['id']:<{width}}  window {_duration(w['window_s'])}{note}{off}")
    if len(windows) > 12:
        lines.append(f"    … (+{len(windows) - 12})")
    ents = sorted(compiled.model.entities)
    lines.append(f"  entities   {len(ents)}: {', '.join(ents[:8])}{', …' if len(ents) > 8 else ''}")
    lines.append(f"  concepts   {len(s['concepts'])}:")
    for ident, info in list(s["concepts"].items())[:12]:
        lines.append(
            f"    {ident:<22} {info['terms']:>4} terms in {len(info['languages'])} languages"
        )
    if len(s["concepts"]) > 12:
        lines.append(f"    … (+{len(s['concepts']) - 12})")
    lines.append(f"  languages  {' '.join(s['languages']) or '-'}")
    for inc in s["includes"]:
        lines.append(f"  includes   {inc}")
    lines.append(
        f"  automaton  {s['automaton_keys']} keys, {s['patterns']} patterns, {s['regexes']} regexes"
    )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    """``6h``, ``90m``, ``2d``, ``45s``: the largest unit that divides the duration."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


class _BadLine:
    def __init__(self, source: str, line: int, message: str) -> None:
        self.text = f"{source}:{line}: {message}"


def read_match_input(
    source: str, stdin: IO[str] | None = None
) -> Iterator[RawArticle | EnrichedArticle | _BadLine]:
    """Articles from JSONL (raw or enriched) or a ``.txt`` file; bad lines as problems."""
    if source != "-" and Path(source).suffix.lower() == ".txt":
        try:
            yield _text_article(Path(source))
        except (OSError, UnicodeDecodeError) as exc:
            yield _BadLine(source, 0, f"cannot read: {exc}")
        return
    try:
        stream = (stdin or sys.stdin) if source == "-" else open(source, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        yield _BadLine(source, 0, f"cannot read: {exc.strerror or exc}")
        return
    name = "<stdin>" if source == "-" else source
    try:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except (json.JSONDecodeError, RecursionError) as exc:
                yield _BadLine(name, number, f"not JSON: {exc}")
                continue
            if not isinstance(data, dict):
                yield _BadLine(name, number, "expected a JSON object")
                continue
            try:
                if "clean_text" in data and "article" in data:
                    yield EnrichedArticle.model_validate(data)
                else:
                    yield RawArticle.model_validate(data)
            except ValidationError as exc:
                first = exc.errors()[0]
                loc = ".".join(str(p) for p in first["loc"]) or "record"
                yield _BadLine(name, number, f"{loc}: {first['msg']}")
    except UnicodeDecodeError as exc:
        yield _BadLine(name, 0, f"not UTF-8: {exc}")
    finally:
        if stream is not stdin and stream is not sys.stdin:
            stream.close()


def _text_article(path: Path) -> RawArticle:
    lines = path.read_text(encoding="utf-8").splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    title = lines[first].strip() if first < len(lines) else ""
    body = "\n".join(lines[first + 1 :]).strip("\n")
    digest = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()[:24]
    return RawArticle(id=f"txt-{digest}", title=title, text=body, source=path.name)


def run_match(
    compiled: CompiledWatchlist,
    source: str,
    *,
    enrich: EnrichFn | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    stdin: IO[str] | None = None,
) -> int:
    """Match every article of ``source``; one JSON line per match on ``out``."""
    out = out or sys.stdout
    err = err or sys.stderr
    failures = 0
    pending: list[RawArticle] = []

    def emit(enriched: EnrichedArticle) -> None:
        for m in match_article(compiled, enriched):
            out.write(m.model_dump_json() + "\n")

    def flush() -> None:
        nonlocal failures
        if not pending:
            return
        if enrich is None:
            for raw in pending:
                emit(
                    build_enriched(
                        raw.id, raw.title, raw.text, raw.language, source=raw.source, url=raw.url
                    )
                )
        else:
            for raw, result in zip(pending, enrich(pending), strict=True):
                if isinstance(result, Exception):
                    failures += 1
                    print(f"newswatch match: article {raw.id}: {result}", file=err)
                else:
                    emit(result)
        pending.clear()
        out.flush()

    for item in read_match_input(source, stdin):
        if isinstance(item, _BadLine):
            failures += 1
            print(item.text, file=err)
        elif isinstance(item, EnrichedArticle):
            flush()  # keep the input order
            emit(item)
        else:
            pending.append(item)
            if len(pending) >= BATCH:
                flush()
    flush()
    return 1 if failures else 0
