"""Read articles from local files: JSONL, ``.txt`` and ``.html`` files, or folders of them.

Pure: no Kafka. ``.txt``: the first non-empty line is the title, the rest the body.
``.html``: title from ``<title>`` (or the first ``<h1>``), body passed on as HTML for the
cleaner. JSONL: one article per line (``id``, ``title``, ``text`` required); a bad line
raises ``IngestError`` naming ``file:line``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson
from pydantic import ValidationError

from schemas.ids import article_id
from schemas.records import RawArticle
from streams.errors import IngestError

__all__ = ["FILE_SUFFIXES", "iter_files", "read_html", "read_jsonl", "read_path", "read_text"]

FILE_SUFFIXES = (".jsonl", ".txt", ".html", ".htm")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")


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


def read_text(path: Path, *, source: str | None = None) -> RawArticle:
    """One article from a ``.txt`` file: first non-empty line is the title."""
    content = _read(path)
    lines = content.splitlines()
    idx = next((i for i, line in enumerate(lines) if line.strip()), None)
    if idx is None:
        raise IngestError("empty file", source=str(path))
    title = lines[idx].strip()
    body = "\n".join(lines[idx + 1 :]).strip("\n")
    return RawArticle(
        id=article_id(title=title, text=body),
        title=title,
        text=body,
        source=source or path.name,
        content_type="text",
    )


def read_html(path: Path, *, source: str | None = None) -> RawArticle:
    """One article from an ``.html`` file; the body stays HTML for the cleaner."""
    content = _read(path)
    found = _TITLE.search(content)
    raw_title = (found.group(1) or found.group(2)) if found else path.stem
    title = html.unescape(_TAGS.sub("", raw_title)).strip() or path.stem
    return RawArticle(
        id=article_id(title=title, text=content),
        title=title,
        text=content,
        source=source or path.name,
        content_type="html",
    )


def read_jsonl(path: Path) -> Iterator[RawArticle]:
    """Articles from a JSONL file (``-`` is not handled here; see ``read_jsonl_lines``)."""
    with path.open("rb") as fh:
        yield from read_jsonl_lines(fh, name=str(path))


def read_jsonl_lines(lines: Iterable[bytes], *, name: str) -> Iterator[RawArticle]:
    """Articles from JSONL lines; a bad line raises IngestError(``name:line:col``)."""
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise IngestError(f"{name}:{lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise IngestError(f"{name}:{lineno}:1: expected a JSON object")
        try:
            yield RawArticle.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise IngestError(f"{name}:{lineno}:1: {field}: {err['msg']}") from None


def read_path(path: Path) -> Iterator[RawArticle]:
    """Every article under ``path`` (file or folder), by file type."""
    for file in iter_files(path):
        suffix = file.suffix.lower()
        if suffix == ".jsonl":
            yield from read_jsonl(file)
        elif suffix == ".txt":
            yield read_text(file)
        elif suffix in (".html", ".htm"):
            yield read_html(file)
        else:
            raise IngestError(f"unsupported file type {suffix!r}", source=str(file))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise IngestError(f"not UTF-8 text (byte {exc.start})", source=str(path)) from None
    except OSError as exc:
        raise IngestError(exc.strerror or str(exc), source=str(path)) from None
