"""``newswatch enrich [FILE|-]``: articles in (JSONL, .txt, .html), enriched JSONL out.

JSONL lines need ``id``, ``title``, ``text`` (other ``RawArticle`` fields optional). A
``.txt`` / ``.html`` file is one article, read exactly as ``newswatch ingest`` reads it
(``streams.ingest.files``: first non-empty line / ``<title>`` is the title, same ids).
A bad line is reported on stderr as ``FILE:LINE: message``, the other lines are still
enriched, and the exit code is 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from schemas.records import RawArticle
from streams.enrich.config import EnrichConfig
from streams.enrich.errors import ArticleEnrichError, EnrichError
from streams.enrich.patterns import normalize_patterns
from streams.enrich.pipeline import Enricher
from streams.errors import IngestError
from streams.ingest.files import read_html, read_text

__all__ = [
    "InputProblem",
    "load_patterns_file",
    "read_articles",
    "run_enrich",
]


class InputProblem(EnrichError):
    """One input line or file could not be read as an article (``FILE:LINE: message``)."""

    def __init__(self, message: str, *, source: str, line: int) -> None:
        super().__init__(f"{source}:{line}: {message}")
        self.source = source
        self.line = line


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _jsonl(stream: IO[str], source: str) -> Iterator[RawArticle | InputProblem]:
    for lineno, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputProblem(f"not JSON: {exc.msg} (col {exc.colno})", source=source, line=lineno)
            continue
        if not isinstance(data, dict):
            yield InputProblem("expected a JSON object", source=source, line=lineno)
            continue
        try:
            yield RawArticle.model_validate(data)
        except ValidationError as exc:
            yield InputProblem(_validation_message(exc), source=source, line=lineno)


def read_articles(source: str, stdin: IO[str] | None = None) -> Iterator[RawArticle | InputProblem]:
    """Articles (or the problem of each bad line) from ``source`` (a path or ``-``)."""
    if source == "-":
        yield from _jsonl(stdin or sys.stdin, "<stdin>")
        return
    path = Path(source)
    if not path.is_file():
        yield InputProblem("no such file", source=source, line=0)
        return
    suffix = path.suffix.lower()
    try:
        if suffix in {".txt", ".html", ".htm"}:
            reader = read_text if suffix == ".txt" else read_html
            yield reader(path)
        else:
            with path.open(encoding="utf-8", errors="replace") as stream:
                yield from _jsonl(stream, source)
    except ValidationError as exc:
        yield InputProblem(_validation_message(exc), source=source, line=1)
    except IngestError as exc:
        yield InputProblem(str(exc).removeprefix(f"{path}: "), source=source, line=1)
    except OSError as exc:
        yield InputProblem(exc.strerror or str(exc), source=source, line=0)


def load_patterns_file(path: Path) -> list[dict[str, Any]]:
    """Patterns from a JSON list or a JSONL file of ``{"label","pattern","id"}`` objects."""
    try:
        text = path.read_text(encoding="utf-8")
        stripped = text.lstrip()
        if stripped.startswith("["):
            items = json.loads(text)
        else:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnrichError(f"{path}: cannot read patterns: {exc}") from None
    return normalize_patterns(items)


def run_enrich(
    config: EnrichConfig,
    source: str,
    *,
    patterns: list[dict[str, Any]] | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    stdin: IO[str] | None = None,
) -> int:
    """Enrich every article of ``source`` to ``out`` as JSONL; 0 if all went well, else 1."""
    out = out or sys.stdout
    err = err or sys.stderr
    enricher = Enricher(config)
    enricher.set_entity_patterns(patterns or [])
    enricher.warm_up([])  # the detector's models load here, not in the first record's timings
    failures = 0
    batch: list[RawArticle] = []

    def flush() -> None:
        nonlocal failures
        for result in enricher.try_enrich_batch(batch):
            if isinstance(result, ArticleEnrichError):
                failures += 1
                print(f"newswatch enrich: {result}", file=err)
            else:
                out.write(result.model_dump_json() + "\n")
        out.flush()
        batch.clear()

    for item in read_articles(source, stdin):
        if isinstance(item, InputProblem):
            failures += 1
            print(str(item), file=err)
            continue
        batch.append(item)
        if len(batch) >= config.batch_size:
            flush()
    if batch:
        flush()
    return 1 if failures else 0
