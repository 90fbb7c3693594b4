"""JSONL input with the worker's decoder and limits, and one policy for bad lines.

Every command that reads JSONL (``match``, ``enrich``, ``replay --input``, ``ingest``) reads
it here: each line goes through :func:`streams.kafka.codec.decode_json_object` (the decoder
the worker agents use, with the same limits). A bad line — not UTF-8, not JSON, ``NaN``,
a number that overflows, nested too deeply, longer than the record limit, not an object, or
failing the schema — becomes a :class:`BadInput` (``FILE:LINE:COL: message``) and reading
goes on with the next line. The commands print each one on stderr and exit non-zero at the
end. A line longer than the limit is skipped without being held in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from pydantic import ValidationError

from streams.errors import RecordError
from streams.kafka.codec import DEFAULT_MAX_RECORD_BYTES, decode_json_object, schema_problems

__all__ = ["BadInput", "iter_json_objects", "iter_jsonl"]

T = TypeVar("T")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class BadInput:
    """One input that could not be read: ``FILE:LINE:COL: message`` (``FILE: message``)."""

    source: str
    message: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.source}: {self.message}"
        return f"{self.source}:{self.line}:{self.col or 1}: {self.message}"


def _as_bytes(line: bytes | str) -> bytes:
    return line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")


def _bounded_lines(
    stream: IO[bytes] | IO[str] | Iterable[bytes | str], limit: int
) -> Iterator[bytes | None]:
    """Lines as bytes; ``None`` for a line over ``limit`` (read past, never held whole)."""
    readline = getattr(stream, "readline", None)
    if readline is None:
        for item in stream:  # an in-memory iterable of lines
            raw = _as_bytes(item)
            yield None if len(raw) > limit + 1 else raw
        return
    while True:
        line = readline(limit + 2)
        if not line:
            return
        newline = b"\n" if isinstance(line, bytes) else "\n"
        if len(line) <= limit + 1 or line.endswith(newline):
            raw = _as_bytes(line)
            yield None if len(raw.rstrip(b"\r\n")) > limit else raw
            continue
        while line and not line.endswith(newline):
            line = readline(_CHUNK)
        yield None


def iter_json_objects(
    stream: IO[bytes] | IO[str] | Iterable[bytes | str],
    *,
    source: str,
    max_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[tuple[int, dict[str, Any]] | BadInput]:
    """``(line number, object)`` per non-blank line, or the line's :class:`BadInput`."""
    for number, raw in enumerate(_bounded_lines(stream, max_bytes), start=1):
        if raw is None:
            yield BadInput(source, f"line exceeds the limit of {max_bytes} bytes", number, 1)
            continue
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            yield number, decode_json_object(line, max_bytes=max_bytes)
        except RecordError as exc:
            yield BadInput(source, exc.reason, number, exc.column)


def iter_jsonl(
    stream: IO[bytes] | IO[str] | Iterable[bytes | str],
    parse: Callable[[dict[str, Any]], T],
    *,
    source: str,
    max_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[T | BadInput]:
    """Records built by ``parse`` (e.g. ``RawArticle.model_validate``) or bad lines."""
    for item in iter_json_objects(stream, source=source, max_bytes=max_bytes):
        if isinstance(item, BadInput):
            yield item
            continue
        number, data = item
        try:
            yield parse(data)
        except ValidationError as exc:
            yield BadInput(source, schema_problems(exc, limit=3), number, 1)
