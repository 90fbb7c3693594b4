"""Issue 15.1: the libyaml fast path builds exactly what the round-trip parser builds, defers
whatever it cannot vouch for, and still reports problems at their FILE:LINE:COL."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.watchlist import _yaml
from streams.watchlist._fastyaml import UNSURE, fast_parse
from streams.watchlist._steps import canonical_json, validate_watchlist
from streams.watchlist._yaml import MAX_NODES, parse_round_trip
from streams.watchlist.errors import WatchlistError
from streams.watchlist.load import PACKS_DIR, load_watchlist

EXAMPLE = (
    Path(__file__).resolve().parents[3] / "streams" / "watchlist" / "examples" / "watchlist.yaml"
)

SCALARS = """\
a: yes
b: no
c: on
d: Off
e: 0777
f: 0o17
g: 0x1F
h: 1e3
i: 1.5e-3
j: .inf
k: -.NaN
l: 2024-01-02
m: 2024-01-02 10:20:30
n: 1:30
o: ~
p: null
q:
r: "quoted: yes"
s: 'single'
t: |
  literal
   block
u: >
  folded
  text
v: True
w: FALSE
x: +12
y: 1_000
z: [1, two, {three: 3}, "4", null, true, 0.5]
Ünïcode: Schweiß — 東京
"""


def _same(text: str) -> Any:
    fast = fast_parse(text, MAX_NODES)
    slow, _ = parse_round_trip(text, "t.yaml")
    assert fast is not UNSURE
    assert fast == slow and repr(fast) == repr(slow)  # same values and the same types
    return fast


def test_yaml_12_scalars_are_built_as_the_round_trip_parser_builds_them() -> None:
    """yes/no/on stay strings, 0777 is decimal, dates become ISO text: YAML 1.2 as before."""
    data = _same(SCALARS)
    assert data["a"] == "yes" and data["c"] == "on" and data["e"] == 777 and data["h"] == 1000.0
    assert data["l"] == "2024-01-02" and data["q"] is None and data["t"] == "literal\n block\n"


@pytest.mark.parametrize(
    "path", [EXAMPLE, *sorted(PACKS_DIR.glob("*.yaml"))], ids=lambda p: Path(p).name
)
def test_shipped_files_parse_alike(path: Path) -> None:
    """Every shipped watch-list and pack gives the same data on both paths."""
    _same(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # duplicate key: the round-trip parser reports it with its position
        "a: &x [1]\nb: *x\n",  # anchors and aliases (alias bombs are bounded there)
        "a: !!str 1\n",  # explicit tags
        "a: !custom x\n",
        "base: &b {x: 1}\nc:\n  <<: *b\n",  # merge keys
        "%YAML 1.1\n---\na: yes\n",  # a directive changes the resolution
        "a: 1\n---\nb: 2\n",  # several documents
        "? [a, b]\n: c\n",  # a collection as a key
        "? 2024-01-02\n: c\n",  # a date as a key
        "a: [1, 2\n",  # syntax error: the round-trip parser words the message
        "a:\tb\n\t- c\n",
    ],
)
def test_fast_path_defers_what_it_cannot_vouch_for(text: str) -> None:
    """Anything where the two parsers could differ goes the round-trip way."""
    assert fast_parse(text, MAX_NODES) is UNSURE


def test_fast_path_defers_a_document_over_the_node_limit() -> None:
    """A document larger than the limit is left to the round-trip parser, which refuses it."""
    assert fast_parse("[" + ", ".join(["1"] * 50) + "]", 10) is UNSURE


_keys = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=8)
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20),
    st.sampled_from(["yes", "No", "on", "0777", "1e3", "~", "2024-01-02", "1:30", "- a", "#x"]),
)
_docs = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(doc=_docs, flow=st.booleans())
def test_generated_documents_parse_alike(doc: Any, flow: bool) -> None:
    """Random documents (as PyYAML writes them) give the same data on both paths."""
    import yaml

    text = yaml.safe_dump({"root": doc}, default_flow_style=flow, allow_unicode=True)
    fast = fast_parse(text, MAX_NODES)
    try:
        slow, _ = parse_round_trip(text, "t.yaml")
    except WatchlistError:
        assert fast is UNSURE
        return
    if fast is not UNSURE:
        assert fast == slow and repr(fast) == repr(slow)


def test_valid_list_never_runs_the_round_trip_parser(
    write_yaml: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading a valid list (with includes) takes the fast path only: positions stay lazy."""

    def refuse(text: str, file: str) -> Any:
        raise AssertionError(f"round-trip parse of {file}")

    monkeypatch.setattr(_yaml, "parse_round_trip", refuse)
    path = write_yaml(
        """
        include: [espionage]
        entities:
          acme: {aliases: [Acme Corp, "regex:ACME-\\\\d+"]}
        rules:
          - {id: r, title: t, all: [entity:acme, concept:espionage, "regex:spy\\\\w+"]}
        """
    )
    assert load_watchlist(path).rules[0].id == "r"


