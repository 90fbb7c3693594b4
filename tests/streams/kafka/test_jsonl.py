"""The shared JSONL reader: the worker's decoder and limits, one policy for bad lines."""

from __future__ import annotations

import io

import pytest

from schemas.records import RawArticle
from streams.kafka.jsonl import BadInput, iter_json_objects, iter_jsonl

GOOD = b'{"id":"a","title":"T","text":"x"}'


def _read(data: bytes, **kw: int) -> list[object]:
    return list(iter_jsonl(io.BytesIO(data), RawArticle.model_validate, source="in.jsonl", **kw))


@pytest.mark.parametrize(
    ("line", "col", "message"),
    [
        (b'{"id":"b","title":"M\xfcller","text":"x"}', 21, "invalid UTF-8 at column 21"),
        (b'{"id":"b","title":"T","text":NaN}', 30, "expected a JSON value"),
        (b'{"id":"b","title":"T","text":"x","n":1e999999}', 38, "infinity"),
        (b"[" * 2000 + b"]" * 2000, 1026, "nested too deeply"),
        (b"[1, 2]", 1, "expected a JSON object, got list"),
        (b'{"id":"b","title":"T"}', 1, "text: Field required"),
    ],
)
def test_bad_line_is_reported_with_line_and_column_and_the_rest_is_read(
    line: bytes, col: int, message: str
) -> None:
    """Each kind of bad line is one ``FILE:LINE:COL: message``; the lines around it still load."""
    first, bad, last = _read(GOOD + b"\n" + line + b"\n\n" + GOOD.replace(b'"a"', b'"c"'))
    assert isinstance(first, RawArticle) and isinstance(last, RawArticle) and last.id == "c"
    assert isinstance(bad, BadInput)
    assert str(bad).startswith(f"in.jsonl:2:{col}: "), str(bad)
    assert message in bad.message


def test_overlong_line_is_skipped_without_reading_it_whole() -> None:
    """A line over the limit is one problem; the next line is read normally."""
    huge = b'{"id":"h","title":"T","text":"' + b"x" * 5000 + b'"}'
    items = _read(huge + b"\n" + GOOD + b"\n", max_bytes=1000)
    assert [type(i).__name__ for i in items] == ["BadInput", "RawArticle"]
    assert str(items[0]) == "in.jsonl:1:1: line exceeds the limit of 1000 bytes"


def test_text_streams_and_crlf_are_read_like_bytes() -> None:
    """A text stream (stdin in tests) and CRLF line ends give the same records."""
    text = io.StringIO(GOOD.decode() + "\r\n" + GOOD.decode().replace('"a"', '"b"') + "\r\n")
    items = list(iter_json_objects(text, source="<stdin>"))
    assert [(n, d["id"]) for n, d in items] == [(1, "a"), (2, "b")]  # type: ignore[misc]
