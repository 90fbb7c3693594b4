"""Property tests: the record decoder raises only RecordError subclasses, whatever comes in.

Arbitrary bytes, hostile Unicode (controls, surrogate escapes, bidi, noncharacters) inside
valid JSON, and deep nesting go through ``decode_record`` (the worker) and the JSONL reader
(the commands); nothing else may escape, and what decodes satisfies the schema.
"""

from __future__ import annotations

import io

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.records import EnrichedArticle, RawArticle
from streams.errors import DecodeError, RecordError, SchemaError
from streams.kafka.codec import decode_record
from streams.kafka.jsonl import BadInput, iter_jsonl

LIMIT = 100_000
HOSTILE = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(
            ["\u202e", "\u2066", "\ufeff", "\ufffe", "\uffff", "\x00", "\x1b", "\u0085"]
        ),
    ),
    max_size=200,
)
SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | HOSTILE
JSON_VALUES = st.recursive(
    SCALARS | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE, inner, max_size=4),
    max_leaves=20,
)
PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode(value: bytes) -> RawArticle | RecordError:
    try:
        return decode_record(value, RawArticle, max_bytes=LIMIT, topic="t", offset=1)
    except RecordError as exc:
        assert exc.reason and exc.topic == "t" and exc.offset == 1
        return exc


@PROFILE
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes_raise_only_record_errors(value: bytes) -> None:
    """Any byte string decodes to a RawArticle or raises DecodeError/SchemaError."""
    result = _decode(value)
    assert isinstance(result, RawArticle | DecodeError | SchemaError)


@PROFILE
@given(JSON_VALUES)
def test_hostile_unicode_json_raises_only_record_errors(data: object) -> None:
    """Valid JSON full of hostile Unicode is a RawArticle or a SchemaError, never a crash."""
    result = _decode(orjson.dumps(data))
    assert isinstance(result, RawArticle | SchemaError)


@PROFILE
@given(HOSTILE, HOSTILE, HOSTILE)
def test_hostile_strings_in_a_valid_article_round_trip(ident: str, title: str, text: str) -> None:
    """An article whose fields are hostile strings decodes to exactly those strings."""
    value = orjson.dumps({"id": ident or "x", "title": title, "text": text})
    result = _decode(value)
    assert isinstance(result, RawArticle), result
    assert (result.title, result.text) == (title, text)


@PROFILE
@given(st.integers(min_value=1, max_value=5_000), st.sampled_from(["[", '{"a":']))
def test_deep_nesting_is_a_decode_error_past_the_limit(depth: int, opener: str) -> None:
    """Nesting of any depth is a SchemaError (not an object / wrong shape) or a DecodeError."""
    closer = "]" if opener == "[" else "}"
    value = (opener * depth + "1" + closer * depth).encode()
    result = _decode(value)
    assert isinstance(result, SchemaError | DecodeError)
    if depth > 1024:
        assert isinstance(result, DecodeError) and "nested too deeply" in result.reason


@PROFILE
@given(st.lists(st.binary(max_size=300), max_size=8))
def test_jsonl_reader_yields_records_or_bad_lines_for_any_bytes(lines: list[bytes]) -> None:
    """The commands' JSONL reader turns any bytes into records or FILE:LINE:COL problems."""
    data = b"\n".join(lines)
    for item in iter_jsonl(io.BytesIO(data), EnrichedArticle.model_validate, source="f"):
        assert isinstance(item, EnrichedArticle | BadInput)
        if isinstance(item, BadInput):
            assert str(item).startswith(f"f:{item.line}:{item.col}: ")
