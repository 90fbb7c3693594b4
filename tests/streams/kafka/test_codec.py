"""Decoding records: every kind of bad input becomes a RecordError with its origin."""

from __future__ import annotations

import base64

import pytest

from schemas.records import DeadLetter, RawArticle
from streams.errors import DecodeError, SchemaError
from streams.kafka.codec import dead_letter_for, decode_record

WHERE = {"topic": "articles.raw", "partition": 3, "offset": 42, "key": b"k"}


def test_valid_record_decodes() -> None:
    """A JSON object with id, title and text becomes a RawArticle."""
    art = decode_record(b'{"id":"a","title":"T","text":"x"}', RawArticle, max_bytes=1000)
    assert (art.id, art.title, art.content_type) == ("a", "T", "text")


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        (b"not json", DecodeError, "not valid UTF-8 JSON"),
        (b"\xff\xfe{}", DecodeError, "not valid UTF-8 JSON"),
        (b"[" * 1100 + b"]" * 1100, DecodeError, "nested too deeply"),
        (b"[1,2]", SchemaError, "expected a JSON object"),
        (b'{"id":"a","title":"T"}', SchemaError, "text: Field required"),
        (b"x" * 6000, DecodeError, "exceeds the limit of 5000"),
        (None, DecodeError, "tombstone"),
    ],
)
def test_bad_records_raise_with_origin(value: bytes | None, error: type, words: str) -> None:
    """Non-JSON, invalid UTF-8, deep nesting, schema violations and oversize all say why."""
    with pytest.raises(error) as exc:
        decode_record(value, RawArticle, max_bytes=5000, **WHERE)
    assert words in str(exc.value)
    assert (exc.value.topic, exc.value.partition, exc.value.offset) == ("articles.raw", 3, 42)


def test_dead_letter_keeps_value_reason_and_origin() -> None:
    """A dead letter validates against the schema and keeps the bytes, base64 when not UTF-8."""
    try:
        decode_record(b"\xff garbage", RawArticle, max_bytes=1000, **WHERE)
    except DecodeError as exc:
        letter = DeadLetter.model_validate(
            dead_letter_for(exc, b"\xff garbage", source_topic="articles.raw")
        )
    assert letter.partition == 3 and letter.offset == 42 and letter.key == "k"
    assert letter.value_encoding == "base64"
    assert base64.b64decode(letter.value or "") == b"\xff garbage"
    assert letter.error == "DecodeError" and "JSON" in letter.reason


def test_dead_letter_cuts_huge_values_but_records_size_and_hash() -> None:
    """A 10 MB value is cut in the dead letter, its size and SHA-256 kept."""
    big = b"a" * 10_000_000
    letter = DeadLetter.model_validate(
        dead_letter_for(
            DecodeError("too big"), big, source_topic="articles.raw", partition=0, offset=1
        )
    )
    assert letter.value_truncated and letter.value_bytes == 10_000_000
    assert len(letter.value or "") < 100_000 and letter.value_sha256
