"""Property tests: the loader only ever raises its own error; the matcher never crashes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from streams.watchlist import (
    CompiledWatchlist,
    LoadedWatchlist,
    WatchlistError,
    compile_watchlist,
    load_watchlist,
    match_text,
    shipped_packs,
)
from streams.watchlist.text import normalize_text

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
KEYS = [
    "version", "include", "entities", "concepts", "rules", "aliases", "labels", "terms",
    "exclude", "id", "title", "all", "any", "none", "within", "severity", "channels",
    "throttle", "window", "per", "languages", "sources", "de", "en", "zh", "any",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["entity:a", "concept:espionage", "term:spy", "regex:(", "6h", "sentence"]),
)
YAML_DATA = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=5
        ),
    ),
    max_leaves=25,
)


def _load(path: Path) -> None:
    try:
        result = load_watchlist(path)
    except WatchlistError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.line >= 1 and problem.col >= 1 and problem.message
        return
    assert isinstance(result, LoadedWatchlist)
    compile_watchlist(result)


@SETTINGS
@given(text=st.text(max_size=300))
def test_loader_on_arbitrary_text(tmp_path: Path, text: str) -> None:
    """Any text at all either loads or raises WatchlistError with positioned problems."""
    path = tmp_path / "w.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _load(path)


@SETTINGS
@given(data=YAML_DATA)
def test_loader_on_arbitrary_yaml_structures(tmp_path: Path, data: Any) -> None:
    """Any YAML document built from watch-list keys loads or raises WatchlistError."""
    buffer = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, buffer)
    path = tmp_path / "w.yaml"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    _load(path)


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> CompiledWatchlist:
    """Every shipped pack plus rules over all scopes, vetoes and a regex."""
    path = tmp_path_factory.mktemp("prop") / "w.yaml"
    path.write_text(
        f"""
include: {shipped_packs()}
entities:
  alibaba: {{aliases: [Alibaba, 阿里巴巴, "Ali*"]}}
rules:
  - {{id: p, title: p, all: [entity:alibaba, concept:espionage], within: paragraph}}
  - {{id: s, title: s, any: [concept:protest, concept:fraud], none: [term:fiction],
      within: sentence}}
  - {{id: t, title: t, all: [concept:sanctions, "regex:[0-9]+"], within: 3 tokens}}
  - {{id: a, title: a, all: [concept:cyberattack], within: article}}
""",
        encoding="utf-8",
    )
    return compile_watchlist(load_watchlist(path))


ALPHABET = st.sampled_from(
    [*"aAßẞİıﬁ Ｓ\u00ad\u200b\n\t-’'.。間谍阿里巴巴é\u0301̈0", "Spionage", "Alibaba", " spy "]
)


@SETTINGS
@given(
    title=st.text(max_size=40),
    body=st.one_of(st.text(max_size=400), st.lists(ALPHABET, max_size=80).map("".join)),
    lang=st.sampled_from([None, "de", "en", "zh", "xx", "pt-BR", ""]),
)
def test_matcher_never_crashes_and_evidence_is_exact(
    everything: CompiledWatchlist, title: str, body: str, lang: str | None
) -> None:
    """Arbitrary Unicode never crashes the matcher; every evidence surface is its source slice."""
    from streams.watchlist import build_enriched

    enriched = build_enriched("x", title, body, lang)
    for m in match_text(everything, "x", title, body, lang):
        for ev in m.evidence:
            source = enriched.clean_text if ev.paragraph >= 0 else title
            assert 0 <= ev.start < ev.end <= len(source)
            assert source[ev.start : ev.end] == ev.surface


@SETTINGS
@given(text=st.text(max_size=200))
def test_normalized_spans_map_back_in_order(text: str) -> None:
    """Every span of the normalized view maps to an in-bounds, ordered span of the original."""
    view = normalize_text(text)
    n = len(view.text)
    for i in range(0, n, max(1, n // 7)):
        for j in range(i + 1, min(n, i + 9) + 1):
            s, e = view.span(i, j)
            assert 0 <= s <= e <= len(text)
            if i + 1 < j:
                s2, _ = view.span(i + 1, j)
                assert s <= s2
