"""The normalized views build their offset map on first use: same text, same spans."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.watchlist.text import normalize_mapped, normalize_text

SETTINGS = settings(max_examples=300, deadline=None)

CHARS = st.sampled_from(
    [
        "a", "B", "z", " ", "  ", "\n", "\t", "\xa0", "\u00ad", "\u200b", "\x01", "\x7f",
        "e\u0301", "\u0301", "ß", "İ", "ﬁ", "Ａ", "’", "\u2010", "é", "ş", "中", "я", ".", "-",
    ]
)  # fmt: skip
TEXTS = st.one_of(st.lists(CHARS, max_size=40).map("".join), st.text(max_size=40))


@st.composite
def _replacements(draw: st.DrawFn, text: str) -> list[tuple[int, int, str]]:
    """Sorted token ranges with lemmas; some overlap or run past the end, as bad input may."""
    size = len(text)
    points = sorted(draw(st.lists(st.integers(0, size + 2), max_size=12)))
    lemmas = st.one_of(TEXTS, st.sampled_from(["go", "Mouse", " x  y ", "", "straße"]))
    return [(a, b, draw(lemmas)) for a, b in zip(points[::2], points[1::2], strict=False)]


def _same(text: str, replacements: list[tuple[int, int, str]] | None) -> None:
    lazy = normalize_text(text, replacements)
    eager = normalize_mapped(text, replacements)
    assert lazy.text == eager.text
    n = len(lazy.text)
    for i in range(n):
        for j in range(i + 1, min(n, i + 6) + 1):
            assert lazy.span(i, j) == eager.span(i, j)


@SETTINGS
@given(TEXTS)
def test_surface_view_maps_like_the_eager_build(text: str) -> None:
    """Without replacements: the text and every span equal the eagerly built view's."""
    _same(text, None)


@SETTINGS
@given(st.data())
def test_lemma_view_maps_like_the_eager_build(data: st.DataObject) -> None:
    """With replacements (lemmas): the text and every span equal the eagerly built view's."""
    text = data.draw(TEXTS)
    _same(text, data.draw(_replacements(text)))


def test_map_is_built_once_on_first_span() -> None:
    """The first span builds the map from the source; later calls reuse it."""
    view = normalize_text("Der  Spio\u00adnage-Fall", [(5, 14, "spionage")])
    assert view.text == "der spionage-fall"
    first = view.span(4, 12)
    assert first == (5, 14) and view.span(4, 12) == first
