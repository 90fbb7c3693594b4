"""``newswatch enrich [FILE|-]``: articles in (JSONL, .txt, .html), enriched JSONL out.

JSONL lines need ``id``, ``title``, ``text`` (other ``RawArticle`` fields optional). A
``.txt`` / ``.html`` file is one article, read exactly as ``newswatch ingest`` reads it
(``streams.ingest.files``: first non-empty line / ``<title>`` is the title, same ids).
A bad line is reported on stderr as ``FILE:LINE:COL: message`` (the policy of every
command, see docs/ingest.md), the other lines are still enriched, and the exit code is 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from schemas.records import RawArticle
from streams.enrich.config import EnrichConfig
from streams.enrich.errors import ArticleEnrichError, EnrichError
from streams.enrich.patterns import normalize_patterns
from streams.enrich.pipeline import Enricher
from streams.ingest.files import BadInput, iter_jsonl_articles, iter_path

__all__ = [
    "InputProblem",
    "load_patterns_file",
    "read_articles",
    "run_enrich",
]


class InputProblem(EnrichError):
    """One input line or file could not be read as an article (``FILE:LINE:COL: message``)."""

    def __init__(self, message: str, *, source: str, line: int) -> None:
        super().__init__(f"{source}:{line}: {message}")
        self.source = source
        self.line = line


def _problem(bad: BadInput) -> InputProblem:
    problem = InputProblem(bad.message, source=bad.source, line=bad.line or 0)
    problem.args = (str(bad),)
    return problem


def _stdin_bytes() -> IO[bytes] | IO[str]:
    """Standard input as bytes (the text stream when there is no buffer, as in tests)."""
    stream: IO[bytes] | IO[str] = getattr(sys.stdin, "buffer", sys.stdin)
    return stream


def read_articles(
    source: str, stdin: IO[str] | IO[bytes] | None = None
) -> Iterator[RawArticle | InputProblem]:
    """Articles (or the problem of each bad line/file) from ``source`` (a path or ``-``).

    JSONL goes through the worker's decoder (:mod:`streams.kafka.jsonl`): a line that is not
    UTF-8, not JSON, too deep or too large is reported as ``FILE:LINE:COL: message`` and the
    other lines are still read; it is never decoded with replacement characters.
    """
    if source == "-":
        stream: IO[str] | IO[bytes] = (
            getattr(sys.stdin, "buffer", sys.stdin) if stdin is None else stdin
        )
        items: Iterator[RawArticle | BadInput] = iter_jsonl_articles(stream, name="<stdin>")
    else:
        path = Path(source)
        if not path.is_file():
            yield InputProblem("no such file", source=source, line=0)
            return
        items = iter_path(path)
    for item in items:
        yield _problem(item) if isinstance(item, BadInput) else item


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
    stdin: IO[str] | IO[bytes] | None = None,
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
