"""Read articles from local files: JSONL, ``.txt``, ``.html`` and feed files, or folders.

Pure: no Kafka. ``.txt``: the first non-empty line is the title, the rest the body.
``.html``: decoded by its declared/detected charset; title, canonical URL and site name from
the page's metadata (:mod:`streams.ingest.pages`); the main text extracted here, at the edge
(the record carries text, not a megabyte of scripts). ``.rss``/``.atom``/``.xml``: a feed
document, one article per entry. JSONL: one article per line through the shared decoder
(:mod:`streams.kafka.jsonl`).

:func:`iter_path` never raises for bad input: a bad file or line is yielded as a
:class:`~streams.kafka.jsonl.BadInput` (``FILE:LINE:COL: message`` or ``FILE: message``) and
reading goes on. :func:`read_path` raises ``IngestError`` at the first one instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from schemas.ids import article_id
from schemas.records import MAX_TITLE_CHARS, RawArticle
from streams.errors import IngestError
from streams.ingest.pages import decode_bytes, page_metadata
from streams.kafka.codec import DEFAULT_MAX_RECORD_BYTES, schema_problems
from streams.kafka.jsonl import BadInput, iter_jsonl

__all__ = [
    "FEED_SUFFIXES",
    "FILE_SUFFIXES",
    "BadInput",
    "iter_files",
    "iter_jsonl_articles",
    "iter_path",
    "read_feed_file",
    "read_html",
    "read_jsonl",
    "read_jsonl_lines",
    "read_path",
    "read_text",
]

log = logging.getLogger(__name__)

FEED_SUFFIXES = (".rss", ".atom", ".xml")
FILE_SUFFIXES = (".jsonl", ".txt", ".html", ".htm", *FEED_SUFFIXES)
_HAS_DOCUMENT = re.compile(r"<(?:html|body)\b", re.I)
#: Characters of a page given to the extractor (inline scripts and styles included).
MAX_PAGE_CHARS = 10_000_000
#: Bytes of a local file read at most (a page or feed; JSONL is streamed line by line).
MAX_FILE_BYTES = 50_000_000


def iter_files(path: Path) -> Iterator[Path]:
    """The readable files at ``path``: itself, or a folder's files in sorted order."""
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and child.suffix.lower() in FILE_SUFFIXES:
                yield child
    elif path.is_file():
        yield path
    else:
        raise IngestError("no such file or folder", source=str(path))


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise IngestError(
                f"file of {size} bytes exceeds the limit of {MAX_FILE_BYTES}", source=str(path)
            )
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(exc.strerror or str(exc), source=str(path)) from None


def read_text(path: Path, *, source: str | None = None) -> RawArticle:
    """One article from a ``.txt`` file: first non-empty line is the title."""
    content, _ = decode_bytes(_read_bytes(path), markup=False)
    lines = content.splitlines()
    idx = next((i for i, line in enumerate(lines) if line.strip()), None)
    if idx is None:
        raise IngestError("empty file", source=str(path))
    title = lines[idx].strip()
    body = "\n".join(lines[idx + 1 :]).strip("\n")
    return _article(
        path,
        id=article_id(title=title, text=body),
        title=title[:MAX_TITLE_CHARS],
        text=body,
        source=source or path.name,
        content_type="text",
    )


def read_html(path: Path, *, source: str | None = None) -> RawArticle:
    """One article from an ``.html`` file: metadata from the page, main text extracted."""
    from streams.enrich.clean import html_to_text

    page, _ = decode_bytes(_read_bytes(path))
    page = page[:MAX_PAGE_CHARS]
    meta = page_metadata(page)
    title = meta.title or path.stem
    if not _HAS_DOCUMENT.search(page[:20_000]):  # a bare fragment: give the extractor a page
        page = f"<html><body>{page}</body></html>"
    body = html_to_text(page)
    paragraphs = [" ".join(line.split()) for line in body.splitlines()]
    text = "\n\n".join(p for p in paragraphs if p)
    return _article(
        path,
        id=article_id(url=meta.url) if meta.url else article_id(title=title, text=text),
        title=title[:MAX_TITLE_CHARS],
        text=text,
        url=meta.url,
        source=source or meta.site_name or path.name,
        content_type="text",
    )


def read_feed_file(path: Path, *, max_items: int | None = None) -> list[RawArticle]:
    """The entries of a local RSS/Atom file (``.rss``, ``.atom``, ``.xml``)."""
    from streams.ingest.feeds import DEFAULT_MAX_ITEMS, parse_feed

    return parse_feed(
        _read_bytes(path),
        feed_url=path.resolve().as_uri(),
        max_items=max_items or DEFAULT_MAX_ITEMS,
        source=None,
    )


def _article(path: Path, **fields: object) -> RawArticle:
    try:
        return RawArticle.model_validate(fields)
    except ValidationError as exc:
        raise IngestError(schema_problems(exc, limit=3), source=str(path)) from None


def iter_jsonl_articles(
    stream: IO[bytes] | IO[str] | Iterable[bytes | str],
    *,
    name: str,
    max_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[RawArticle | BadInput]:
    """Articles from JSONL lines; a bad line is yielded as ``BadInput`` and reading goes on."""
    return iter_jsonl(stream, RawArticle.model_validate, source=name, max_bytes=max_bytes)


def read_jsonl_lines(lines: Iterable[bytes], *, name: str) -> Iterator[RawArticle]:
    """Articles from JSONL lines; the first bad line raises IngestError(``name:line:col``)."""
    for item in iter_jsonl_articles(lines, name=name):
        if isinstance(item, BadInput):
            raise IngestError(str(item))
        yield item


def read_jsonl(path: Path) -> Iterator[RawArticle]:
    """Articles from a JSONL file; the first bad line raises IngestError."""
    with path.open("rb") as fh:
        yield from read_jsonl_lines(fh, name=str(path))


def iter_path(
    path: Path, *, max_bytes: int = DEFAULT_MAX_RECORD_BYTES, max_items: int | None = None
) -> Iterator[RawArticle | BadInput]:
    """Every article under ``path`` (file or folder), or the problem of each bad file/line."""
    try:
        files = list(iter_files(path))
    except IngestError as exc:
        yield BadInput(str(path), str(exc).removeprefix(f"{path}: "))
        return
    for file in files:
        suffix = file.suffix.lower()
        try:
            if suffix == ".jsonl":
                with file.open("rb") as fh:
                    yield from iter_jsonl_articles(fh, name=str(file), max_bytes=max_bytes)
            elif suffix == ".txt":
                yield read_text(file)
            elif suffix in (".html", ".htm"):
                yield read_html(file)
            elif suffix in FEED_SUFFIXES:
                yield from read_feed_file(file, max_items=max_items)
            else:
                yield BadInput(str(file), f"unsupported file type {suffix!r}")
        except IngestError as exc:
            yield BadInput(str(file), str(exc).removeprefix(f"{file}: "))
        except OSError as exc:
            yield BadInput(str(file), exc.strerror or str(exc))


def read_path(path: Path) -> Iterator[RawArticle]:
    """Every article under ``path``; the first bad file or line raises IngestError."""
    for item in iter_path(path):
        if isinstance(item, BadInput):
            raise IngestError(str(item))
        yield item
