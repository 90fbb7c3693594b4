"""Issue 15.2: the fast scan for special characters finds exactly what the full regex finds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.watchlist.text import _SPECIAL, _specials, normalize_text

#: characters around every edge of ``_SPECIAL``: spaces, ASCII and Unicode whitespace,
#: controls, removable marks, combining marks, non-ASCII letters, wide characters
EDGY = [
    *"ab .,-'",
    "  ",
    "\t",
    "\n",
    "\r",
    "\x0b",
    "\x1c",
    "\x1f",
    "\x00",
    "\x7f",
    "\xa0",
    "\u2009",
    "\u3000",
    "\u2028",
    "\u00ad",
    "\u200b",
    "\ufeff",
    "\U000e0001",
    "\u0301",
    "é",
    "ß",
    "Ａ",
    "ж",
    "中",
]


def _scan(matches: object) -> list[tuple[tuple[int, int], str | None]]:
    return [(m.span(), m.lastgroup) for m in matches]  # type: ignore[attr-defined]


@settings(max_examples=3000, deadline=None)
@given(parts=st.lists(st.sampled_from(EDGY), max_size=40))
def test_same_matches_as_the_full_regex_on_edge_characters(parts: list[str]) -> None:
    """Spans and kinds equal ``_SPECIAL.finditer`` on texts built from the edge characters."""
    text = "".join(parts)
    assert _scan(_specials(text)) == _scan(_SPECIAL.finditer(text))


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=300))
def test_same_matches_as_the_full_regex_on_any_text(text: str) -> None:
    """Spans and kinds equal ``_SPECIAL.finditer`` on arbitrary Unicode text."""
    assert _scan(_specials(text)) == _scan(_SPECIAL.finditer(text))


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("plain words only", []),
        ("two  spaces", [(3, 5)]),
        ("space \ttab", [(5, 7)]),
        ("tab\there", [(3, 4)]),
        ("lone \xa0nbsp", [(4, 6)]),
        ("end space ", []),
        ("end two  ", [(7, 9)]),
        ("Caf\u00e9 e\u0301", [(3, 4), (6, 7)]),
        ("soft\u00adhyphen", [(4, 5)]),
    ],
)
def test_known_matches(text: str, spans: list[tuple[int, int]]) -> None:
    """Hand-checked cases: double spaces, a space before other whitespace, non-ASCII runs."""
    assert [m.span() for m in _specials(text)] == spans


def test_normalized_view_unchanged() -> None:
    """The normalized text and its offset map are what the documented rules give."""
    view = normalize_text("A  Caf\u00e9\tSpio\u00adnage \u2019s\n\nEnd")
    assert view.text == "a café spionage 's end"
    assert view.span(2, 6) == (3, 7) and view.span(7, 15) == (8, 17)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from([*"aB .,'-", "\t", "\xa0", "é"]), max_size=60),
    cut=st.integers(min_value=0, max_value=60),
)
def test_lemma_gaps_normalize_like_the_whole_text(text: str, cut: int) -> None:
    """A lemma replacing a plain word leaves the normalization of the gaps around it as is."""
    cut = min(cut, len(text))
    source = text[:cut] + " Word " + text[cut:]
    start = cut + 1
    lemma_view = normalize_text(source, [(start, start + 4, "word")])
    assert lemma_view.text == normalize_text(source).text


def test_plain_ascii_maps_one_to_one() -> None:
    """Printable ASCII without double spaces is only lower-cased, offsets unchanged."""
    view = normalize_text("Plain ASCII, one-to-one (ok).")
    assert view.text == "plain ascii, one-to-one (ok)."
    assert view.span(6, 11) == (6, 11) and view.span(0, 29) == (0, 29)