def test_problems_in_a_fast_parsed_file_keep_their_line_and_column(
    write_yaml: Callable[..., Path],
) -> None:
    """A schema problem and a whole-document problem are located exactly as before."""
    path = write_yaml(
        """
        entities:
          acme: {aliases: [Acme]}
        rules:
          - id: r
            title: t
            all: [entity:acme, entity:acmee]
            severty: high
        """
    )
    with pytest.raises(WatchlistError) as err:
        load_watchlist(path)
    text = str(err.value)
    assert f"{path}:7:5: rules[0]: unknown key 'severty'" in text


def test_whole_document_problem_is_located_after_a_fast_parse(
    write_yaml: Callable[..., Path],
) -> None:
    """An undefined reference (found after validation) points at its list item."""
    path = write_yaml(
        """
        entities:
          acme: {aliases: [Acme]}
        rules:
          - {id: r, title: t, all: [entity:acme]}
          - id: s
            title: t
            all:
              - entity:acmee
        """
    )
    with pytest.raises(WatchlistError) as err:
        load_watchlist(path)
    assert f"{path}:8:9: undefined entity 'acmee'" in str(err.value)


def _big(rules: int, bad: int | None = None) -> dict[str, Any]:
    entities = {f"e{i}": {"aliases": [f"Name{i}"]} for i in range(rules)}
    out = [{"id": f"r{i}", "title": "t", "all": [f"entity:e{i}"]} for i in range(rules)]
    if bad is not None:
        out[bad]["within"] = "chapter"
    return {"version": 1, "entities": entities, "rules": out}


def test_stepwise_validation_gives_the_same_model_and_the_same_errors() -> None:
    """Item-by-item validation equals one whole-document call, errors included."""
    from pydantic import ValidationError

    from schemas.watchlist import Watchlist

    data = _big(300)
    assert validate_watchlist(data) == Watchlist.model_validate(data)
    bad = _big(300, bad=250)
    with pytest.raises(ValidationError) as stepwise:
        validate_watchlist(bad)
    with pytest.raises(ValidationError) as whole:
        Watchlist.model_validate(bad)
    assert stepwise.value.errors(include_context=False) == whole.value.errors(include_context=False)
    assert str(stepwise.value) == str(whole.value)


def test_canonical_json_is_the_json_of_the_whole_dump() -> None:
    """The version hash input is byte for byte what one dump of the model gives."""
    import json

    for model in (validate_watchlist(_big(300)), load_watchlist(EXAMPLE).effective()):
        whole = json.dumps(
            model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        assert canonical_json(model) == whole


def test_crlf_documents_parse_alike() -> None:
    """A document with CRLF line ends and non-ASCII text parses alike."""
    _same(textwrap.dedent("a: 1\r\nb: [x, y]\r\nc: 'ü'\r\n"))
