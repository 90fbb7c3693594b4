"""Property tests with hostile input (issue 13): the loader raises only ``WatchlistError``, in
bounded time, on arbitrary YAML with anchors, hostile Unicode, regexes and include paths; the
matcher survives homoglyph-laden text and its evidence stays exact."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.watchlist import (
    CompiledWatchlist,
    LoadedWatchlist,
    WatchlistError,
    build_enriched,
    compile_watchlist,
    load_watchlist,
    match_text,
)
from streams.watchlist.confusables import skeleton_chars

# a deadline per example: a catastrophic case (backtracking, alias bomb) fails the property
SETTINGS = settings(
    max_examples=120,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HOSTILE = st.sampled_from(
    [
        *"\u034f\u061c\u200e\u200f\u202e\u2066\u2069\ufe0f\U000e0041\u0000\u0085\u2028\ufeff",
        *"\ud7ff\U0010ffff\u0301\u0338\u00ad\u200b\u3164",
        *sorted(skeleton_chars())[:40],
        "Alibaba", "root:*:1:", "&a", "*a", "<<: *a", "!!python/object:os.system", "{", "[",
        "regex:", "(a+)+$", "(?=x)", "\\1", "\\b", "include:", "../", "/etc/passwd", "%TAG",
    ]
)  # fmt: skip
HOSTILE_TEXT = st.one_of(st.text(max_size=60), st.lists(HOSTILE, max_size=30).map("".join)).filter(
    lambda s: "\x00" not in s
)


def _load(path: Path) -> LoadedWatchlist | None:
    """Load ``path``; only WatchlistError (with positioned problems) may come out."""
    try:
        loaded = load_watchlist(path)
    except WatchlistError as exc:
        for problem in exc.problems:
            assert problem.line >= 1 and problem.col >= 1 and problem.message
        return None
    compile_watchlist(loaded)
    return loaded


def _anchored_yaml(draw: st.DrawFn) -> str:
    """A YAML document built from anchors, aliases and merge keys over watch-list keys."""
    anchors: list[str] = []
    lines = []
    for i in range(draw(st.integers(1, 6))):
        values = draw(
            st.lists(st.sampled_from(["spy", "x", "*a0", "*a1", "[*a0, *a0]"]), max_size=5)
        )
        values = [v for v in values if not v.startswith("*") or v[1:] in anchors]
        lines.append(f"k{i}: &a{i} [{', '.join(values)}]")
        anchors.append(f"a{i}")
    refs = ", ".join(f"*{a}" for a in anchors)
    lines.append(f"concepts: {{c: {{terms: {{en: [{refs}]}}}}}}")
    lines.append("rules: [{id: r, title: t, all: [concept:c]}]")
    return "\n".join(lines) + "\n"


@SETTINGS
@given(st.data())
def test_loader_on_anchor_structures(tmp_path: Path, data: st.DataObject) -> None:
    """Documents made of anchors and aliases load or raise WatchlistError, quickly."""
    path = tmp_path / "w.yaml"
    path.write_text(data.draw(st.composite(_anchored_yaml)()), encoding="utf-8")
    _load(path)


@SETTINGS
@given(
    alias=HOSTILE_TEXT,
    term=HOSTILE_TEXT,
    regex=st.one_of(HOSTILE_TEXT, st.sampled_from(["(a+)+$", "(x|x)*y", r"(\w+\s?)+ cve"])),
    include=HOSTILE_TEXT,
    key=HOSTILE_TEXT,
)
def test_loader_on_hostile_values(
    tmp_path: Path, alias: str, term: str, regex: str, include: str, key: str
) -> None:
    """Hostile strings in every place of a watch-list (aliases, terms, regexes, include
    paths, keys) give a loaded list or WatchlistError; never another exception."""
    doc = {
        "include": [include],
        "entities": {"e": {"aliases": [alias, "Alibaba"]}},
        "concepts": {"c": {"terms": {"en": [term, f"regex:{regex}"]}}},
        "rules": [{"id": "r", "title": "t", "all": ["entity:e", "concept:c"], key: 1}],
    }
    path = tmp_path / "w.yaml"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8", errors="surrogatepass")
    _load(path)


@SETTINGS
@given(raw=st.binary(max_size=300))
def test_loader_on_arbitrary_bytes(tmp_path: Path, raw: bytes) -> None:
    """Arbitrary bytes (invalid UTF-8, NUL, BOMs) load or raise WatchlistError."""
    path = tmp_path / "w.yaml"
    path.write_bytes(raw)
    _load(path)


@pytest.fixture(scope="module")
def names(tmp_path_factory: pytest.TempPathFactory) -> CompiledWatchlist:
    """Latin and Cyrillic aliases, and a regex rule."""
    path = tmp_path_factory.mktemp("hostile") / "w.yaml"
    path.write_text(
        "entities:\n"
        "  a: {aliases: [Alibaba, Huawei, Hopa]}\n"
        "  b: {aliases: [Газпром]}\n"
        "rules:\n"
        "  - {id: r, title: t, any: [entity:a, entity:b], within: sentence}\n"
        "  - {id: x, title: t, all: ['regex:(\\w+\\s?)+ cve'], within: article}\n",
        encoding="utf-8",
    )
    return compile_watchlist(load_watchlist(path))


@SETTINGS
@given(
    body=st.lists(
        st.one_of(HOSTILE, st.sampled_from(["Аlibaba", "Нора", " ", "cve"])), max_size=60
    ).map("".join),
    lang=st.sampled_from([None, "en", "ru", "el", "xx"]),
)
def test_matcher_on_homoglyph_text(names: CompiledWatchlist, body: str, lang: str | None) -> None:
    """Homoglyph-laden text never crashes the matcher; evidence is the exact source slice."""
    enriched = build_enriched("x", "", body, lang)
    for m in match_text(names, "x", "", body, lang):
        for ev in m.evidence:
            assert enriched.clean_text[ev.start : ev.end] == ev.surface
