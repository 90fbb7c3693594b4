"""Decode topic records into schema models, and build dead letters for the ones that fail.

Pure: no Kafka import. Every failure is a ``RecordError`` subclass that carries the record's
origin, so the agent can dead-letter it with the reason and continue with the next record.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from streams.errors import DecodeError, RecordError, SchemaError

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "DLQ_VALUE_LIMIT",
    "dead_letter_for",
    "decode_json_object",
    "decode_record",
    "dumps",
    "loads",
    "schema_problems",
]

M = TypeVar("M", bound=BaseModel)

#: Bytes of the original value kept in a dead letter (the rest stays in the source topic).
DLQ_VALUE_LIMIT = 64_000

#: Default size limit of one record / input line (``NEWSWATCH_MAX_RECORD_BYTES``'s default).
DEFAULT_MAX_RECORD_BYTES = 1_000_000


def dumps(model: BaseModel) -> bytes:
    """Serialise a record model to compact JSON bytes (UTF-8, no None fields).

    pydantic-core writes the JSON directly (the same bytes as ``orjson.dumps`` of
    ``model_dump(mode="json")``, without the intermediate dicts: 30 % faster on enriched
    articles with hundreds of lemmas).
    """
    return model.__pydantic_serializer__.to_json(model, exclude_none=True)


def loads(data: bytes | str) -> object:
    """Parse JSON bytes (orjson: strict UTF-8, depth-limited)."""
    return orjson.loads(data)


def _utf8_column(value: bytes) -> int | None:
    """1-based character column of the first byte that is not UTF-8, or None if all are."""
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return len(value[: exc.start].decode("utf-8")) + 1
    return None


def decode_json_object(
    value: bytes | None, *, max_bytes: int = DEFAULT_MAX_RECORD_BYTES, **where: Any
) -> dict[str, Any]:
    """The JSON object in ``value``, under the record limits; DecodeError / SchemaError if not.

    The one decoder for every way records enter (worker agents, ``match``, ``enrich``,
    ``replay --input``, ``ingest`` JSONL): strict UTF-8, no ``NaN``/``Infinity``, no number
    that overflows a double (``1e999999``), nesting up to orjson's 1024 levels, at most
    ``max_bytes`` bytes, an object at the top. The error's ``column`` is 1-based (characters).
    """
    if value is None:
        raise DecodeError("empty record (tombstone)", **where)
    if len(value) > max_bytes:
        raise DecodeError(f"record of {len(value)} bytes exceeds the limit of {max_bytes}", **where)
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        bad_byte = _utf8_column(value)
        if bad_byte is not None:
            reason = f"not valid UTF-8 JSON: invalid UTF-8 at column {bad_byte}"
            error = DecodeError(reason, **where)
            error.column = bad_byte
        else:
            reason = "nested too deeply" if "depth" in str(exc) else "not valid UTF-8 JSON"
            error = DecodeError(f"{reason}: {exc.msg}", **where)
            error.column = max(exc.colno, 1)
        raise error from None
    except RecursionError:  # not reached with orjson's depth limit; kept as a guarantee
        raise DecodeError("nested too deeply", **where) from None
    if not isinstance(data, dict):
        raise SchemaError(f"expected a JSON object, got {type(data).__name__}", **where)
    return data


def schema_problems(exc: ValidationError, limit: int = 10) -> str:
    """``field: message; ...`` of a pydantic ValidationError (at most ``limit`` problems)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
        for err in exc.errors()[:limit]
    )


def decode_record(
    value: bytes | None,
    model: type[M],
    *,
    max_bytes: int,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    key: bytes | None = None,
) -> M:
    """Parse and validate one record value; DecodeError / SchemaError say exactly why not."""
    where: dict[str, Any] = {"topic": topic, "partition": partition, "offset": offset, "key": key}
    data = decode_json_object(value, max_bytes=max_bytes, **where)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        reason = f"{model.__name__} schema violation: {schema_problems(exc)}"
        raise SchemaError(reason, **where) from None


def _as_bytes(key: bytes | str | None) -> bytes | None:
    return key.encode("utf-8") if isinstance(key, str) else key


def dead_letter_for(
    error: RecordError | Exception,
    value: bytes | None,
    *,
    source_topic: str,
    partition: int | None = None,
    offset: int | None = None,
    key: bytes | None = None,
    channel: str | None = None,
) -> dict[str, object]:
    """Fields of a ``DeadLetter`` for a failed record, with its value kept (cut if huge)."""
    raw = value or b""
    cut = raw[:DLQ_VALUE_LIMIT]
    try:
        text, encoding = cut.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(cut).decode("ascii"), "base64"
    if isinstance(error, RecordError):
        partition = error.partition if error.partition is not None else partition
        offset = error.offset if error.offset is not None else offset
        key = key if key is not None else _as_bytes(error.key)
        reason = error.reason
    else:
        reason = f"{type(error).__name__}: {error}"
    return {
        "reason": reason,
        "error": type(error).__name__,
        "source_topic": source_topic,
        "partition": partition,
        "offset": offset,
        "key": key.decode("utf-8", "replace") if isinstance(key, bytes) else key,
        "value": text if value is not None else None,
        "value_encoding": encoding,
        "value_bytes": len(raw),
        "value_truncated": len(raw) > DLQ_VALUE_LIMIT,
        "value_sha256": hashlib.sha256(raw).hexdigest(),
        "channel": channel,
        "retriable": bool(getattr(error, "retriable", False)),
        "failed_at": time.time(),
    }
