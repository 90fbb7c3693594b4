"""The ``newswatch watchlist check`` and ``newswatch match`` commands (wired in streams/cli.py).

``run_check`` prints a one-screen summary (exit 0) or one ``FILE:LINE:COL: message`` line per
problem (exit 1). ``run_match`` reads articles — JSONL of raw articles (``id``, ``title``,
``text``…), JSONL of enriched articles (``newswatch enrich`` output), or a ``.txt`` file
whose first non-empty line is the title — and writes one JSON line per (article, rule)
match. Raw articles go through ``enrich`` when the caller passes one (the CLI passes the
real enrichment stage), else through ``build_enriched`` (naive split, the record's language).
A bad input line is reported on stderr as ``SOURCE:LINE:COL: message``; the others are still
matched; the exit code is then 1, else 0 (also when nothing matched).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from schemas.records import EnrichedArticle, RawArticle
from streams.kafka.jsonl import BadInput, iter_jsonl
from streams.watchlist.compile import CompiledWatchlist, compile_watchlist
from streams.watchlist.errors import WatchlistError
from streams.watchlist.load import load_watchlist
from streams.watchlist.match import build_enriched, match_article

__all__ = ["EnrichFn", "format_summary", "read_match_input", "run_check", "run_match"]

#: Enrich a batch of raw articles: an enriched article, or an exception, per input.
EnrichFn = Callable[[Sequence[RawArticle]], Sequence[EnrichedArticle | Exception]]

BATCH = 32


def _is_pack(path: Path, compiled: CompiledWatchlist) -> bool:
    """True for a concept pack: concepts or entities, and no ``rules:`` key in the file."""
    model = compiled.model
    if model.rules or not (model.concepts or model.entities):
        return False
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(r"^rules\s*:", text, re.MULTILINE) is None


def run_check(
    path: Path, *, as_json: bool = False, out: IO[str] | None = None, allow_empty: bool = False
) -> int:
    """Check a watch-list: summary and 0, or problem lines and 1. Never raises.

    A watch-list without any enabled rule is a problem (a truncated ConfigMap would be a
    silent outage) unless ``allow_empty``. A concept pack (a file with concepts or entities
    and no ``rules:`` key at all, as included by watch-lists) needs no rule."""
    out = out or sys.stdout
    try:
        compiled = compile_watchlist(load_watchlist(path))
    except WatchlistError as exc:
        for problem in exc.problems:
            print(str(problem), file=out)
        print(f"{len(exc.problems)} problem(s) in {path}", file=sys.stderr)
        return 1
    if compiled.enabled_rules == 0 and not allow_empty and not _is_pack(path, compiled):
        total = len(compiled.model.rules)
        print(
            f"{path}:1:1: no enabled rule ({total} rule(s) in the file): a worker with this "
            "watch-list never alerts and is not ready; pass --allow-empty if this is intended",
            file=out,
        )
        print(f"1 problem(s) in {path}", file=sys.stderr)
        return 1
    summary = compiled.summary()
    unreachable = unreachable_here(compiled)
    if as_json:
        summary["unreachable_channels"] = [
            {"rule": rule, "channel": channel, "needs": needs}
            for rule, channel, needs in unreachable
        ]
        print(json.dumps(summary, ensure_ascii=False, indent=2), file=out)
    else:
        print(format_summary(compiled), file=out)
        if unreachable:
            print("  warning    channels this environment cannot reach:", file=out)
            for rule, channel, needs in unreachable:
                print(f"    rule {rule}: {channel} (needs {needs})", file=out)
    return 0


def unreachable_here(compiled: CompiledWatchlist) -> list[tuple[str, str, str]]:
    """``(rule, channel, missing setting)`` for channels the current environment cannot reach."""
    from alerts.service import unreachable_channels
    from streams.errors import ConfigError
    from streams.pipeline.config import channels_config, configured_kinds
    from streams.settings import Settings

    try:
        kinds = configured_kinds(channels_config(Settings.load()))
    except (ConfigError, ValueError):
        return []
    return unreachable_channels({r.id: tuple(r.channels) for r in compiled.rules}, kinds)


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
    def __init__(self, source: str, line: int, message: str, col: int = 1) -> None:
        self.text = f"{source}:{line}:{col}: {message}" if line else f"{source}: {message}"


def _match_record(data: dict[str, Any]) -> RawArticle | EnrichedArticle:
    if "clean_text" in data and "article" in data:
        return EnrichedArticle.model_validate(data)
    return RawArticle.model_validate(data)


def _stdin_bytes() -> IO[bytes] | IO[str]:
    """Standard input as bytes (the text stream when there is no buffer, as in tests)."""
    stream: IO[bytes] | IO[str] = getattr(sys.stdin, "buffer", sys.stdin)
    return stream


def read_match_input(
    source: str, stdin: IO[str] | IO[bytes] | None = None
) -> Iterator[RawArticle | EnrichedArticle | _BadLine]:
    """Articles from JSONL (raw or enriched) or a ``.txt`` file; bad lines as problems.

    JSONL lines go through the worker's decoder and limits (:mod:`streams.kafka.jsonl`):
    ``NaN``, ``1e999999``, invalid UTF-8 or deep nesting are ``FILE:LINE:COL`` problems.
    """
    if source != "-" and Path(source).suffix.lower() == ".txt":
        try:
            yield _text_article(Path(source))
        except (OSError, UnicodeDecodeError) as exc:
            yield _BadLine(source, 0, f"cannot read: {exc}")
        return
    if source == "-":
        stream: IO[str] | IO[bytes] = (
            getattr(sys.stdin, "buffer", sys.stdin) if stdin is None else stdin
        )
        yield from _jsonl_items(stream, "<stdin>")
        return
    try:
        with open(source, "rb") as fh:
            yield from _jsonl_items(fh, source)
    except OSError as exc:
        yield _BadLine(source, 0, f"cannot read: {exc.strerror or exc}")


def _jsonl_items(
    stream: IO[str] | IO[bytes], name: str
) -> Iterator[RawArticle | EnrichedArticle | _BadLine]:
    for item in iter_jsonl(stream, _match_record, source=name):
        if isinstance(item, BadInput):
            yield _BadLine(name, item.line or 0, item.message, item.col or 1)
        else:
            yield item


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
    stdin: IO[str] | IO[bytes] | None = None,
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
