"""One policy for bad input lines in every command: FILE:LINE:COL on stderr, skip, exit 1.

``newswatch enrich``, ``newswatch match`` and ``newswatch replay --input`` read JSONL with
the worker's decoder (``streams.kafka.jsonl``); ``newswatch ingest`` is covered on the
broker in tests/streams/ingest/test_producer.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from streams.enrich.config import EnrichConfig
from streams.tools.enrich_cmd import run_enrich
from streams.tools.watchlist_cmd import read_match_input

GOOD_A = json.dumps({"id": "a", "title": "Alibaba", "text": "Alibaba grows.", "language": "en"})
GOOD_Z = json.dumps({"id": "z", "title": "Last", "text": "The last line.", "language": "en"})


def test_enrich_survives_a_line_nested_2000_deep(tmp_path: Path) -> None:
    """A 2,000-deep line is one FILE:LINE:COL problem; the lines before and after are written."""
    src = tmp_path / "in.jsonl"
    src.write_text(GOOD_A + "\n" + "[" * 2000 + "]" * 2000 + "\n" + GOOD_Z + "\n")
    out, err = io.StringIO(), io.StringIO()
    code = run_enrich(EnrichConfig(languages=["en"]), str(src), out=out, err=err)
    ids = [json.loads(line)["article"]["id"] for line in out.getvalue().splitlines()]
    assert code == 1 and ids == ["a", "z"]
    assert err.getvalue().startswith(f"{src}:2:1026: nested too deeply")
    assert "Traceback" not in err.getvalue()


def test_enrich_reports_a_latin1_line_instead_of_writing_replacement_characters(
    tmp_path: Path,
) -> None:
    """A Latin-1 line is reported with its column, never enriched as ``M\ufffdller``."""
    src = tmp_path / "in.jsonl"
    latin1 = '{"id":"m","title":"Müller","text":"Herr Müller sagt."}'.encode("latin-1")
    src.write_bytes(GOOD_A.encode() + b"\n" + latin1 + b"\n" + GOOD_Z.encode() + b"\n")
    out, err = io.StringIO(), io.StringIO()
    code = run_enrich(EnrichConfig(languages=["en"]), str(src), out=out, err=err)
    assert code == 1 and "\ufffd" not in out.getvalue()
    assert [json.loads(x)["article"]["id"] for x in out.getvalue().splitlines()] == ["a", "z"]
    assert err.getvalue().startswith(f"{src}:2:21: not valid UTF-8 JSON: invalid UTF-8")


@pytest.mark.parametrize(
    "bad",
    [
        '{"id":"n","title":"T","text":"x","score":NaN}',
        '{"id":"n","title":"T","text":"x","score":1e999999}',
    ],
)
def test_match_rejects_what_the_worker_rejects(bad: str) -> None:
    """``match -`` refuses NaN and 1e999999 like the worker, and still reads the other lines."""
    stdin = io.StringIO(GOOD_A + "\n" + bad + "\n" + GOOD_Z + "\n")
    items = list(read_match_input("-", stdin))
    assert [getattr(i, "id", None) for i in items] == ["a", None, "z"]
    assert items[1].text.startswith("<stdin>:2:")  # type: ignore[union-attr]


def test_match_latin1_line_names_its_line_and_matches_the_others(tmp_path: Path) -> None:
    """One Latin-1 line no longer stops ``match`` at ``FILE:0``; the good lines are read."""
    src = tmp_path / "in.jsonl"
    latin1 = '{"id":"m","title":"Müller","text":"x"}'.encode("latin-1")
    src.write_bytes(GOOD_A.encode() + b"\n" + latin1 + b"\n" + GOOD_Z.encode() + b"\n")
    items = list(read_match_input(str(src)))
    assert [getattr(i, "id", None) for i in items] == ["a", None, "z"]
    assert items[1].text.startswith(f"{src}:2:21: ")  # type: ignore[union-attr]
